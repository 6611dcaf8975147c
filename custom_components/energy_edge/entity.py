"""The base of Energy Edge's entities: naming, device and availability in one place.

Platforms add per-device entities through `async_track_device_entities`: it creates them when a
device appears (on Z2M's own HA device once MQTT has registered it), retires those a device no
longer needs, and keeps those of devices Z2M no longer has as stale, unavailable entities (the user
may delete them; a device that left the network is removed by the hub). A switchable load's settings
(priority, managed flag) are `LoadSettingEntity`s, one per load (`async_track_load_settings`).
"""

from collections.abc import Callable, Iterable
from functools import partial

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntry, DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from zigbee2mqtt_protocol.discovery import ZIGBEE2MQTT_IDENTIFIER_PREFIX

from .const import DOMAIN, MQTT_DOMAIN
from .engines.devices import EnergyDevice
from .hub import EnergyEdgeHub
from .load_control import LoadController, is_switchable_load

HUB_DEVICE_NAME = "Energy Edge"


class EnergyEdgeEntity(Entity):
    """An entity of the hub device, or of a Zigbee device (shared with Z2M's own entities)."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _last_available: bool | None = None  # written when it changes, not on every hub event

    def __init__(
        self,
        hub: EnergyEdgeHub,
        description: EntityDescription,
        device: EnergyDevice | None,
        z2m_device: DeviceEntry | None = None,
    ) -> None:
        """Attach to the hub device, to Z2M's own HA device, or to a device of Energy Edge.

        Z2M's device belongs to the MQTT entry: entities join it through `device_entry`. Without
        Z2M's HA discovery there is no such device, and Energy Edge registers one of its own.
        """
        self.hub = hub
        self.entity_description = description
        self.ieee = device.ieee if device else None
        if device is None:
            entry_id = hub.entry.entry_id
            self._attr_unique_id = f"{entry_id}_{description.key}"
            self._attr_device_info = DeviceInfo(
                identifiers={(DOMAIN, entry_id)},
                name=HUB_DEVICE_NAME,
                manufacturer=HUB_DEVICE_NAME,
                model="Zigbee2MQTT energy hub",
                entry_type=DeviceEntryType.SERVICE,
            )
        elif z2m_device is not None:
            self._attr_unique_id = f"{device.ieee}_{description.key}_{DOMAIN}"
            self.device_entry = z2m_device
        else:
            self._attr_unique_id = f"{device.ieee}_{description.key}_{DOMAIN}"
            self._attr_device_info = DeviceInfo(
                identifiers={(DOMAIN, device.ieee)},
                name=device.friendly_name,
                manufacturer=device.description.manufacturer,
                model=device.description.model,
                model_id=device.description.model_id,
            )

    @property
    def available(self) -> bool:
        """A device's entities follow Z2M and the device; the hub's follow Z2M."""
        if self.ieee is None:
            return self.hub.bridge_online is not False
        return self.hub.device_available(self.ieee)

    async def async_added_to_hass(self) -> None:
        """Follow availability changes."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_change_listener(self._on_hub_change))

    @callback
    def _on_hub_change(self) -> None:
        if self.available != self._last_available:
            self._last_available = self.available
            self.async_write_ha_state()


class EnergyEdgeDeviceEntity(EnergyEdgeEntity):
    """An entity of one Zigbee device, keyed by IEEE address: renames keep it and its history."""

    def __init__(
        self,
        hub: EnergyEdgeHub,
        description: EntityDescription,
        device: EnergyDevice,
        z2m_device: DeviceEntry | None,
        forget: Callable[[], None],
    ) -> None:
        """`forget` tells the platform this entity is gone (it may be created again)."""
        super().__init__(hub, description, device, z2m_device)
        self.device_ieee = device.ieee
        self._forget = forget

    async def async_will_remove_from_hass(self) -> None:
        """Let the platform create the entity again if the device comes back."""
        self._forget()
        await super().async_will_remove_from_hass()

    @callback
    def async_registry_entry_updated(self) -> None:
        """The user deleted the Z2M device this entity was on: the entity goes with it."""
        device = self.hub.device(self.device_ieee)
        entry = self.registry_entry
        if entry is not None and entry.device_id is None and (device is None or not device.present):
            er.async_get(self.hass).async_remove(self.entity_id)


