"""Each switchable load's priority for shedding: critical (never shed), high, medium, low."""

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import EnergyEdgeConfigEntry
from .engines.shedding import Priority
from .entity import LoadSettingEntity, async_track_load_settings

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
    async_track_load_settings(
        hass,
        entry,
        entry.runtime_data.loads,
        Platform.SELECT,
        async_add_entities,
        description=PRIORITY,
        entity_class=PrioritySelect,
    )


class PrioritySelect(LoadSettingEntity, SelectEntity):
    """Which loads go first when the home draws too much (stored across restarts)."""

    @property
    def current_option(self) -> str:
        """The load's priority."""
        return self._loads.setting(self.device_ieee).priority.value

    async def async_select_option(self, option: str) -> None:
        """Change the load's priority."""
        self._loads.set_load(self.device_ieee, priority=Priority(option))
