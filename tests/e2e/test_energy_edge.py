"""Energy Edge in the stack's real Home Assistant, fed by the simulated household: every energy
device gets what the Energy dashboard needs, and the home's power is the Linky's, reading by
reading, including when the simulator is told to overload the home."""

import asyncio
from collections.abc import Iterator
from datetime import datetime
import math
import time

import pytest

from scripts.lib.devstack.homeassistant_api import HomeAssistantClient, HomeAssistantWebSocket
from scripts.lib.devstack.zigbee2mqtt import ZigbeeDevice
from tests.e2e.home_assistant import (
    ENERGY,
    ENERGY_EDGE,
    POWER,
    HomeView,
    StateFollower,
    follow,
    home_view,
    settled_problems,
)
from tests.e2e.mqtt import MqttSession
from tests.e2e.simulator import MeterReadings, SimulatorControl

HOME_POWER = "sensor.energy_edge_home_power"
SETTLE = 30.0  # the stack just started: entities and first readings arrive within seconds
HA_LAG = 30.0  # from a meter reading on the broker to HA's state, on a loaded machine


def _device_problems(view: HomeView, device: ZigbeeDevice) -> list[str]:
    """What the device lacks for the Energy dashboard, as a person would list it."""
    problems = []
    zigbee = view.of(device.ieee, platform="mqtt")
    ours = {sensor.translation_key: sensor for sensor in view.of(device.ieee, platform=ENERGY_EDGE)}
    wanted: dict[str, tuple[str | None, str | None, str | None]] = {}
    if device.is_grid_meter:
        wanted = {"grid_power": POWER, "grid_import_energy": ENERGY}
    else:
        if device.measures_power and not any(s.classes == POWER for s in zigbee):
            problems.append(f"{device.name}: no power sensor in W from Zigbee2MQTT")
        if device.counts_energy:
            if not any(s.classes == ENERGY for s in zigbee):
                problems.append(f"{device.name}: no energy sensor in kWh from Zigbee2MQTT")
            if "integrated_energy" in ours:
                problems.append(f"{device.name}: Energy Edge copies the device's own counter")
        elif device.measures_power:
            wanted = {"integrated_energy": ENERGY}
    for key, classes in wanted.items():
        sensor = ours.get(key)
        if sensor is None:
            problems.append(f"{device.name}: no Energy Edge {key} sensor")
        elif sensor.classes != classes or sensor.number is None:
            problems.append(f"{device.name}: {sensor.entity_id} is {sensor.classes} {sensor.state}")
    return problems


async def test_every_simulated_energy_device_has_energy_dashboard_sensors(
    home_assistant: HomeAssistantClient, simulated_devices: dict[str, ZigbeeDevice]
) -> None:
    """Each plug has its power in W and an energy counter in kWh: its own, or Energy Edge's
    integrated one for the plug without a counter (never a copy); the Linky has Energy Edge's
    grid power (W) and grid import energy (kWh, total_increasing)."""
    assert any(d.measures_power and not d.counts_energy for d in simulated_devices.values()), (
        "the household should have a plug without an energy counter"
    )
    async with home_assistant.websocket() as socket:

        async def problems() -> list[str]:
            view = await home_view(socket)
            return [p for d in simulated_devices.values() for p in _device_problems(view, d)]

        assert not await settled_problems(problems, within=SETTLE)


async def test_the_hub_has_the_home_sensors(
    home_assistant: HomeAssistantClient, simulated_devices: dict[str, ZigbeeDevice]
) -> None:
    """Home power and untracked power in W, home energy in kWh, and the devices online: every
    simulated device."""
    async with home_assistant.websocket() as socket:

        async def problems() -> list[str]:
            sensors = (await home_view(socket)).sensors
            expected = {
                "home_power": (*POWER, None),
                "untracked_power": (*POWER, None),
                "home_energy": (*ENERGY, None),
                "devices_online": (None, "measurement", None, "diagnostic"),
            }
            found = []
            for key, (device_class, state_class, unit, category) in expected.items():
                sensor = sensors.get(f"sensor.energy_edge_{key}")
                if sensor is None or sensor.platform != ENERGY_EDGE:
                    found.append(f"no {key} sensor from Energy Edge")
                elif (*sensor.classes, sensor.entity_category) != (
                    device_class,
                    state_class,
                    unit,
                    category,
                ) or sensor.number is None:
                    found.append(f"{sensor.entity_id}: {sensor}")
            if found:
                return found
            home = sensors["sensor.energy_edge_home_power"].number or 0.0
            untracked = sensors["sensor.energy_edge_untracked_power"].number or 0.0
            online = sensors["sensor.energy_edge_devices_online"].number
            if not 0.0 <= untracked <= home:
                found.append(f"untracked power {untracked} W outside 0..{home} W")
            if online != len(simulated_devices):
                found.append(f"{online} devices online, {len(simulated_devices)} simulated")
            return found

        assert not await settled_problems(problems, within=SETTLE)


async def test_energy_edge_knows_every_simulated_device_and_takes_the_linky_as_grid_meter(
    home_assistant: HomeAssistantClient, simulated_devices: dict[str, ZigbeeDevice]
) -> None:
    """Energy Edge's diagnostics (what a user attaches to a bug report) list every simulated
    device, present and available, with the Linky as the grid meter."""
    (entry,) = await home_assistant.get("/api/config/config_entries/entry?domain=energy_edge")
    diagnostics = await home_assistant.get(f"/api/diagnostics/config_entry/{entry['entry_id']}")
    data = diagnostics["data"]
    known = {device["friendly_name"]: device for device in data["devices"]}
    assert set(simulated_devices) <= set(known)
    assert all(known[name]["present"] and known[name]["available"] for name in simulated_devices)
    (linky,) = [device for device in simulated_devices.values() if device.is_grid_meter]
    assert data["grid_meter"] == linky.ieee
    assert known[linky.name]["role"] == "grid_meter"
    assert data["bridge_online"]


