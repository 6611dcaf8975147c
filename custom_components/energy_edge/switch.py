"""Each switchable load's "managed" switch: Energy Edge may shed it only once the user opts in."""

from collections.abc import Callable
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import EnergyEdgeConfigEntry, EnergyEdgeData
from .devices import EnergyDevice
from .entity import EnergyEdgeDeviceEntity, async_track_device_entities
from .load_control import is_switchable_load

PARALLEL_UPDATES = 0

MANAGED = SwitchEntityDescription(
    key="managed", translation_key="managed", entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyEdgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A managed switch for each switchable load, as loads come and go."""
    data = entry.runtime_data

    def create(
        device: EnergyDevice,
        _key: str,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> ManagedSwitch:
        return ManagedSwitch(data, device, z2m_device, forget)

    async_track_device_entities(
        hass,
        entry,
        data.hub,
        Platform.SWITCH,
        async_add_entities,
        keys_for=lambda device: [MANAGED.key] if is_switchable_load(device) else [],
        create=create,
    )


class ManagedSwitch(EnergyEdgeDeviceEntity, SwitchEntity):
    """Whether Energy Edge may shed this load (off until the user opts in; stored)."""

    def __init__(
        self,
        data: EnergyEdgeData,
        device: EnergyDevice,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> None:
        """A setting of the load's device."""
        super().__init__(data.hub, MANAGED, device, z2m_device, forget)
        self._loads = data.loads

    @property
    def available(self) -> bool:
        """A setting, whatever the device's reachability."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether the load is managed."""
        return self._loads.setting(self.device_ieee).managed

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let Energy Edge shed the load when the home draws too much."""
        self._loads.set_load(self.device_ieee, managed=True)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Never shed the load automatically."""
        self._loads.set_load(self.device_ieee, managed=False)
        self.async_write_ha_state()
