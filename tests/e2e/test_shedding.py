"""Load shedding end to end: a forced overload in the simulator makes Energy Edge, in the stack's
real Home Assistant, send OFF to the lowest-priority managed load on its Zigbee2MQTT topic, the
plug stops drawing, HA fires `energy_edge_load_shed`; once the overload ends, the load comes back.

The two loads are plugs with a load started behind them (the simulator's `start_load`): whatever
the simulated hour, each draws a known power, so the overload can be sized for exactly one load.
That power is sized on the home held still, so that every limit the test sets stays under the
Linky's cut-off power (PCOUP): Energy Edge never keeps a limit above it (the meter cuts there),
and the simulated Linky reports the cut-off at its 6 kVA contract.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
import json
import queue
import time
from typing import Any

import pytest

from scripts.lib.devstack.homeassistant_api import HomeAssistantClient, HomeAssistantWebSocket
from scripts.lib.devstack.zigbee2mqtt import ZigbeeDevice
from tests.e2e.conftest import NativeStack
from tests.e2e.home_assistant import ENERGY_EDGE, POWER, follow, home_view
from tests.e2e.mqtt import MqttSession, mqtt_session
from tests.e2e.simulator import MeterReading, MeterReadings, SimulatorControl
from tests.e2e.test_energy_edge import _grid_meter

LOW, HIGH = "water_heater", "ev_charger"  # two switchable plugs of the simulated household
MAX_STARTED_W = 3000.0  # the load started behind each plug, when the home leaves room for it
MIN_STARTED_W = 500.0  # well above the running threshold and the meter's 1 VA steps
RESTORE_RATIO = 0.8  # the restore threshold (80 % of the limit), kept by the options flow
# Room kept under the cut-off for what the held home still varies by (reactive power, rounding).
SLACK_VA = 300.0
RUNNING_W = 10.0  # Energy Edge's running threshold: a plug drawing less is not shed
# Short delays so that the test takes seconds (the defaults are 2 s, 60 s and 5 min).
FAST_SHEDDING = {"shed_delay_s": 1, "restore_delay_s": 2, "min_off_time_min": 0}
SHEDDING_DEFAULTS = {
    "contract_limit_va": 0,  # from the meter
    "shed_threshold_pct": 100,
    "shed_delay_s": 2,
    "restore_threshold_pct": 80,
    "restore_delay_s": 60,
    "min_off_time_min": 5,
    "running_threshold_w": 10,
}
HIGHEST_LIMIT_VA = 100_000  # the highest limit Energy Edge accepts; it keeps the cut-off's
WITHIN = 30.0  # bound of each wait for a decision, on a loaded machine
# The simulated home's evening (cooking, the car, the water heater) leaves no room for the two
# loads for up to three simulated hours (fr_house, seed 42, 19:10 to 21:40 in Paris on
# 3 December 2026: 4 to 7 kVA): at the stack's speed (60x), three minutes of waiting.
ROOM_WITHIN = 240.0


@dataclass(frozen=True)
class Shedding:
    """The set-up: the two managed plugs, the load started behind each, the meter's cut-off."""

    loads: dict[str, ManagedLoad]
    started_w: float
    cutoff_va: float


@dataclass(frozen=True)
class ManagedLoad:
    """A switchable plug as HA shows it: its relay, its power, Energy Edge's settings for it."""

    name: str
    relay: str
    power: str
    managed: str
    priority: str


async def _managed_loads(
    socket: HomeAssistantWebSocket, devices: dict[str, ZigbeeDevice]
) -> dict[str, ManagedLoad]:
    view = await home_view(socket)
    entities = await socket.command("config/entity_registry/list")
    found = {}
    for name in (LOW, HIGH):
        ieee = devices[name].ieee
        power = next(s.entity_id for s in view.of(ieee, platform="mqtt") if s.classes == POWER)
        device_ids = {entity["device_id"] for entity in entities if entity["entity_id"] == power}
        of_device = [e for e in entities if e["device_id"] in device_ids]
        found[name] = ManagedLoad(
            name=name,
            relay=_entity(of_device, "mqtt", "switch"),
            power=power,
            managed=_entity(of_device, ENERGY_EDGE, "switch", "managed"),
            priority=_entity(of_device, ENERGY_EDGE, "select", "priority"),
        )
    return found


