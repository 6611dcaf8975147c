"""Runs leave room for the home's usual load at their hours, learned from the Linky, kept across
restarts, shown in diagnostics; a run's own load is not learned as the home's."""

from datetime import date, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_edge.engines.load_profile import MIN_DAYS, SLOTS_PER_DAY

from .conftest import Clock, Zigbee2MQTT
from .household import LINKY, WATER_HEATER, Household, paris, start
from .test_scheduling import HPHC, schedule

HALF_HOUR = timedelta(minutes=30)
FIRST_EVENING = date(2026, 1, 12)  # a Monday


async def evenings(household: Household, va: float, *, first: date, days: int) -> None:
    """The Linky reads `va` from 22:00 to midnight, evening after evening, and 1 kVA by day."""
    for offset in range(days):
        day = first + timedelta(days=offset)
        await household.travel_to(paris(day.year, day.month, day.day, 12))
        await household.send(LINKY, apparent_power=1000)
        for slot in range(4):
            evening = paris(day.year, day.month, day.day, 22) + slot * HALF_HOUR
            await household.travel_to(evening + timedelta(minutes=10))
            await household.send(LINKY, apparent_power=va)


async def at_first_evening(
    hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> Household:
    """Energy Edge installed on a Monday morning, on peak and off-peak hours (6 kVA)."""
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER], at=paris(2026, 1, 12, 8), **HPHC
    )
    await household.send(LINKY, apparent_power=800)
    return household


async def test_a_heavy_run_goes_after_the_usual_evening_load_and_remembers_it_after_a_restart(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """The car charges from 22:00 every evening (4 kVA): off-peak hours start then and are the
    cheapest, but 2.4 kW more would overload the 6 kVA contract: the water heater runs after."""
    household = await at_first_evening(hass, zigbee2mqtt, clock)
    await evenings(household, 4000, first=FIRST_EVENING, days=MIN_DAYS - 1)
    await household.travel_to(paris(2026, 1, 14, 18))
    answer = await schedule(
        household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-15 07:00", power_w=2400
    )
    assert answer["start"] == "2026-01-14T22:00:00+01:00"  # two evenings are not yet usual
    await hass.services.async_call(
        "energy_edge",
        "cancel_schedule",
        {"device_id": household.device_id(WATER_HEATER)},
        blocking=True,
    )

    await evenings(household, 4000, first=date(2026, 1, 14), days=1)
    await household.reload()
    await household.travel_to(paris(2026, 1, 15, 18))
    answer = await schedule(
        household, WATER_HEATER, duration={"hours": 2}, deadline="2026-01-16 07:00", power_w=2400
    )
    assert (answer["start"], answer["end"]) == (
        "2026-01-16T00:00:00+01:00",
        "2026-01-16T02:00:00+01:00",
    )


async def test_a_run_under_way_is_not_learned_as_the_home_s_load(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """Night after night the water heater (3.5 kW) runs from 22:00 on top of 1 kVA: its own
    load does not push the next night's run out of the cheapest hours."""
    household = await at_first_evening(hass, zigbee2mqtt, clock)
    for offset in range(MIN_DAYS + 1):
        day = FIRST_EVENING + timedelta(days=offset)
        await household.travel_to(paris(day.year, day.month, day.day, 18))
        answer = await schedule(
            household,
            WATER_HEATER,
            duration={"hours": 2},
            deadline=f"{day + timedelta(days=1)} 07:00",
            power_w=3500,
        )
        assert answer["start"] == f"{day}T22:00:00+01:00"
        await household.travel_to(paris(day.year, day.month, day.day, 22))
        await household.send(WATER_HEATER, state="ON", power=3500)
        for slot in range(4):
            await household.travel_to(
                paris(day.year, day.month, day.day, 22) + slot * HALF_HOUR + timedelta(minutes=5)
            )
            await household.send(LINKY, apparent_power=4500)
        await household.travel_to(paris(day.year, day.month, day.day, 23, 59))
        await household.send(WATER_HEATER, state="OFF", power=0)
    assert household.data.usual_load.profile.expected_va(44) == 1000  # 22:00: the home alone


async def test_no_room_left_by_the_usual_load_is_a_clear_translated_error(  # noqa: PLR0917
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_client: ClientSessionGenerator,
) -> None:
    """Learned before a restart: 5 kVA all day long leaves no room for a 2.4 kW run."""
    household = await at_first_evening(hass, zigbee2mqtt, clock)
    key = f"energy_edge.{household.entry.entry_id}.load_profile"
    await household.stop()
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {"days": {f"2026-01-0{day}": [5000.0] * SLOTS_PER_DAY for day in range(1, 8)}},
    }
    await household.restart()
    await household.send(LINKY, apparent_power=900)
    with pytest.raises(ServiceValidationError) as refused:
        await schedule(
            household,
            WATER_HEATER,
            duration={"hours": 2},
            deadline="2026-01-13 07:00",
            power_w=2400,
        )
    assert refused.value.translation_key == "no_feasible_window"
    assert "usual load" in str(refused.value)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, household.entry)
    usual = diagnostics["usual_load"]
    assert (usual["slots_known"], usual["highest_expected_va"]) == (SLOTS_PER_DAY, 5000.0)
    assert usual["expected_va"]["22:00"] == 5000.0
    assert usual["days_observed"][-1] == "2026-01-12"  # today's readings are learned too
