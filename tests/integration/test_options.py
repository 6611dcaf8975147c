"""The options flow: tariff and prices, Tempo colour entities, contract power and shedding;
what is saved is what Energy Edge then runs with."""

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.engines.tariff import TariffKind

from .conftest import Clock, Zigbee2MQTT, finish_options, setup_energy_edge
from .household import WATER_HEATER, paris, start

PRICE = "sensor.energy_edge_current_price"
# The regulated tariff in force from 1 August 2026 (EUR TTC/kWh), from the regulator's grid.
BASE_3_TO_6_KVA, BASE_9_TO_36_KVA, HP_2026, HC_2026, HC_BLUE_2026 = (
    0.2001,
    0.1985,
    0.2142,
    0.1589,
    0.1356,
)


def fields(result: Any) -> set[str]:
    """The fields a form asks for."""
    return {str(key) for key in result["data_schema"].schema}


async def test_off_peak_prices_hours_and_shedding_are_saved_and_used(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 12))
    entry = household.entry
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "main_meter": "automatic",
            "tariff": "hphc",
            "price_source": "own",
            "subscribed_kva": "9",
            "subscription_per_month": 16.11,
        },
    )
    assert result["step_id"] == "hphc"
    assert fields(result) == {
        "hp_price",
        "hc_price",
        "off_peak_ranges_winter",
        "off_peak_ranges_summer",
    }
    winter, summer = "02:00-07:00, 13:00-16:00", "02:00-07:00, 11:00-14:00"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "hp_price": 0.25,
            "hc_price": 0.15,
            "off_peak_ranges_winter": "22h-6h",
            "off_peak_ranges_summer": "01:00-02:00, 03:00-04:00, 05:00-06:00, 12:00-13:00",
        },
    )
    assert result["errors"] == {
        "off_peak_ranges_winter": "invalid_off_peak_ranges",
        "off_peak_ranges_summer": "too_many_off_peak_ranges",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "hp_price": 0.25,
            "hc_price": 0.15,
            "off_peak_ranges_winter": winter,
            "off_peak_ranges_summer": summer,
        },
    )
    assert result["step_id"] == "shedding"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "contract_limit_va": 9000,
            "shed_threshold_pct": 100,
            "shed_delay_s": 5,
            "restore_threshold_pct": 100,
            "restore_delay_s": 60,
            "min_off_time_min": 5,
        },
    )
    assert result["errors"] == {"base": "restore_above_shed"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "contract_limit_va": 9000,
            "shed_threshold_pct": 100,
            "shed_delay_s": 5,
            "restore_threshold_pct": 70,
            "restore_delay_s": 120,
            "min_off_time_min": 10,
            "running_threshold_w": 40,
        },
    )
    assert result["step_id"] == "loads"  # the water heater's settings, left as they are
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await household.settle()
    tariff = household.data.pricing.tariff
    assert tariff.kind is TariffKind.HPHC
    assert tariff.subscription_per_month == 16.11
    assert [str(r) for r in tariff.off_peak_ranges] == ["02:00-07:00", "13:00-16:00"]
    assert [str(r) for r in tariff.summer_off_peak_ranges] == ["02:00-07:00", "11:00-14:00"]
    assert household.entry.options["subscribed_kva"] == 9
    settings = household.data.loads.engine.settings
    assert (settings.contract_limit_va, settings.restore_threshold_pct) == (9000, 70)
    assert settings.shed_delay.total_seconds() == 5
    assert settings.min_off_time.total_seconds() == 600
    assert settings.running_threshold_w == 40
    assert household.number("sensor.energy_edge_current_price") == 0.25