type DeviceEntityFactory = Callable[
    [EnergyDevice, str, DeviceEntry | None, Callable[[], None]], EnergyEdgeDeviceEntity
]


@callback
def async_track_device_entities(
    hass: HomeAssistant,
    entry: ConfigEntry,
    hub: EnergyEdgeHub,
    platform: Platform,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    keys_for: Callable[[EnergyDevice], Iterable[str]],
    create: DeviceEntityFactory,
) -> None:
    """Keep a platform's per-device entities in step with the hub's energy devices.

    `keys_for(device)` names the entities a device should have (each key a description key);
    `create(device, key, z2m_device, forget)` builds one. Unique ids are `<ieee>_<key>_energy_edge`.
    """
    created: set[tuple[str, str]] = set()

    @callback
    def offer(devices: list[EnergyDevice]) -> None:
        wanted = {(device.ieee, key): device for device in devices for key in keys_for(device)}
        new: list[EnergyEdgeDeviceEntity] = []
        for (ieee, key), device in wanted.items():
            if (ieee, key) in created:
                continue
            z2m_device = z2m_device_entry(hass, ieee)
            if z2m_device is None and device.discovered:
                hub.async_request_entities()  # MQTT has not registered Z2M's device yet
                continue
            new.append(create(device, key, z2m_device, partial(created.discard, (ieee, key))))
            created.add((ieee, key))
        if new:
            async_add_entities(new)
        registry = er.async_get(hass)
        present = {device.ieee for device in devices}
        for ieee, key in list(created):
            if (ieee, key) in wanted or ieee not in present:
                continue  # absent devices keep their entities: they become stale, not lost
            created.discard((ieee, key))
            entity_id = registry.async_get_entity_id(platform, DOMAIN, f"{ieee}_{key}_{DOMAIN}")
            if entity_id is not None:
                registry.async_remove(entity_id)

    entry.async_on_unload(hub.async_add_entity_adder(offer))


class LoadSettingEntity(EnergyEdgeDeviceEntity):
    """A switchable load's shedding setting (priority, managed flag), stored by the controller."""

    def __init__(
        self,
        loads: LoadController,
        description: EntityDescription,
        device: EnergyDevice,
        z2m_device: DeviceEntry | None,
        forget: Callable[[], None],
    ) -> None:
        """A setting of the load's device."""
        super().__init__(loads.hub, description, device, z2m_device, forget)
        self._loads = loads
        self._shown = loads.setting(device.ieee)

    @property
    def available(self) -> bool:
        """A setting, whatever the device's reachability, while Z2M has the device (as one of
        the energy devices)."""
        device = self.hub.device(self.device_ieee)
        return device is not None and device.managed

    async def async_added_to_hass(self) -> None:
        """Follow the setting wherever it is changed (this entity, the Loads form, a repair)."""
        await super().async_added_to_hass()
        self.async_on_remove(self._loads.async_add_settings_listener(self._on_setting))

    @callback
    def _on_setting(self) -> None:
        setting = self._loads.setting(self.device_ieee)
        if setting != self._shown:
            self._shown = setting
            self.async_write_ha_state()


@callback
def async_track_load_settings(
    hass: HomeAssistant,
    entry: ConfigEntry,
    loads: LoadController,
    platform: Platform,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    description: EntityDescription,
    entity_class: type[LoadSettingEntity],
) -> None:
    """One setting entity per switchable load, as loads come and go."""

    def create(
        device: EnergyDevice, _key: str, z2m_device: DeviceEntry | None, forget: Callable[[], None]
    ) -> LoadSettingEntity:
        return entity_class(loads, description, device, z2m_device, forget)

    async_track_device_entities(
        hass,
        entry,
        loads.hub,
        platform,
        async_add_entities,
        keys_for=lambda device: [description.key] if is_switchable_load(device) else [],
        create=create,
    )


def z2m_device_entry(hass: HomeAssistant, ieee: str) -> DeviceEntry | None:
    """The HA device that MQTT discovery made for a Z2M device, if any."""
    found = dr.async_get(hass).async_get_devices(
        identifiers={(MQTT_DOMAIN, f"{ZIGBEE2MQTT_IDENTIFIER_PREFIX}{ieee}")}
    )
    return found[0] if found else None
