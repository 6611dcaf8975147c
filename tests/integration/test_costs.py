"""Costs in Home Assistant: each increment at the price in force when consumed, the home's
subscription pro rata, Tempo energy waiting for its colour, nothing counted twice on restart."""

from datetime import UTC, timedelta

from homeassistant.core import HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.energy_edge.engines.costs import CostAccumulator

from .conftest import Clock, Zigbee2MQTT
from .household import HEATER, LINKY, WATER_HEATER, paris, start

HOME_COST = "sensor.energy_edge_home_cost"
HP, HC = 0.2081, 0.1635
HPHC = {"tariff": "hphc", "hp_price": HP, "hc_price": HC, "subscription_per_month": 15.5}
JANUARY_HOURS = 31 * 24


def subscription(hours: float, month_hours: float = JANUARY_HOURS) -> float:
    return 15.5 * hours / month_hours


async def test_a_device_s_energy_is_priced_at_the_period_it_was_consumed_in(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """2 kWh from 21:00 to 23:00: one hour at the peak price, one at the off-peak price."""
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 21), **HPHC
    )
    cost = household.entity_id(WATER_HEATER, "cost")
    state = household.state(cost)
    assert state.attributes["device_class"] == "monetary"
    assert state.attributes["state_class"] == "total"
    assert state.attributes["unit_of_measurement"] == "EUR"
    await household.send(WATER_HEATER, energy=10.0, power=1000, state="ON")
    await household.travel(timedelta(hours=2))
    await household.send(WATER_HEATER, energy=12.0, power=1000, state="ON")
    assert household.number(cost) == pytest.approx(HP + HC)
    assert household.state(cost).attributes["energy_kwh"] == pytest.approx(2.0)
    # Without a grid meter the home is its devices, plus the subscription since the start.
    assert household.number(HOME_COST) == pytest.approx(HP + HC + subscription(2), abs=1e-6)


async def test_the_home_cost_follows_the_grid_meter_not_the_devices(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, HEATER], at=paris(2026, 1, 15, 10), **HPHC
    )
    await household.send(LINKY, current_summ_delivered=5000.0, apparent_power=3000)
    await household.send(HEATER, energy=1.0, power=2000, state="ON")
    await household.travel(timedelta(hours=1))
    await household.send(LINKY, current_summ_delivered=5003.0, apparent_power=3000)
    await household.send(HEATER, energy=3.0, power=2000, state="ON")
    assert household.number(HOME_COST) == pytest.approx(3 * HP + subscription(1), abs=1e-6)
    assert household.number(household.entity_id(HEATER, "cost")) == pytest.approx(2 * HP)
    with pytest.raises(AssertionError):
        household.entity_id(LINKY, "cost")  # the grid meter's cost is the home's


async def test_the_subscription_counts_real_hours_across_the_autumn_change(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """From 01:00 CEST to 03:00 CET three hours pass: three hours of subscription."""
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 10, 25, 1),
        base_price=0.2,
        subscription_per_month=31.0,
    )
    await household.travel(timedelta(hours=3))
    assert household.clock.utc == paris(2026, 10, 25, 3).astimezone(UTC)
    await household.send(WATER_HEATER, energy=1.0, power=0, state="OFF")
    october_hours = 31 * 24 + 1  # the autumn change makes October an hour longer
    assert household.number(HOME_COST) == pytest.approx(31.0 * 3 / october_hours, abs=1e-6)


async def test_tempo_energy_waits_for_its_colour_then_is_priced(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 1, 15, 20),
        tariff="tempo",
        hp_white_price=0.18,
        hc_white_price=0.14,
    )
    cost = household.entity_id(WATER_HEATER, "cost")
    await household.send(WATER_HEATER, energy=0.0, power=1000, state="ON")
    await household.travel(timedelta(hours=3))  # two hours of peak, one of off-peak
    await household.send(WATER_HEATER, energy=3.0, power=1000, state="ON")
    assert household.number(cost) == 0
    assert household.state(cost).attributes["pending_energy_kwh"] == pytest.approx(3.0)
    await hass.services.async_call(
        "energy_edge", "set_tempo_color", {"today": "white"}, blocking=True
    )
    assert household.number(cost) == pytest.approx(2 * 0.18 + 0.14)
    assert household.state(cost).attributes["pending_energy_kwh"] == 0


