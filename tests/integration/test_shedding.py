"""Load shedding end to end through MQTT: the Linky's readings in, OFF/ON commands out to the
plugs, the plugs' answers back; entities, events and repair issues as the user sees them."""

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_edge.const import DOMAIN
from tests.helpers import z2m
from zigbee2mqtt_protocol.home import METER_SILENCE_S

from .conftest import Clock, Zigbee2MQTT
from .household import FREEZER, HEATER, LINKY, OVEN, WATER_HEATER, Household, paris, start

HEADROOM = "sensor.energy_edge_power_headroom"
SHED_LOADS = "sensor.energy_edge_shed_loads"
OVERLOAD = "binary_sensor.energy_edge_overload"
LIMIT = "number.energy_edge_contract_limit"
SECOND = timedelta(seconds=1)
LOADS = [LINKY, WATER_HEATER, HEATER, OVEN, FREEZER]
# Each switchable load, what it draws and its priority.
APPLIANCES = [(WATER_HEATER, 2400, "low"), (HEATER, 1500, "medium"), (OVEN, 2000, "high")]
APPLIANCES.append((FREEZER, 200, "critical"))
POWER = {device.friendly_name: power for device, power, _ in APPLIANCES}


async def manage(household: Household, *loads: tuple[z2m.Device, str]) -> None:
    """Opt loads in and give them priorities, as a user does in the UI."""
    for device, priority in loads:
        await household.hass.services.async_call(
            "switch",
            "turn_on",
            {"entity_id": household.entity_id(device, "managed", "switch")},
            blocking=True,
        )
        await household.hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": household.entity_id(device, "priority", "select"), "option": priority},
            blocking=True,
        )


async def running_home(
    hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, clock: Clock, **options: object
) -> Household:
    """Every load on and drawing its power, managed with its priority; the Linky at 5000 VA."""
    household = await start(hass, zigbee2mqtt, clock, LOADS, at=paris(2026, 1, 15, 19), **options)
    await manage(household, *((device, priority) for device, _, priority in APPLIANCES))
    for device, power, _ in APPLIANCES:
        await household.send(device, state="ON", power=power, energy=1.0)
    await household.send(LINKY, apparent_power=5000, current_summ_delivered=100.0)
    await household.travel(SECOND)
    return household


async def confirm(household: Household, device: z2m.Device, on: bool) -> None:
    """The plug obeys: it reports its new state (and power) as Z2M does."""
    power = POWER[device.friendly_name] if on else 0
    await household.send(device, state="ON" if on else "OFF", power=power, energy=1.0)
    await household.travel(SECOND)


async def test_an_overload_sheds_the_lowest_priority_load_and_restores_it_with_room_to_spare(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    overloads = async_capture_events(hass, "energy_edge_overload")
    shed = async_capture_events(hass, "energy_edge_load_shed")
    restored = async_capture_events(hass, "energy_edge_load_restored")
    household = await running_home(hass, zigbee2mqtt, clock)
    assert household.number(LIMIT) == 6000
    assert household.number(HEADROOM) == 1000
    assert household.state(HEADROOM).attributes["unit_of_measurement"] == "VA"
    assert household.state(OVERLOAD).state == "off"

    await household.send(LINKY, apparent_power=7000)  # 1000 VA over the contract
    assert household.state(OVERLOAD).state == "on"
    assert household.number(HEADROOM) == -1000
    await household.travel(SECOND)  # within the shed delay: nothing yet
    assert not zigbee2mqtt.commands
    await household.travel(SECOND)
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    hub = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, household.entry.entry_id), household.entry.entry_id
    )
    assert hub is not None
    assert [event.data for event in overloads] == [
        {
            "device_id": hub.id,  # the hub's page shows it
            "power_va": 7000.0,
            "threshold_va": 6000.0,
            "contract_limit_va": 6000.0,
            "reason": "overload",
        }
    ]
    await confirm(household, WATER_HEATER, on=False)
    assert shed[0].data == {
        "device_id": household.device_id(WATER_HEATER),
        "ieee": WATER_HEATER.ieee,
        "name": "water_heater",
        "power_w": 2400.0,
        "reason": "overload",
    }
    assert household.number(SHED_LOADS) == 1
    assert household.state(SHED_LOADS).attributes["loads"] == ["water_heater"]

    # Under the limit, but the water heater would take the home over 80%: it stays off.
    await household.send(LINKY, apparent_power=4600)
    assert household.state(OVERLOAD).state == "off"
    await household.meter_reads(LINKY, 4600, timedelta(minutes=10))
    assert household.number(SHED_LOADS) == 1

    # Room to spare for the restore delay, as readings show: it comes back.
    await household.send(LINKY, apparent_power=2000)
    await household.travel(timedelta(seconds=60))  # time alone: the room may be gone by now
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.send(LINKY, apparent_power=2000)  # the next reading, a minute later
    assert await household.commands_for(WATER_HEATER, 2) == ["OFF", "ON"]
    await confirm(household, WATER_HEATER, on=True)
    assert restored[0].data["reason"] == "headroom"
    assert restored[0].data["power_w"] == 2400.0
    assert household.number(SHED_LOADS) == 0
    assert [name for name, _ in zigbee2mqtt.commands] == ["water_heater", "water_heater"]


