"""The contract limit (VA): what shedding keeps the home under; the user may change it."""

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfApparentPower
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, MAX_LIMIT_VA, MIN_LIMIT_VA
from .data import EnergyEdgeConfigEntry, EnergyEdgeData
from .entity import EnergyEdgeEntity

PARALLEL_UPDATES = 0

CONTRACT_LIMIT = NumberEntityDescription(
    key="contract_limit",
    translation_key="contract_limit",
    device_class=NumberDeviceClass.APPARENT_POWER,
    native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
    native_min_value=MIN_LIMIT_VA,
    native_max_value=MAX_LIMIT_VA,
    native_step=1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyEdgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the contract limit to the hub device."""
    async_add_entities([ContractLimitNumber(entry.runtime_data)])


class ContractLimitNumber(EnergyEdgeEntity, NumberEntity):
    """The limit in force: set by the user, else the Linky's PREF/ISOUSC, else 6000 VA; never
    above the Linky's cut-off power (PCOUP)."""

    def __init__(self, data: EnergyEdgeData) -> None:
        """Name the entity id in English, whatever the language."""
        super().__init__(data.hub, CONTRACT_LIMIT, None)
        self.entity_id = f"number.{DOMAIN}_{CONTRACT_LIMIT.key}"
        self._loads = data.loads

    @property
    def available(self) -> bool:
        """A setting, whatever Zigbee2MQTT's state."""
        return True

    async def async_set_native_value(self, value: float) -> None:
        """The user's limit, kept in the options."""
        self._loads.set_contract_limit(value)

    async def async_added_to_hass(self) -> None:
        """Follow the limit (the meter may report its reference power later)."""
        await super().async_added_to_hass()
        self._attr_native_value = self._loads.engine.settings.contract_limit_va
        self.async_on_remove(self._loads.async_add_listener(self._on_change))

    @callback
    def _on_change(self) -> None:
        """Shedding's listeners hear every decision: the state is written when the limit moves."""
        limit_va = self._loads.engine.settings.contract_limit_va
        if limit_va != self._attr_native_value:
            self._attr_native_value = limit_va
            self.async_write_ha_state()