async def test_costs_go_on_after_a_restart_without_counting_twice(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """The counter kept counting while Energy Edge was down: nothing of it is counted twice
    (the hub counts from the first reading after the restart, as the energy sensors do)."""
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 10), **HPHC
    )
    cost = household.entity_id(WATER_HEATER, "cost")
    await household.send(WATER_HEATER, energy=100.0, power=1000, state="ON")
    await household.travel(timedelta(hours=1))
    await household.send(WATER_HEATER, energy=101.0, power=1000, state="ON")
    assert household.number(cost) == pytest.approx(HP)
    home_before = household.number(HOME_COST)

    await household.reload()
    assert household.number(cost) == pytest.approx(HP)
    await household.travel(timedelta(hours=1))
    await household.send(WATER_HEATER, energy=102.0, power=1000, state="ON")  # new baseline
    assert household.number(cost) == pytest.approx(HP)
    await household.travel(timedelta(hours=1))
    await household.send(WATER_HEATER, energy=103.0, power=1000, state="ON")
    assert household.number(cost) == pytest.approx(2 * HP)
    assert household.number(HOME_COST) == pytest.approx(
        home_before + HP + subscription(2), abs=1e-6
    )


def _stored(cost: CostAccumulator) -> dict[str, object]:
    return {"native_value": cost.total_cost, "cost": cost.to_dict()}


async def test_costs_start_from_home_assistant_s_last_run(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """The stored pricing state is taken up; the subscription ran on while HA was stopped."""
    home = CostAccumulator(with_subscription=True, energy_cost=42.0)
    home.subscription_until = paris(2026, 1, 15, 8).astimezone(UTC)
    mock_restore_cache_with_extra_data(hass, [(State(HOME_COST, "42.0"), _stored(home))])
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 10), **HPHC
    )
    assert household.number(HOME_COST) == pytest.approx(42.0 + subscription(2), abs=1e-6)


@pytest.mark.parametrize(
    "extra",
    [
        {"native_value": 7.0},
        {"cost": {"version": 99}},
        {"cost": _stored(CostAccumulator(energy_cost=3.0))["cost"]},  # not a home's state
    ],
)
async def test_a_damaged_or_foreign_stored_cost_starts_from_zero(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    extra: dict[str, object],
) -> None:
    mock_restore_cache_with_extra_data(hass, [(State(HOME_COST, "7.0"), extra)])
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 10), **HPHC
    )
    assert household.number(HOME_COST) == 0


async def test_energy_reported_within_a_second_is_priced_all_the_same_and_kept_across_a_reload(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """A load reporting twice in a second (Z2M does on a state change) has all of its energy
    priced, also when Energy Edge is reloaded before pricing it."""
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 10), **HPHC
    )
    cost = household.entity_id(WATER_HEATER, "cost")
    await household.send(WATER_HEATER, energy=100.0, power=1000, state="ON")
    await household.travel(timedelta(hours=1))
    await household.send(WATER_HEATER, energy=101.0, power=1000, state="ON")
    await household.travel(timedelta(seconds=0.5))
    await household.send(WATER_HEATER, energy=101.5, power=1000, state="ON")
    await household.travel(timedelta(seconds=1))
    assert household.number(cost) == pytest.approx(1.5 * HP)
    assert household.state(cost).attributes["energy_kwh"] == pytest.approx(1.5)

    await household.travel(timedelta(seconds=10))
    await household.send(WATER_HEATER, energy=102.0, power=1000, state="ON")
    await household.travel(timedelta(seconds=0.5))
    await household.send(WATER_HEATER, energy=102.5, power=1000, state="ON")  # waits to be priced
    await household.reload()
    assert household.number(cost) == pytest.approx(2.5 * HP)
