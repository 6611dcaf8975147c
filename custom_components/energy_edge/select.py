"""Each switchable load's priority for shedding: critical (never shed), high, medium, low."""

from collections.abc import Callable

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import EnergyEdgeConfigEntry, EnergyEdgeData
from .devices import EnergyDevice
from .entity import EnergyEdgeDeviceEntity, async_track_device_entities
from .load_control import is_switchable_load
from .shedding import Priority

PARALLEL_UPDATES = 0

PRIORITY = SelectEntityDescription(
    key="priority",
    translation_key="priority",
    options=[priority.value for priority in Priority],
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyEdgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A priority for each switchable load, as loads come and go."""
    data = entry.runtime_data

    def create(
        device: EnergyDevice,
        _key: str,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> PrioritySelect:
        return PrioritySelect(data, device, z2m_device, forget)

    async_track_device_entities(
        hass,
        entry,
        data.hub,
        Platform.SELECT,
        async_add_entities,
        keys_for=lambda device: [PRIORITY.key] if is_switchable_load(device) else [],
        create=create,
    )


class PrioritySelect(EnergyEdgeDeviceEntity, SelectEntity):
    """Which loads go first when the home draws too much (stored across restarts)."""

    def __init__(
        self,
        data: EnergyEdgeData,
        device: EnergyDevice,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> None:
        """A setting of the load's device."""
        super().__init__(data.hub, PRIORITY, device, z2m_device, forget)
        self._loads = data.loads

    @property
    def available(self) -> bool:
        """A setting, whatever the device's reachability."""
        return True

    @property
    def current_option(self) -> str:
        """The load's priority."""
        return self._loads.setting(self.device_ieee).priority.value

    async def async_select_option(self, option: str) -> None:
        """Change the load's priority."""
        self._loads.set_load(self.device_ieee, priority=Priority(option))
        self.async_write_ha_state()