async def test_tempo_prices_and_colour_entities_can_be_set_and_cleared(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 12))
    entry = household.entry
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await finish_options(
        hass,
        result,
        {
            "main_meter": "automatic",
            "tariff": "tempo",
            "price_source": "own",
            "subscribed_kva": "6",
            "subscription_per_month": 0,
        },
        {"hp_red_price": 0.7, "tempo_today_entity": "sensor.rte_today"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tempo_today_entity"] == "sensor.rte_today"
    assert entry.options["hp_red_price"] == 0.7
    assert entry.options["hc_blue_price"] == HC_BLUE_2026  # the default was offered and kept

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "tempo"
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested == {"tempo_today_entity": "sensor.rte_today", "tempo_tomorrow_entity": None}
    await finish_options(hass, result, {"hp_red_price": 0.7})  # the entity field left empty
    assert "tempo_today_entity" not in entry.options
    await hass.async_block_till_done()


async def test_base_at_regulated_prices_is_the_default_and_asks_for_no_price(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 9, 15, 12))
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"subscribed_kva": "12"}
    )
    assert result["step_id"] == "shedding"
    result = await finish_options(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    options = household.entry.options
    assert (options["tariff"], options["price_source"]) == ("base", "regulated")
    assert "base_price" not in options
    assert options["contract_limit_va"] == 0  # automatic
    await hass.async_block_till_done()
    await household.settle()
    assert household.number(PRICE) == BASE_9_TO_36_KVA


async def test_an_own_base_price_starts_from_the_regulated_one_of_the_subscribed_power(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 9, 15, 12))
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"price_source": "own", "subscribed_kva": "3"}
    )
    assert result["step_id"] == "base"
    (field,) = result["data_schema"].schema
    assert (str(field), field.default()) == ("base_price", BASE_3_TO_6_KVA)
    await finish_options(hass, result, {"base_price": 0.2154})
    await hass.async_block_till_done()
    await household.settle()
    assert household.number(PRICE) == 0.2154


async def test_regulated_off_peak_prices_ask_only_for_the_hours(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 9, 15, 12))
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff": "hphc", "price_source": "regulated"}
    )
    assert result["step_id"] == "hphc"
    assert fields(result) == {"off_peak_ranges_winter", "off_peak_ranges_summer"}
    await finish_options(hass, result, {"off_peak_ranges_summer": "02:00-07:00, 11:00-14:00"})
    await hass.async_block_till_done()
    await household.settle()
    assert household.number(PRICE) == HC_2026  # 12:00 in September: summer off-peak hours
    await household.travel_to(paris(2026, 9, 15, 14))
    assert household.number(PRICE) == HP_2026


async def test_own_prices_stay_when_the_options_are_saved_again(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """An entry from before the choice, with the prices of its supplier and one range of
    off-peak hours: its prices are its own and its hours serve both seasons."""
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 9, 15, 12),
        tariff="hphc",
        hp_price=0.2311,
        hc_price=0.1702,
        off_peak_ranges="23:00-07:00",
    )
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "hphc"
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults == {
        "hp_price": 0.2311,
        "hc_price": 0.1702,
        "off_peak_ranges_winter": "23:00-07:00",
        "off_peak_ranges_summer": "23:00-07:00",
    }
    await finish_options(hass, result)
    options = household.entry.options
    assert options["price_source"] == "own"
    assert "off_peak_ranges" not in options  # the seasons replace it
    await hass.async_block_till_done()
    await household.settle()
    assert household.number(PRICE) == 0.2311


async def test_options_that_cannot_work_stop_the_set_up_with_a_clear_error(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    entry = MockConfigEntry(
        domain="energy_edge",
        unique_id="zigbee2mqtt",
        data={"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"},
        options={"restore_threshold_pct": 120},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "restore threshold" in entry.reason

    # The error says to open the options: they open without the devices, and fix the entry.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await finish_options(hass, result, {}, {}, {"restore_threshold_pct": 50})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_an_entry_from_before_the_options_runs_with_the_defaults(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    entry = await setup_energy_edge(hass, main_meter="")
    data = entry.runtime_data
    assert data.pricing.tariff.kind is TariffKind.BASE
    assert data.loads.engine.settings.contract_limit_va == 6000