async def test_the_minimum_off_time_holds_a_load_off_even_with_room(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(LINKY, apparent_power=6500)
    await household.travel(2 * SECOND)
    await confirm(household, WATER_HEATER, on=False)
    await household.meter_reads(LINKY, 1000, timedelta(minutes=4))
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.meter_reads(LINKY, 1000, timedelta(minutes=1))  # five minutes off
    assert await household.commands_for(WATER_HEATER, 2) == ["OFF", "ON"]


async def test_priorities_go_lowest_first_never_critical_and_the_fewest_loads_within_one(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """3000 VA over: the low water heater (2400) is not enough, so the medium heater (1500)
    goes too; the high oven and the critical freezer stay on."""
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(LINKY, apparent_power=9000)
    await household.travel(2 * SECOND)
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    assert await household.commands_for(HEATER, 1) == ["OFF"]
    await confirm(household, WATER_HEATER, on=False)
    await confirm(household, HEATER, on=False)
    assert household.state(SHED_LOADS).attributes["loads"] == ["water_heater", "heater"]
    # Still over once they are off (the Linky says so): the high-priority oven goes next.
    await household.send(LINKY, apparent_power=6200)
    await household.travel(2 * SECOND)
    assert await household.commands_for(OVEN, 1) == ["OFF"]
    await confirm(household, OVEN, on=False)
    await household.send(LINKY, apparent_power=6100)
    await household.travel(timedelta(minutes=1))
    assert {name for name, _ in zigbee2mqtt.commands} == {"water_heater", "heater", "oven"}


async def test_a_load_the_user_switches_during_shedding_is_left_as_set(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(LINKY, apparent_power=7000)
    await household.travel(2 * SECOND)
    await confirm(household, WATER_HEATER, on=False)
    await confirm(household, WATER_HEATER, on=True)  # by hand, at the plug or in Z2M
    assert household.number(SHED_LOADS) == 0
    # Over again: the water heater is the user's now, the heater goes instead.
    await household.send(LINKY, apparent_power=6800)
    await household.travel(2 * SECOND)
    assert await household.commands_for(HEATER, 1) == ["OFF"]
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]


async def test_a_run_the_scheduler_starts_during_shedding_can_be_shed_like_any_load(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """Energy Edge switching the heater on for its planned run is not the user's hand: when the
    home goes over again, the medium heater goes before the high-priority oven."""
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(HEATER, state="OFF", power=0)
    await household.send(LINKY, apparent_power=7000)
    await household.travel(2 * SECOND)
    await confirm(household, WATER_HEATER, on=False)
    await hass.services.async_call(
        "energy_edge",
        "schedule_load",
        {
            "device_id": household.device_id(HEATER),
            "duration": {"minutes": 30},
            "deadline": "2026-01-15 20:00:00",
        },
        blocking=True,
    )
    assert await household.commands_for(HEATER, 1) == ["ON"]
    await confirm(household, HEATER, on=True)
    await household.send(LINKY, apparent_power=6500)
    await household.travel(2 * SECOND)
    assert await household.commands_for(HEATER, 2) == ["ON", "OFF"]
    assert [name for name, _ in zigbee2mqtt.commands] == ["water_heater", "heater", "heater"]


async def test_a_managed_load_on_standby_is_not_shed_it_would_free_nothing(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """The water heater's thermostat is satisfied: its plug is on but it draws 3 W. Shedding
    it would free nothing, so the heater goes."""
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(WATER_HEATER, state="ON", power=3)
    await household.send(LINKY, apparent_power=6800)
    await household.travel(2 * SECOND)
    assert await household.commands_for(HEATER, 1) == ["OFF"]
    await household.travel(SECOND)
    assert [name for name, _ in zigbee2mqtt.commands] == ["heater"]


async def test_a_load_that_does_not_obey_is_flagged_and_the_next_one_shed(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await running_home(hass, zigbee2mqtt, clock)
    issues = ir.async_get(hass)
    issue_id = f"load_unresponsive_{household.entry.entry_id}_{WATER_HEATER.ieee}"
    await household.send(LINKY, apparent_power=7000)
    await household.travel(2 * SECOND)
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.travel(9 * SECOND)
    assert issues.async_get_issue("energy_edge", issue_id) is None
    await household.travel(SECOND)  # ten seconds without an answer
    issue = issues.async_get_issue("energy_edge", issue_id)
    assert issue is not None
    assert issue.translation_key == "load_unresponsive"
    assert issue.translation_placeholders == {"load": "water_heater", "state": "OFF"}
    assert household.state(SHED_LOADS).attributes["unresponsive"] == ["water_heater"]
    await household.send(LINKY, apparent_power=7000)
    await household.travel(2 * SECOND)
    assert await household.commands_for(HEATER, 1) == ["OFF"]
    # It turns off after all: it counts as shed, and the issue goes.
    await confirm(household, WATER_HEATER, on=False)
    assert issues.async_get_issue("energy_edge", issue_id) is None
    assert "water_heater" in household.state(SHED_LOADS).attributes["loads"]


async def test_a_silent_meter_keeps_shed_loads_off_until_the_user_restores_them(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(LINKY, apparent_power=7000)
    await household.travel(2 * SECOND)
    await confirm(household, WATER_HEATER, on=False)
    await household.send(LINKY, apparent_power=1000)
    await household.travel(timedelta(seconds=30))
    # The Linky falls silent: no decision on a stale reading, the load stays off.
    for _ in range(round(METER_SILENCE_S / 60)):
        await household.travel(timedelta(minutes=1))
    issue = ir.async_get(hass).async_get_issue(
        "energy_edge", f"meter_silent_{household.entry.entry_id}"
    )
    assert issue is not None  # the hub's repair issue says so
    assert household.state(HEADROOM).state == "unknown"
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.travel(timedelta(minutes=30))
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]

    await hass.services.async_call("energy_edge", "restore_loads", {}, blocking=True)
    assert await household.commands_for(WATER_HEATER, 2) == ["OFF", "ON"]
    await confirm(household, WATER_HEATER, on=True)
    assert household.number(SHED_LOADS) == 0


async def test_when_the_meter_speaks_again_loads_come_back_by_the_usual_rules(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(LINKY, apparent_power=7000)
    await household.travel(2 * SECOND)
    await confirm(household, WATER_HEATER, on=False)
    await household.travel(timedelta(minutes=20))  # silent
    await household.send(LINKY, apparent_power=1000)
    assert household.number(HEADROOM) == 5000
    await household.travel(timedelta(seconds=60))
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.send(LINKY, apparent_power=1000)  # a full restore delay of fresh readings
    assert await household.commands_for(WATER_HEATER, 2) == ["OFF", "ON"]


async def test_loads_are_left_alone_until_the_user_opts_in(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, LOADS, at=paris(2026, 1, 15, 19))
    managed = household.entity_id(WATER_HEATER, "managed", "switch")
    priority = household.entity_id(WATER_HEATER, "priority", "select")
    assert household.state(managed).state == "off"
    assert household.state(priority).state == "medium"
    assert household.state(priority).attributes["options"] == ["critical", "high", "medium", "low"]
    for action in ("turn_on", "turn_off"):  # opted in, then out again
        await hass.services.async_call("switch", action, {"entity_id": managed}, blocking=True)
    assert household.state(managed).state == "off"
    for device, power, _ in APPLIANCES:
        await household.send(device, state="ON", power=power)
    await household.send(LINKY, apparent_power=12000)
    await household.travel(timedelta(minutes=1))
    assert household.state(OVERLOAD).state == "on"
    assert not zigbee2mqtt.commands


async def test_shed_loads_are_adopted_after_a_restart(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """Settings and loads kept off survive; the minimum off time starts again at the restart."""
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(LINKY, apparent_power=7000)
    await household.travel(2 * SECOND)
    await confirm(household, WATER_HEATER, on=False)
    await household.travel(timedelta(minutes=4))
    await household.reload()
    assert household.number(SHED_LOADS) == 1
    assert household.state(household.entity_id(WATER_HEATER, "managed", "switch")).state == "on"
    assert household.state(household.entity_id(OVEN, "priority", "select")).state == "high"
    await household.meter_reads(LINKY, 1000, timedelta(minutes=4))
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.meter_reads(LINKY, 1000, timedelta(minutes=1))  # five minutes since restart
    assert await household.commands_for(WATER_HEATER, 2) == ["OFF", "ON"]


async def test_the_contract_limit_comes_from_the_linky_until_the_user_sets_one(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(LINKY, apparent_power=5000, available_power=9)  # PREF 9 kVA
    assert household.number(LIMIT) == 9000
    assert household.number(HEADROOM) == 4000
    await hass.services.async_call(
        "number", "set_value", {"entity_id": LIMIT, "value": 7000}, blocking=True
    )
    assert household.number(LIMIT) == 7000
    assert household.entry.options["contract_limit_va"] == 7000
    await hass.services.async_call(
        "energy_edge", "set_power_limit", {"limit_va": 4500}, blocking=True
    )
    assert household.number(LIMIT) == 4500
    await household.send(LINKY, apparent_power=5000, available_power=9)
    await household.travel(2 * SECOND)  # over the new limit: shedding follows it
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    await household.reload()
    assert household.number(LIMIT) == 4500


async def test_without_a_grid_meter_the_devices_power_is_the_home_s_load(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER, HEATER], at=paris(2026, 1, 15, 19)
    )
    await manage(household, (WATER_HEATER, "low"), (HEATER, "high"))
    await household.send(WATER_HEATER, state="ON", power=2400)
    await household.send(HEATER, state="ON", power=1500)
    assert household.number(HEADROOM) == 2100
    await household.send(HEATER, state="ON", power=4000)
    await household.travel(2 * SECOND)
    await household.send(HEATER, state="ON", power=4000)
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]


async def test_a_plug_report_sheds_before_the_linky_reads_and_the_next_reading_corrects_it(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_client: ClientSessionGenerator,
) -> None:
    """The Linky is read once a minute: 5000 VA at 19:00:00. Seconds later the heater's plug
    reports its second stage (1500 W to 2800 W): 6300 VA by the plug's count, over the
    6000 VA contract. The water heater is shed 2 s later, long before the Linky's next
    reading, which then replaces the estimate."""
    overloads = async_capture_events(hass, "energy_edge_overload")
    household = await running_home(hass, zigbee2mqtt, clock)
    shedding = (await get_diagnostics_for_config_entry(hass, hass_client, household.entry))[
        "shedding"
    ]
    assert (shedding["measured_va"], shedding["measured_from"]) == (5000.0, "meter")

    await household.send(HEATER, state="ON", power=2800)
    assert household.number(HEADROOM) == -300
    assert household.state(OVERLOAD).state == "on"
    shedding = (await get_diagnostics_for_config_entry(hass, hass_client, household.entry))[
        "shedding"
    ]
    assert shedding["measured_va"] == 6300.0
    assert shedding["meter_va"] == 5000.0
    assert shedding["measured_from"] == "meter + plugs since 19:00:00"
    await household.travel(2 * SECOND)
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    assert overloads[0].data["power_va"] == 6300.0
    await confirm(household, WATER_HEATER, on=False)
    assert household.number(HEADROOM) == 6000 - (6300 - 2400)

    # The Linky's next reading: the heater drew less VA than its plug's W added up to.
    await household.send(LINKY, apparent_power=3800)
    assert household.number(HEADROOM) == 2200
    shedding = (await get_diagnostics_for_config_entry(hass, hass_client, household.entry))[
        "shedding"
    ]
    assert (shedding["measured_va"], shedding["measured_from"]) == (3800.0, "meter")
    assert [name for name, _ in zigbee2mqtt.commands] == ["water_heater"]


async def test_a_plug_gone_unavailable_keeps_its_change_until_the_next_linky_reading(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """The heater's plug reports 1000 W more, then drops off the network: as far as anyone
    knows the heater still draws it, until the Linky's next reading says otherwise. Back online,
    the plug's first report is its new baseline (the Linky saw whatever it did meanwhile)."""
    household = await running_home(hass, zigbee2mqtt, clock)
    await household.send(HEATER, state="ON", power=2500)
    await household.travel(SECOND)  # an estimate under the limit is shown within a second
    assert household.number(HEADROOM) == 0
    zigbee2mqtt.availability(HEATER, online=False)
    await household.travel(SECOND)
    assert household.number(HEADROOM) == 0
    await household.send(LINKY, apparent_power=4000)  # the heater stopped meanwhile
    assert household.number(HEADROOM) == 2000
    zigbee2mqtt.availability(HEATER, online=True)
    await household.travel(SECOND)
    await household.send(HEATER, state="ON", power=0)
    assert household.number(HEADROOM) == 2000
    assert not zigbee2mqtt.commands