def _entity(
    entities: list[dict[str, Any]], platform: str, domain: str, key: str | None = None
) -> str:
    """The entity of a device's registry entries made by `platform` in `domain`."""
    return str(
        next(
            e["entity_id"]
            for e in entities
            if e["platform"] == platform
            and e["entity_id"].startswith(f"{domain}.")
            and (key is None or e.get("translation_key") == key)
        )
    )


async def _options_flow(
    home_assistant: HomeAssistantClient,
    entry_id: str,
    shedding: dict[str, Any],
    entity_ids: list[str],
) -> None:
    """Energy Edge's options flow as a user fills it: every step kept as it is, but `shedding`."""
    flows = "/api/config/config_entries/options/flow"
    step = await home_assistant.post(flows, {"handler": entry_id})
    while step["type"] == "form":
        values = shedding if step["step_id"] == "shedding" else {}
        step = await home_assistant.post(f"{flows}/{step['flow_id']}", values)
    assert step["type"] == "create_entry", step
    # The entry reloads: its entities come back once the devices are known again.
    deadline = time.monotonic() + WITHIN
    while not await _available(home_assistant, entity_ids):
        assert time.monotonic() < deadline, f"{entity_ids} unavailable after the options flow"
        await asyncio.sleep(0.25)


async def _available(home_assistant: HomeAssistantClient, entity_ids: list[str]) -> bool:
    states = {
        state["entity_id"]: state["state"] for state in await home_assistant.get("/api/states")
    }
    return all(states.get(entity_id, "unavailable") != "unavailable" for entity_id in entity_ids)


async def _state(home_assistant: HomeAssistantClient, entity_id: str) -> str:
    return str((await home_assistant.get(f"/api/states/{entity_id}"))["state"])


async def _call(home_assistant: HomeAssistantClient, service: str, **data: Any) -> None:
    domain, name = service.split(".")
    await home_assistant.post(f"/api/services/{domain}/{name}", data)


async def _wait_for_power(
    socket: HomeAssistantWebSocket,
    entity_id: str,
    above: float | None = None,
    below: float | None = None,
) -> float:
    """Wait until HA's power of a plug passes a bound; return it."""
    follower = await follow(socket, entity_id)
    deadline = time.monotonic() + WITHIN
    last = "none"
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            last = await follower.next_state(within=remaining)
        except TimeoutError:
            break
        try:
            value = float(last)
        except ValueError:
            continue
        if (above is None or value > above) and (below is None or value < below):
            return value
    raise AssertionError(f"{entity_id} is {last} W after {WITHIN} s, wanted >{above} <{below}")


def _next_command(session: MqttSession, topic: str, within: float) -> tuple[str, float]:
    """The next state asked on a plug's `/set` topic, and when it arrived (monotonic)."""
    deadline = time.monotonic() + within
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            message = session.next_message(within=remaining)
        except queue.Empty:
            break
        if message.topic == topic:
            payload = message.payload.decode()
            try:
                state = json.loads(payload)["state"]
            except ValueError, KeyError, TypeError:
                state = payload
            return str(state).upper(), message.timestamp
    raise AssertionError(f"nothing on {topic} within {within} s")


