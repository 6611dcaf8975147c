"""Diagnostics show the tariff in force, shedding's state and the planned runs."""

from datetime import timedelta

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .conftest import Clock, Zigbee2MQTT
from .household import LINKY, WATER_HEATER, paris, start


async def test_diagnostics_tell_the_tariff_shedding_and_plans(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_client: ClientSessionGenerator,
) -> None:
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [LINKY, WATER_HEATER],
        at=paris(2026, 1, 15, 18),
        tariff="tempo",
    )
    await hass.services.async_call(
        "energy_edge", "set_tempo_color", {"today": "white"}, blocking=True
    )
    await household.send(WATER_HEATER, state="ON", power=2000)
    await household.send(LINKY, apparent_power=2500, site_id="01234567890123")
    await hass.services.async_call(
        "energy_edge",
        "schedule_load",
        {
            "device_id": household.device_id(WATER_HEATER),
            "duration": {"hours": 1},
            "deadline": "2026-01-16 06:00",
        },
        blocking=True,
    )
    await household.travel(timedelta(seconds=1))
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, household.entry)
    assert diagnostics["tariff"] == {
        "kind": "tempo",
        "period": "hp_white",
        "price_per_kwh": 0.1921,  # the regulated white-day peak price from 1 August 2026
        "tempo_colors": {"2026-01-15": "white"},
        "meter_disagrees_with_off_peak_hours": {"raised": False, "last_disagreement": None},
    }
    shedding = diagnostics["shedding"]
    assert (shedding["contract_limit_va"], shedding["measured_va"]) == (6000.0, 2500.0)
    assert shedding["running_threshold_w"] == 10.0  # below it, a load is idle: never shed
    (load,) = shedding["loads"]
    assert (load["name"], load["control"], load["managed"]) == ("water_heater", "none", False)
    (run,) = diagnostics["planned_runs"]
    assert (run["load_id"], run["start"], run["started"]) == (
        WATER_HEATER.ieee,
        "2026-01-15T21:00:00+00:00",
        False,
    )
    assert "01234567890123" not in str(diagnostics)


async def test_diagnostics_say_nothing_is_measured_before_the_meters_first_reading(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_client: ClientSessionGenerator,
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER], at=paris(2026, 1, 15))
    await household.send(WATER_HEATER, state="ON", power=2000)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, household.entry)
    shedding = diagnostics["shedding"]
    assert (shedding["measured_va"], shedding["meter_va"], shedding["measured_from"]) == (
        None,
        None,
        None,
    )
