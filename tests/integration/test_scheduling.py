"""Deferrable loads: the cheapest window before a deadline, switched on and off through MQTT,
kept across restarts, cancelled; clear errors when no run can be planned."""

import logging

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually
from .household import HEATER, LINKY, WATER_HEATER, Household, paris, start

HP, HC = 0.2081, 0.1635
HPHC = {"tariff": "hphc", "hp_price": HP, "hc_price": HC}


async def schedule(household: Household, device: z2m.Device, **data: object) -> dict[str, object]:
    """Call `energy_edge.schedule_load` as an automation does, and return its answer."""
    response = await household.hass.services.async_call(
        "energy_edge",
        "schedule_load",
        {"device_id": household.device_id(device), **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def at_six_pm(hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, clock: Clock) -> Household:
    """Thursday 15 January 2026, 18:00, on peak and off-peak hours; the water heater was seen
    drawing 2400 W."""
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER, HEATER], at=paris(2026, 1, 15, 18), **HPHC
    )
    await household.send(WATER_HEATER, state="ON", power=2400)
    await household.send(WATER_HEATER, state="OFF", power=0)
    await household.send(LINKY, apparent_power=1500)
    return household


async def test_a_run_is_planned_in_the_cheapest_window_and_carried_out(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    answer = await schedule(
        household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00:00"
    )
    assert answer == {
        "load": "water_heater",
        "start": "2026-01-15T22:00:00+01:00",
        "end": "2026-01-16T00:00:00+01:00",
        "power_w": 2400.0,
        "expected_cost": pytest.approx(round(2.4 * 2 * HC, 4)),
        "currency": "EUR",
        "prices_assumed": False,
    }
    next_run = household.entity_id(WATER_HEATER, "next_run")
    state = household.state(next_run)
    assert state.state == "2026-01-15T21:00:00+00:00"
    assert state.attributes["device_class"] == "timestamp"
    assert state.attributes["running"] is False

    await household.travel_to(paris(2026, 1, 15, 21, 59))
    assert not zigbee2mqtt.commands
    await household.travel_to(paris(2026, 1, 15, 22))
    assert await household.commands_for(WATER_HEATER, 1) == ["ON"]
    assert household.state(next_run).attributes["running"] is True
    await household.travel_to(paris(2026, 1, 16))
    assert await household.commands_for(WATER_HEATER, 2) == ["ON", "OFF"]
    assert household.state(next_run).state == "unknown"


async def test_a_second_run_leaves_room_under_the_contract_for_the_first(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """4 kW and 3 kW do not fit together in 6 kVA: the heater runs after the water heater."""
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    first = await schedule(
        household,
        WATER_HEATER,
        duration={"hours": 2},
        deadline="2026-01-16 07:00:00",
        power_w=4000,
    )
    second = await schedule(
        household, HEATER, duration="02:00:00", deadline="2026-01-16 07:00:00", power_w=3000
    )
    assert (first["start"], first["end"]) == (
        "2026-01-15T22:00:00+01:00",
        "2026-01-16T00:00:00+01:00",
    )
    assert (second["start"], second["end"]) == (
        "2026-01-16T00:00:00+01:00",
        "2026-01-16T02:00:00+01:00",
    )


async def test_a_new_plan_replaces_the_load_s_previous_one(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    await schedule(household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00")
    answer = await schedule(
        household, WATER_HEATER, duration={"hours": 1}, deadline="2026-01-15 20:00"
    )
    assert answer["start"] == "2026-01-15T18:00:00+01:00"  # peak only: as soon as possible
    assert await household.commands_for(WATER_HEATER, 1) == ["ON"]
    await household.travel_to(paris(2026, 1, 15, 23))  # the first plan is gone
    assert await household.commands_for(WATER_HEATER, 2) == ["ON", "OFF"]
    await household.travel_to(paris(2026, 1, 16, 1))
    assert await household.commands_for(WATER_HEATER, 2) == ["ON", "OFF"]


async def test_tempo_days_of_unknown_colour_are_priced_at_their_worst_and_flagged(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 1, 15, 12),
        tariff="tempo",
    )
    await hass.services.async_call(
        "energy_edge", "set_tempo_color", {"today": "blue"}, blocking=True
    )
    tonight = await schedule(
        household, WATER_HEATER, duration={"hours": 3}, deadline="2026-01-17 07:00", power_w=2000
    )
    assert tonight["start"] == "2026-01-15T22:00:00+01:00"
    assert tonight["prices_assumed"] is False
    # Twenty hours before Friday noon cannot all fit in Thursday's Tempo day (until 06:00):
    # Friday's colour is not known, so it is priced as red (a January weekday) and kept short.
    longer = await schedule(
        household, WATER_HEATER, duration={"hours": 20}, deadline="2026-01-16 12:00", power_w=2000
    )
    assert longer["prices_assumed"] is True
    assert (longer["start"], longer["end"]) == (
        "2026-01-15T12:00:00+01:00",
        "2026-01-16T08:00:00+01:00",
    )


async def test_a_run_survives_a_restart_and_ends_on_time(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    await schedule(household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00")
    await household.reload()
    next_run = household.entity_id(WATER_HEATER, "next_run")
    assert household.state(next_run).state == "2026-01-15T21:00:00+00:00"
    await household.travel_to(paris(2026, 1, 15, 22))
    assert await household.commands_for(WATER_HEATER, 1) == ["ON"]
    await household.travel_to(paris(2026, 1, 15, 23))
    await household.reload()  # under way: it goes on
    assert household.state(next_run).attributes["running"] is True
    await household.travel_to(paris(2026, 1, 16))
    assert await household.commands_for(WATER_HEATER, 2) == ["ON", "OFF"]


async def test_a_run_whose_end_passed_while_stopped_is_switched_off_at_start(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    await schedule(household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00")
    await household.travel_to(paris(2026, 1, 15, 22))
    assert await household.commands_for(WATER_HEATER, 1) == ["ON"]
    await household.stop()
    await household.travel_to(paris(2026, 1, 16, 3))
    await household.restart()
    assert await household.commands_for(WATER_HEATER, 2) == ["ON", "OFF"]
    assert household.state(household.entity_id(WATER_HEATER, "next_run")).state == "unknown"


async def test_a_run_missed_while_stopped_is_dropped_with_a_warning(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    await schedule(household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00")
    await household.stop()
    await household.travel_to(paris(2026, 1, 16, 3))
    with caplog.at_level(logging.WARNING):
        await household.restart()
    assert "was missed" in caplog.text
    assert not zigbee2mqtt.commands


async def test_a_run_that_should_have_started_while_stopped_starts_at_once(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    await schedule(household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00")
    await household.stop()
    await household.travel_to(paris(2026, 1, 15, 23))
    await household.restart()
    assert await household.commands_for(WATER_HEATER, 1) == ["ON"]
    await household.travel_to(paris(2026, 1, 16))  # ends as planned
    assert await household.commands_for(WATER_HEATER, 2) == ["ON", "OFF"]


async def test_cancelling_before_the_start_and_during_the_run(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    load = {"device_id": household.device_id(WATER_HEATER)}
    await schedule(household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00")
    await hass.services.async_call("energy_edge", "cancel_schedule", load, blocking=True)
    assert household.state(household.entity_id(WATER_HEATER, "next_run")).state == "unknown"
    await household.travel_to(paris(2026, 1, 15, 22, 30))
    assert not zigbee2mqtt.commands

    await schedule(household, WATER_HEATER, duration={"hours": 1}, deadline="2026-01-16 07:00")
    await household.travel_to(paris(2026, 1, 15, 23))
    assert await household.commands_for(WATER_HEATER, 1) == ["ON"]
    await hass.services.async_call("energy_edge", "cancel_schedule", load, blocking=True)
    assert await household.commands_for(WATER_HEATER, 2) == ["ON", "OFF"]

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call("energy_edge", "cancel_schedule", load, blocking=True)
    assert refused.value.translation_key == "no_schedule"
    assert str(refused.value) == "water_heater has no planned run"  # HA drops the period


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (
            {"duration": {"hours": 3}, "deadline": "2026-01-15 20:00"},
            "deadline_too_close",
            (
                "A run of 3:00:00 of water_heater cannot end by 2026-01-15T20:00:00+01:00: "
                "the deadline is too close"
            ),
        ),
        (
            {"duration": {"hours": 1}, "deadline": "2026-01-15 12:00"},
            "deadline_too_close",
            (
                "A run of 1:00:00 of water_heater cannot end by 2026-01-15T12:00:00+01:00: "
                "the deadline is too close"
            ),
        ),
        (
            {"duration": {"hours": 1}, "deadline": "2026-01-16 07:00", "power_w": 7000},
            "no_feasible_window",
            (
                "No window of 1:00:00 before 2026-01-16T07:00:00+01:00 leaves room for "
                "water_heater (7000 W) under the 6000 VA contract, with the home's usual load "
                "and the other planned runs at those hours"
            ),
        ),
        (  # a deadline months away once stalled Home Assistant for seconds
            {"duration": {"hours": 2}, "deadline": "2026-07-15 07:00"},
            "deadline_too_far",
            (
                "The deadline of water_heater's run, 2026-07-15T07:00:00+02:00, is more than a "
                "week away: plan it at most a week ahead"
            ),
        ),
        (
            {"duration": {"minutes": 0}, "deadline": "2026-01-16 07:00"},
            "invalid_request",
            "A run of water_heater needs a duration above zero",
        ),
    ],
)
async def test_a_run_that_cannot_be_planned_gets_a_clear_translated_error(  # noqa: PLR0917
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    data: dict[str, object],
    reason: str,
    message: str,
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    with pytest.raises(ServiceValidationError) as refused:
        await schedule(household, WATER_HEATER, **data)
    assert refused.value.translation_key == reason
    assert str(refused.value) == message
    assert household.state(household.entity_id(WATER_HEATER, "next_run")).state == "unknown"


async def test_a_load_never_seen_running_needs_its_power(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    with pytest.raises(ServiceValidationError) as refused:
        await schedule(household, HEATER, duration={"hours": 1}, deadline="2026-01-16 07:00")
    assert refused.value.translation_key == "power_unknown"
    assert "heater" in str(refused.value)
    answer = await schedule(
        household, HEATER, duration={"hours": 1}, deadline="2026-01-16 07:00", power_w=1500
    )
    assert answer["power_w"] == 1500.0


async def test_a_load_gone_from_zigbee2mqtt_before_its_run_is_not_switched(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    household = await at_six_pm(hass, zigbee2mqtt, clock)
    await schedule(household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00")
    zigbee2mqtt.withdraw_discovery(WATER_HEATER)
    zigbee2mqtt.bridge_devices([LINKY, HEATER])
    hub = household.data.hub
    await eventually(hass, lambda: not hub.device(WATER_HEATER.ieee).present)
    with caplog.at_level(logging.WARNING):
        await household.travel_to(paris(2026, 1, 15, 22))
        await eventually(hass, lambda: "Could not switch" in caplog.text)
    assert not zigbee2mqtt.commands
