"""The options flow: tariff and prices, Tempo colour entities, contract power and shedding;
what is saved is what Energy Edge then runs with."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.tariff import TariffKind

from .conftest import Clock, Zigbee2MQTT, finish_options, setup_energy_edge
from .household import WATER_HEATER, paris, start


async def test_off_peak_prices_hours_and_shedding_are_saved_and_used(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 12))
    entry = household.entry
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"main_meter": "automatic", "tariff": "hphc", "subscription_per_month": 16.11},
    )
    assert result["step_id"] == "hphc"
    assert set(result["data_schema"].schema) == {"hp_price", "hc_price", "off_peak_ranges"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"hp_price": 0.25, "hc_price": 0.15, "off_peak_ranges": "22h-6h"},
    )
    assert result["errors"] == {"off_peak_ranges": "invalid_off_peak_ranges"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"hp_price": 0.25, "hc_price": 0.15, "off_peak_ranges": "02:00-07:00, 13:00-16:00"},
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
        {"main_meter": "automatic", "tariff": "tempo", "subscription_per_month": 0},
        {"hp_red_price": 0.7, "tempo_today_entity": "sensor.rte_today"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["tempo_today_entity"] == "sensor.rte_today"
    assert entry.options["hp_red_price"] == 0.7
    assert entry.options["hc_blue_price"] == 0.1288  # the default was offered and kept

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


async def test_base_is_the_default_tariff(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 12))
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "base"
    result = await finish_options(hass, result, {"base_price": 0.3})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert household.entry.options["base_price"] == 0.3
    assert household.entry.options["contract_limit_va"] == 0  # automatic
    await hass.async_block_till_done()


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


async def test_an_entry_from_before_the_options_runs_with_the_defaults(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    entry = await setup_energy_edge(hass, main_meter="")
    data = entry.runtime_data
    assert data.pricing.tariff.kind is TariffKind.BASE
    assert data.loads.engine.settings.contract_limit_va == 6000
