"""The overload alarm: the measured load above the shed threshold (a problem)."""

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .data import EnergyEdgeConfigEntry, EnergyEdgeData
from .entity import EnergyEdgeEntity

PARALLEL_UPDATES = 0

OVERLOAD = BinarySensorEntityDescription(
    key="overload", translation_key="overload", device_class=BinarySensorDeviceClass.PROBLEM
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyEdgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the overload alarm to the hub device."""
    async_add_entities([OverloadSensor(entry.runtime_data)])


class OverloadSensor(EnergyEdgeEntity, BinarySensorEntity):
    """On while the home draws more than the shed threshold of its contract."""

    def __init__(self, data: EnergyEdgeData) -> None:
        """Name the entity id in English, whatever the language: dashboards rely on it."""
        super().__init__(data.hub, OVERLOAD, None)
        self.entity_id = f"binary_sensor.{DOMAIN}_{OVERLOAD.key}"
        self._loads = data.loads

    async def async_added_to_hass(self) -> None:
        """Follow shedding's decisions; on while the last reading is above the shed threshold."""
        await super().async_added_to_hass()
        self._attr_is_on = self._loads.status().overloaded
        self.async_on_remove(self._loads.async_add_listener(self._on_change))

    @callback
    def _on_change(self) -> None:
        """Shedding's listeners hear every decision: the state is written when it flips."""
        overloaded = self._loads.status().overloaded
        if overloaded != self._attr_is_on:
            self._attr_is_on = overloaded
            self.async_write_ha_state()
