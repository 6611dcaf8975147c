"""Each switchable load's "managed" switch: Energy Edge may shed it only once the user opts in."""

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import EnergyEdgeConfigEntry
from .entity import LoadSettingEntity, async_track_load_settings

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
    async_track_load_settings(
        hass,
        entry,
        entry.runtime_data.loads,
        Platform.SWITCH,
        async_add_entities,
        description=MANAGED,
        entity_class=ManagedSwitch,
    )


class ManagedSwitch(LoadSettingEntity, SwitchEntity):
    """Whether Energy Edge may shed this load (off until the user opts in; stored)."""

    @property
    def is_on(self) -> bool:
        """Whether the load is managed."""
        return self._loads.setting(self.device_ieee).managed

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Let Energy Edge shed the load when the home draws too much."""
        self._loads.set_load(self.device_ieee, managed=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Never shed the load automatically."""
        self._loads.set_load(self.device_ieee, managed=False)
