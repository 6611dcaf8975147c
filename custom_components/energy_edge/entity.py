"""The base of Energy Edge's entities: naming, device and availability in one place."""

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntry, DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN
from .devices import EnergyDevice
from .hub import EnergyEdgeHub

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
