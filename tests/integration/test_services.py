"""Every action with valid and invalid data: schemas refuse malformed calls, and refusals the
user can act on are translated `ServiceValidationError`s."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.engines.tariff import TempoColor
from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually, setup_energy_edge
from .household import FREEZER, LINKY, WATER_HEATER, Household, paris, start


async def call(hass: HomeAssistant, action: str, data: dict[str, Any]) -> None:
    await hass.services.async_call("energy_edge", action, data, blocking=True)


async def home(hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, clock: Clock) -> Household:
    """The water heater (low) and the freezer (critical) running, the Linky under the limit."""
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER, FREEZER], at=paris(2026, 1, 15, 12)
    )
    for device, priority in ((WATER_HEATER, "low"), (FREEZER, "critical")):
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": household.entity_id(device, "priority", "select"), "option": priority},
            blocking=True,
        )
        await household.send(device, state="ON", power=1000)
    await household.send(LINKY, apparent_power=3000)
    return household


async def test_set_tempo_color_takes_today_tomorrow_or_both_in_any_case(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 5), tariff="tempo"
    )
    colors = household.data.pricing.colors
    await call(hass, "set_tempo_color", {"today": "RED"})  # before 06:00: 14 January's day
    await call(hass, "set_tempo_color", {"tomorrow": "white"})
    assert {day.isoformat(): color for day, color in colors.items()} == {
        "2026-01-14": TempoColor.RED,
        "2026-01-15": TempoColor.WHITE,
    }
    await call(hass, "set_tempo_color", {"today": "blue", "tomorrow": "blue"})
    assert set(colors.values()) == {TempoColor.BLUE}
    await call(hass, "set_tempo_color", {"today": "blue"})  # told again: nothing changes
    assert set(colors.values()) == {TempoColor.BLUE}


@pytest.mark.parametrize(
    "data", [{}, {"today": "green"}, {"tomorrow": 3}, {"today": "red", "day": "monday"}]
)
async def test_set_tempo_color_refuses_what_is_not_a_colour(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    data: dict[str, Any],
) -> None:
    await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 12))
    with pytest.raises(vol.Invalid):
        await call(hass, "set_tempo_color", data)


async def test_actions_need_a_loaded_entry(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    entry = await setup_energy_edge(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "set_tempo_color", {"today": "red"})
    assert refused.value.translation_key == "not_loaded"
    with pytest.raises(ServiceValidationError):
        await call(hass, "set_power_limit", {"limit_va": 6000})


@pytest.mark.parametrize(
    ("action", "data", "reason"),
    [
        ("set_tempo_color", {"today": "red"}, "not_loaded"),
        ("restore_loads", {}, "not_loaded"),
        ("set_power_limit", {"limit_va": 6000}, "service_config_entry_not_loaded"),
        ("shed_load", {"device_id": "gone"}, "unknown_load"),
        (
            "schedule_load",
            {"device_id": "gone", "duration": "01:00", "deadline": "2030-01-01T06:00"},
            "unknown_load",
        ),
        ("cancel_schedule", {"device_id": "gone"}, "unknown_load"),
    ],
)
async def test_every_action_is_refused_with_a_reason_when_no_entry_is_loaded(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, action: str, data: dict[str, Any], reason: str
) -> None:
    """Nothing done is said, never silently skipped: each action raises a translated refusal."""
    entry = await setup_energy_edge(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, action, data)
    assert refused.value.translation_key == reason


async def test_set_power_limit_in_range_for_the_entry_named(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await home(hass, zigbee2mqtt, clock)
    await call(
        hass, "set_power_limit", {"limit_va": "9000", "config_entry_id": household.entry.entry_id}
    )
    assert household.data.loads.engine.settings.contract_limit_va == 9000
    for bad in ({"limit_va": 500}, {"limit_va": 200_000}, {"limit_va": "six"}, {}):
        with pytest.raises(vol.Invalid):
            await call(hass, "set_power_limit", bad)
    with pytest.raises(ServiceValidationError):
        await call(hass, "set_power_limit", {"limit_va": 6000, "config_entry_id": "nope"})
    assert household.data.loads.engine.settings.contract_limit_va == 9000


async def test_shed_load_turns_a_running_load_off_now(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """Even a load not managed: the user asked for it. It comes back by the usual rules."""
    household = await home(hass, zigbee2mqtt, clock)
    await call(hass, "shed_load", {"device_id": household.device_id(WATER_HEATER)})
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.send(WATER_HEATER, state="OFF", power=0)
    assert household.number("sensor.energy_edge_shed_loads") == 1
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "shed_load", {"device_id": household.device_id(WATER_HEATER)})
    assert refused.value.translation_key == "already_shed"
    assert str(refused.value) == "water_heater is already shed"

    await call(hass, "restore_loads", {"config_entry_id": household.entry.entry_id})
    assert await household.commands_for(WATER_HEATER, 2) == ["OFF", "ON"]
    await call(hass, "restore_loads", {})  # nothing left to restore: nothing happens
    assert await household.commands_for(WATER_HEATER, 2) == ["OFF", "ON"]


async def test_shed_load_refuses_what_cannot_be_shed(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await home(hass, zigbee2mqtt, clock)
    refusals = [
        (household.device_id(FREEZER), "critical_load"),
        (household.device_id(LINKY), "unknown_load"),  # a meter, not a switchable load
        ("no-such-device", "unknown_load"),
    ]
    await household.send(WATER_HEATER, state="OFF", power=0)
    refusals.append((household.device_id(WATER_HEATER), "not_running"))
    for device_id, reason in refusals:
        with pytest.raises(ServiceValidationError) as refused:
            await call(hass, "shed_load", {"device_id": device_id})
        assert refused.value.translation_key == reason
    with pytest.raises(vol.Invalid):
        await call(hass, "shed_load", {})
    assert not zigbee2mqtt.commands


async def test_a_load_without_z2m_s_own_device_is_found_by_energy_edge_s(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Without Z2M's HA discovery, Energy Edge's device for the plug stands for it."""
    plug = z2m.plug("0xa4c1380004c000a1", "dryer")
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([plug])
    entry = await setup_energy_edge(hass)
    devices = dr.async_get(hass)
    await eventually(
        hass, lambda: bool(devices.async_get_devices(identifiers={("energy_edge", plug.ieee)}))
    )
    (device,) = devices.async_get_devices(identifiers={("energy_edge", plug.ieee)})
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "shed_load", {"device_id": device.id})
    assert refused.value.translation_key == "not_running"  # found: it is simply off
    (hub_device,) = devices.async_get_devices(identifiers={("energy_edge", entry.entry_id)})
    with pytest.raises(ServiceValidationError) as refused:
        await call(hass, "cancel_schedule", {"device_id": hub_device.id})
    assert refused.value.translation_key == "unknown_load"
    assert str(refused.value) == "Energy Edge is not a switchable load that Energy Edge measures"


@pytest.mark.parametrize(
    "data",
    [
        {"deadline": "2026-01-16 07:00"},
        {"duration": {"hours": 1}},
        {"duration": {"hours": 1}, "deadline": "tomorrow"},
        {"duration": "-01:00:00", "deadline": "2026-01-16 07:00"},
        {"duration": {"hours": 1}, "deadline": "2026-01-16 07:00", "power_w": -5},
        {"duration": {"hours": 1}, "deadline": "2026-01-16 07:00", "power_w": "a lot"},
    ],
)
async def test_schedule_load_refuses_malformed_requests(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    data: dict[str, Any],
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 12))
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            "energy_edge",
            "schedule_load",
            {"device_id": household.device_id(WATER_HEATER), **data},
            blocking=True,
            return_response=True,
        )