class HomePowerWatch:
    """HA's home power beside the Linky's readings on the broker.

    Readings are told apart by value only, and a steady house repeats values: HA's state when
    the watch starts comes from a reading the test may not have received, so it is kept apart
    from the states shown after (`shown`), which are checked against the readings.
    """

    def __init__(self, socket: HomeAssistantWebSocket, meter: MeterReadings) -> None:
        self.socket = socket
        self.meter = meter
        self.initial: float | None = None  # HA's state when the watch started
        self.shown: list[float | None] = []  # each state HA gave home power since, in order
        self._follower: StateFollower | None = None

    async def _state(self, within: float) -> float | None:
        assert self._follower is not None, "start() first"
        state = await self._follower.next_state(within)
        try:
            return float(state)
        except ValueError:
            return None  # unknown or unavailable

    async def start(self) -> None:
        """Follow home power once the meter's readings reach the test (HA's state may still
        come from a reading before them, the test's subscription a moment later makes that
        rarer), and take HA's current state (the first event of the subscription)."""
        await asyncio.to_thread(self.meter.wait_for, 1)
        self._follower = await follow(self.socket, HOME_POWER)
        self.initial = await self._state(within=10)

    async def shows_reading_taken_since(self, moment: datetime) -> float:
        """Wait until home power is the value of a meter reading taken at `moment` or later."""
        deadline = time.monotonic() + HA_LAG
        while True:
            fresh = [r.apparent_power_va for r in self.meter.update() if r.date >= moment]
            last = self.shown[-1] if self.shown else self.initial
            if last is not None and any(math.isclose(last, value) for value in fresh):
                return last
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"home power {last} W is none of the meter's readings since {moment}:"
                    f" {fresh} (VA)"
                )
            # Short waits: the broker may give HA a reading before it gives it to the test.
            try:
                self.shown.append(await self._state(within=min(0.5, remaining)))
            except TimeoutError:
                continue

    def out_of_order(self) -> list[float | None]:
        """What HA showed that the meter did not report, or not in the meter's order.

        Counted from the first reading of the test's own that HA shows (HA may still show
        readings that reached it before the test subscribed)."""
        readings = [r.apparent_power_va for r in self.meter.update()]
        shown = list(self.shown)
        while shown and not any(_same(shown[0], value) for value in readings):
            shown.pop(0)
        position, wrong = 0, []
        for value in shown:
            match = next(
                (i for i in range(position, len(readings)) if _same(value, readings[i])), None
            )
            if match is None:
                wrong.append(value)
            else:
                position = match
        return wrong


def _same(shown: float | None, reading: float) -> bool:
    return shown is not None and math.isclose(shown, reading)


def _grid_meter(devices: dict[str, ZigbeeDevice]) -> str:
    return next(device.name for device in devices.values() if device.is_grid_meter)


async def test_home_power_is_the_meters_reading_reading_by_reading(
    home_assistant: HomeAssistantClient,
    developer: MqttSession,
    simulated_devices: dict[str, ZigbeeDevice],
) -> None:
    """For a few reports of the Linky (one a simulated minute: a second at the stack's speed),
    home power takes each value the meter reports, in the meter's order, and nothing else."""
    meter = MeterReadings(developer, _grid_meter(simulated_devices))
    async with home_assistant.websocket() as socket:
        watch = HomePowerWatch(socket, meter)
        await watch.start()
        last = (await asyncio.to_thread(meter.wait_for, 6))[-1]
        await watch.shows_reading_taken_since(last.date)  # HA catches up with the meter
    assert not watch.out_of_order()


@pytest.fixture
def overload_cleared(simulator: SimulatorControl) -> Iterator[SimulatorControl]:
    """The simulator's control channel; a forced overload is cleared after the test."""
    yield simulator
    simulator.command("clear_overload")


async def test_a_forced_overload_shows_in_home_power_and_so_does_its_end(
    home_assistant: HomeAssistantClient,
    developer: MqttSession,
    overload_cleared: SimulatorControl,
    simulated_devices: dict[str, ZigbeeDevice],
) -> None:
    """The simulator's control channel adds an 8 kW load: within seconds, home power is a
    reading of the meter taken after it, over the 6 kVA contract; once cleared, home power
    falls back by about that load."""
    forced_w = 8000
    simulator = overload_cleared
    meter = MeterReadings(developer, _grid_meter(simulated_devices))
    async with home_assistant.websocket() as socket:
        watch = HomePowerWatch(socket, meter)
        await watch.start()
        await asyncio.to_thread(
            simulator.command, "force_overload", power_w=forced_w, duration_s=60
        )
        forced_at = await asyncio.to_thread(simulator.simulated_time)
        overloaded = await watch.shows_reading_taken_since(forced_at)
        await asyncio.to_thread(simulator.command, "clear_overload")
        cleared_at = await asyncio.to_thread(simulator.simulated_time)
        cleared = await watch.shows_reading_taken_since(cleared_at)
    assert overloaded >= forced_w  # the meter counts the forced load with the others
    assert overloaded - cleared == pytest.approx(forced_w, abs=forced_w / 2)
    assert not watch.out_of_order()