def _started_w(reading: MeterReading) -> float:
    """The load each plug can run so that the home with both, plus half of one over the limit
    (the overload's margin), fits under the restore threshold of a limit at the cut-off."""
    assert reading.cutoff_va is not None, "the simulated Linky reports no cut-off power (PCOUP)"
    room_va = RESTORE_RATIO * reading.cutoff_va - reading.apparent_power_va - SLACK_VA
    return min(MAX_STARTED_W, 100 * ((room_va / 2.5) // 100))


async def _hold_with_room(simulator: SimulatorControl, meter: MeterReadings) -> MeterReading:
    """Hold the home still at a moment it leaves room for the two loads under the cut-off (at
    the stack's speed its appliances change within seconds, its evening passes in minutes);
    return the held home's reading."""
    deadline = time.monotonic() + ROOM_WITHIN
    while True:
        await asyncio.to_thread(simulator.command, "hold_household", duration_s=300)
        # Readings that follow the hold: the first may have been taken before it.
        fresh = len(await asyncio.to_thread(meter.update)) + 2
        reading = (await asyncio.to_thread(meter.wait_for, fresh))[-1]
        if _started_w(reading) >= MIN_STARTED_W:
            return reading
        assert time.monotonic() < deadline, f"the home stays at {reading.apparent_power_va} VA"
        await asyncio.to_thread(simulator.command, "release_household")
        await asyncio.sleep(2)


@pytest.fixture
async def shedding_setup(
    home_assistant: HomeAssistantClient,
    simulator: SimulatorControl,
    simulated_devices: dict[str, ZigbeeDevice],
    meter: MeterReadings,
) -> AsyncIterator[Shedding]:
    """Two plugs running a load sized on the held home, managed (LOW low, HIGH high), with short
    delays; all of it (options, settings, loads) put back afterwards: the other tests share the
    stack."""
    (entry,) = await home_assistant.get("/api/config/config_entries/entry?domain=energy_edge")
    entry_id = entry["entry_id"]
    diagnostics = await home_assistant.get(f"/api/diagnostics/config_entry/{entry_id}")
    options = diagnostics["data"]["entry"]["options"]
    # What the shedding step shows when an option was never set: the defaults.
    shedding_before = {key: options.get(key, default) for key, default in SHEDDING_DEFAULTS.items()}
    async with home_assistant.websocket() as socket:
        loads = await _managed_loads(socket, simulated_devices)
    settings = [entity for load in loads.values() for entity in (load.managed, load.priority)]
    before = {
        load.name: (
            await _state(home_assistant, load.managed),
            await _state(home_assistant, load.priority),
        )
        for load in loads.values()
    }
    try:
        # The plugs' own appliances (the water heater, the car) draw when their relay is on and
        # their programme says so (in the evening): on before the home is held, they are in the
        # held reading the loads are sized on, and held with the rest.
        for load in loads.values():
            await _call(home_assistant, "switch.turn_on", entity_id=load.relay)
        # The accelerated home changes by kilowatts within a few simulated minutes (hob, kettle,
        # the car): held still, the overload can be sized on the meter for exactly one load.
        held = await _hold_with_room(simulator, meter)
        started_w = _started_w(held)
        await _options_flow(home_assistant, entry_id, FAST_SHEDDING, settings)
        for load in loads.values():
            await asyncio.to_thread(
                simulator.command, "start_load", device=load.name, power_w=started_w, duration_s=300
            )
            await _call(home_assistant, "switch.turn_on", entity_id=load.relay)
        assert held.cutoff_va is not None
        yield Shedding(loads, started_w, held.cutoff_va)
    finally:
        await asyncio.to_thread(simulator.command, "clear_overload")
        await asyncio.to_thread(simulator.command, "release_household")
        for load in loads.values():
            await asyncio.to_thread(simulator.command, "stop_load", device=load.name)
            managed, priority = before[load.name]
            await _call(home_assistant, f"switch.turn_{managed}", entity_id=load.managed)
            await _call(
                home_assistant, "select.select_option", entity_id=load.priority, option=priority
            )
            await _call(home_assistant, "switch.turn_on", entity_id=load.relay)
        await _options_flow(home_assistant, entry_id, shedding_before, settings)


@pytest.fixture
def meter(developer: MqttSession, simulated_devices: dict[str, ZigbeeDevice]) -> MeterReadings:
    """The Linky's readings, as they reach the broker."""
    return MeterReadings(developer, _grid_meter(simulated_devices))


@pytest.fixture
def set_commands(native_stack: NativeStack) -> Iterator[MqttSession]:
    """What is asked of the two plugs on their Zigbee2MQTT `/set` topics."""
    password = native_stack.credentials.mqtt_passwords["developer"]
    with mqtt_session(native_stack.layout, "developer", password) as session:
        session.subscribe(f"zigbee2mqtt/{LOW}/set", f"zigbee2mqtt/{HIGH}/set")
        yield session


@pytest.mark.timeout(600)  # the set-up may wait ROOM_WITHIN for the home to leave room
async def test_an_overload_sheds_the_lowest_priority_load_and_its_end_restores_it(
    home_assistant: HomeAssistantClient,
    meter: MeterReadings,
    set_commands: MqttSession,
    simulator: SimulatorControl,
    shedding_setup: Shedding,
) -> None:
    """Two managed plugs draw the same load (up to 3 kW), one of low priority and one of high;
    the simulator adds an unmetered load taking the home half of one load over the limit.
    Within seconds the low one gets OFF on `zigbee2mqtt/<name>/set`, HA fires
    `energy_edge_load_shed` naming it and shows its power fall to 0; the high one is left alone.
    When the overload is cleared, the low one gets ON, HA fires `energy_edge_load_restored` and
    shows its power back."""
    off_delay, on_delay = await _shed_and_restore(
        home_assistant,
        commands=set_commands,
        meter=meter,
        simulator=simulator,
        setup=shedding_setup,
    )
    assert set_commands.messages.empty(), "the high-priority load was switched"
    print(
        f"{shedding_setup.started_w:.0f} W loads under a {shedding_setup.cutoff_va:.0f} VA cut-off:"
        f" overload -> OFF {off_delay:.1f} s; overload end -> ON {on_delay:.1f} s"
    )


async def _shed_and_restore(
    home_assistant: HomeAssistantClient,
    *,
    commands: MqttSession,
    meter: MeterReadings,
    simulator: SimulatorControl,
    setup: Shedding,
) -> tuple[float, float]:
    """The scenario; returns the delays overload -> OFF and overload end -> ON (seconds)."""
    low, high = setup.loads[LOW], setup.loads[HIGH]
    started_w, margin_va = setup.started_w, setup.started_w / 2
    async with home_assistant.websocket() as socket:
        # The limit at the meter's cut-off, whatever an earlier test set: the two loads were
        # sized to run under its restore threshold, so nothing is shed before the test sizes it.
        await _call(home_assistant, "energy_edge.set_power_limit", limit_va=HIGHEST_LIMIT_VA)
        for load, priority in ((low, "low"), (high, "high")):
            await _call(
                home_assistant, "select.select_option", entity_id=load.priority, option=priority
            )
            await _call(home_assistant, "switch.turn_on", entity_id=load.managed)
        for load in (low, high):
            await _wait_for_power(socket, load.power, above=started_w - 200)
        shed = await socket.subscribe("subscribe_events", event_type="energy_edge_load_shed")
        restored = await socket.subscribe(
            "subscribe_events", event_type="energy_edge_load_restored"
        )
        # Size the overload on the meter now: the home goes margin_va over the limit, and shedding
        # the low load takes it margin_va under; with the limit set so that the home without the
        # forced load is margin_va under the restore threshold (80 %).
        # Readings taken after HA showed both loads running: the meter's readings have been
        # collected since the set-up began, and the earliest predate the loads.
        fresh = len(await asyncio.to_thread(meter.update)) + 2
        measured = (await asyncio.to_thread(meter.wait_for, fresh))[-1].apparent_power_va
        before_overload = []  # the plugs switched on by the set-up, and nothing shed
        while not commands.messages.empty():
            before_overload.append(commands.messages.get_nowait().payload.decode().upper())
        assert not any("OFF" in payload for payload in before_overload), before_overload
        limit_va = round((measured + margin_va) / RESTORE_RATIO)
        # Above the cut-off, Energy Edge would keep the cut-off and the sizing would not hold.
        assert limit_va <= setup.cutoff_va, (measured, setup.cutoff_va)
        await _call(home_assistant, "energy_edge.set_power_limit", limit_va=limit_va)
        forced_w = limit_va - measured + margin_va
        await asyncio.to_thread(
            simulator.command, "force_overload", power_w=forced_w, duration_s=120
        )
        forced_at = time.monotonic()
        off_at = await _switched(socket, commands, shed, "OFF")
        await _wait_for_power(socket, low.power, below=RUNNING_W)
        await asyncio.to_thread(simulator.command, "clear_overload")
        cleared_at = time.monotonic()
        on_at = await _switched(socket, commands, restored, "ON")
        await _wait_for_power(socket, low.power, above=started_w - 200)
        with pytest.raises(TimeoutError):  # nothing else was shed
            await socket.next_event(shed, within=0.5)
    return off_at - forced_at, on_at - cleared_at


async def _switched(
    socket: HomeAssistantWebSocket, commands: MqttSession, events: int, state: str
) -> float:
    """Wait for `state` asked of the low-priority plug, then for HA's event naming it; return
    when the command reached the broker (monotonic)."""
    command, at = await asyncio.to_thread(_next_command, commands, f"zigbee2mqtt/{LOW}/set", WITHIN)
    assert command == state
    event = await socket.next_event(events, within=WITHIN)
    assert event["data"]["name"] == LOW, event
    return at
