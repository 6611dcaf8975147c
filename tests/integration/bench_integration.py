"""Benchmark (not a test): Energy Edge's handlers against HA's own MQTT sensors, same messages.

Run through `scripts/bench-integration`. A real Home Assistant test instance with its real MQTT
client and a real Mosquitto; 200 Z2M devices discovered both by HA's MQTT discovery (Z2M's
configs) and by Energy Edge, with every management feature on: a Tempo tariff with its colours
known, costs, every switchable load managed for shedding (the Linky's 9 kVA contract, shed at
once) and runs planned for one load in ten. 50,000 state messages are replayed on the broker; one
Linky reading in ten is an overload (an unmetered oven for one reading), and the plugs obey the
commands as Z2M's would. The home agrees with itself: between overloads the Linky reads the
unmetered load plus what the plugs draw, and the shed loads return once readings show room (no
restore delay or minimum off time: restores follow readings, not the replay's speed).

Each subscription callback on the devices' state topics is timed in CPU time of the event loop's
thread (the machine may be shared), and so is the deferred work of each side (HA's MQTT entities
write their states after the callbacks; Energy Edge's hub runs its deferred work once per
event-loop turn or per second). The replay is paced by what Energy Edge has handled; messages
the broker or the client dropped are counted, not fatal. Also printed: the shedding decision
latency, from the overloading reading's arrival to the OFF command handed to the MQTT client.

Nothing is asserted about speed, except the gate: with BENCH_MAX_RATIO set, the run fails when
the ratio Energy Edge / HA exceeds it (`scripts/bench-integration --quick`, run by
`scripts/test`). BENCH_PROFILE=<file> writes a cProfile of the event loop over the replay.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
import cProfile
import dataclasses
from datetime import timedelta
import functools
import os
import random
import statistics
import time
from typing import Any

from homeassistant.components.mqtt.client import Subscription
from homeassistant.components.mqtt.models import DATA_MQTT
from homeassistant.core import HassJob, HassJobType, HomeAssistant
from homeassistant.helpers import entity_registry as er
import paho.mqtt.client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.engines.tariff import TempoColor
from custom_components.energy_edge.hub import EnergyEdgeHub
from custom_components.energy_edge.load_control import is_switchable_load
from tests.helpers import z2m
from tests.helpers.mosquitto import Broker

from .conftest import eventually, setup_energy_edge

DEVICES = int(os.environ.get("BENCH_DEVICES", "200"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "50000"))
MAX_RATIO = float(os.environ.get("BENCH_MAX_RATIO", "0") or 0)
PROFILE = os.environ.get("BENCH_PROFILE", "")
IN_FLIGHT = 400
"""Messages published but not yet handled by Energy Edge, at most (Z2M's pace, not a flood)."""
STALLED_S = 5.0
"""No message handled for this long: those still in flight are lost."""
CONTRACT_VA = 9000  # the Linky's PREF (9 kVA): the contract limit Energy Edge takes
OVERLOAD_EVERY = 10  # one Linky reading in ten is above the contract


def _household(count: int) -> list[z2m.Device]:
    """A Linky, three-phase DIN meters, plugs with and without energy counters."""
    devices: list[z2m.Device] = [z2m.zlinky_standard("0x00158d0004000000", "linky")]
    for index in range(1, count):
        ieee = f"0x8c65a3fffe{index:06x}"
        if index % 10 == 0:
            devices.append(z2m.din_meter_3p(ieee, f"meter_{index:03d}"))
        else:
            devices.append(z2m.plug(ieee, f"plug_{index:03d}", energy=index % 2 == 0))
    return devices


def _payload(
    device: z2m.Device,
    step: int,
    rng: random.Random,
    *,
    off: bool,
    overload: bool,
    plug_draws: dict[str, float],
) -> str:
    """A state message as Z2M sends it for this kind of device. The home agrees with itself: the
    Linky reads the unmetered load plus what the plugs draw (`plug_draws`, kept here), so the
    estimate Energy Edge makes from the plugs between readings is what a real home gives."""
    if device.model == "ZLinky_TIC":
        home_va = rng.randint(300, 800) + round(sum(plug_draws.values()))
        return z2m.state(
            apparent_power=CONTRACT_VA + 1000 if overload else home_va,
            available_power=CONTRACT_VA // 1000,
            current_summ_delivered=10_000 + step * 0.01,
            current_tier1_summ_delivered=4_000 + step * 0.004,
            current_tier2_summ_delivered=6_000 + step * 0.006,
            rms_current=rng.randint(1, 40),
            rms_voltage=rng.randint(225, 240),
            current_tarif="H PLEINE/CREUSE",
            linkquality=rng.randint(40, 200),
        )
    if device.model == "DM-3P":
        phases = [rng.uniform(0, 3000) for _ in range(3)]
        return z2m.state(
            power=round(phases[0], 1),
            power_phase_b=round(phases[1], 1),
            power_phase_c=round(phases[2], 1),
            total_power=round(sum(phases), 1),
            power_apparent=round(sum(phases) * 1.05, 1),
            power_factor=0.95,
            energy=round(100 + step * 0.001, 3),
            energy_phase_a=round(30 + step * 0.0003, 3),
            energy_phase_b=round(30 + step * 0.0003, 3),
            energy_phase_c=round(40 + step * 0.0004, 3),
            produced_energy=0,
            voltage=rng.randint(225, 240),
        )
    # The plugs share a 9 kVA contract as in a home: three run 1.5 kW loads, the others small
    # ones (10 W); each reading moves a little around its load's draw.
    steady_w = 1500.0 if int(device.friendly_name.removeprefix("plug_")) % 60 == 1 else 10.0
    draw = 0.0 if off else round(steady_w * rng.uniform(0.97, 1.03), 1)
    plug_draws[device.friendly_name] = draw
    values: dict[str, Any] = {
        "current": round(draw / 230, 2),
        "linkquality": rng.randint(40, 200),
        "power": draw,
        "power_on_behavior_delay": None,
        "state": "OFF" if off else "ON",
        "voltage": rng.randint(225, 240),
    }
    if any(expose.get("property") == "energy" for expose in device.exposes):
        values["energy"] = round(10 + step * 0.001, 3)
    return z2m.state(**values)


class Stopwatch:
    """CPU time of the event loop's thread spent in wrapped callables, per part."""

    def __init__(self) -> None:
        """Start at zero; measure what the clock itself costs, taken out of every call."""
        self.ns: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        clock = time.thread_time_ns
        samples = 20_000
        start = clock()
        for _ in range(samples):
            clock()
        self.clock_ns = (clock() - start) / samples

    def wrap(self, side: str, target: Callable[..., Any]) -> Callable[..., Any]:
        """The same callable, timed under `side`."""
        clock = time.thread_time_ns

        @functools.wraps(target)  # keeps `@callback`: HA runs it in the loop, not in a thread
        def timed(*args: Any) -> Any:
            start = clock()
            try:
                return target(*args)
            finally:
                self.ns[side] += clock() - start - self.clock_ns
                self.calls[side] += 1

        return timed

    def us_per(self, side: str, count: int) -> float:
        """Microseconds of `side` per message."""
        return self.ns[side] / 1000 / count


def _owner(subscription: Subscription) -> str:
    target = subscription.job.target
    while hasattr(target, "func"):  # functools.partial
        target = target.func
    owner = getattr(target, "__self__", None)
    return "ee_state" if isinstance(owner, EnergyEdgeHub) else "ha_callbacks"


@pytest.mark.timeout(1800)
async def test_benchmark(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, mqtt_broker: Broker
) -> None:
    """Measure and print; see the module docstring."""
    devices = _household(DEVICES)
    publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-z2m")
    publisher.username_pw_set(mqtt_broker.username, mqtt_broker.password)
    switched_off: set[str] = set()

    def on_command(_client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        """The plug obeys, as Z2M's would: its next reports say so."""
        name = msg.topic.split("/")[1]
        if b'"OFF"' in msg.payload:
            switched_off.add(name)
        else:
            switched_off.discard(name)

    publisher.on_message = on_command
    publisher.connect("127.0.0.1", mqtt_broker.port)
    publisher.subscribe(f"{z2m.BASE_TOPIC}/+/set", qos=1)
    publisher.loop_start()
    try:
        ratio = await _run(hass, devices, publisher, switched_off)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
    if MAX_RATIO:
        assert ratio <= MAX_RATIO, f"ratio {ratio:.3f} above the gate {MAX_RATIO}"


async def _run(
    hass: HomeAssistant, devices: list[z2m.Device], publisher: paho.Client, switched_off: set[str]
) -> float:
    def publish(topic: str, payload: str, qos: int = 1, retain: bool = True) -> None:
        info = publisher.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish refused: rc={info.rc}")
        if qos:
            info.wait_for_publish(timeout=10)

    started = time.perf_counter()
    publish("zigbee2mqtt/bridge/state", z2m.online())
    publish("zigbee2mqtt/bridge/devices", z2m.bridge_devices(devices))
    for device in devices:
        for topic, payload in z2m.discovery_configs(device, with_availability=True).items():
            publish(topic, payload)
        publish(f"{device.state_topic}/availability", z2m.online())
    entry = await setup_energy_edge(
        hass, tariff="tempo", shed_delay_s=0, restore_delay_s=0, min_off_time_min=0
    )
    data = entry.runtime_data
    hub = data.hub
    registry = er.async_get(hass)
    state_topics = {device.state_topic for device in devices}
    client = hass.data[DATA_MQTT].client

    def ha_entities_subscribed() -> int:
        return sum(
            1
            for topic in state_topics
            for subscription in client._simple_subscriptions.get(topic, ())
            if _owner(subscription) == "ha_callbacks"
        )

    previous = -1

    def settled() -> bool:
        nonlocal previous
        count = ha_entities_subscribed()
        stable = count == previous and len(hub.catalog.energy_devices()) == len(devices)
        previous = count
        return stable and not client._pending_subscriptions

    await eventually(hass, settled, within=600)
    await eventually(hass, lambda: not client._pending_subscriptions, within=60)
    time.sleep(1.0)  # noqa: ASYNC251 - let the broker acknowledge the last subscriptions

    # Management on: colours known, every load managed, one load in ten with a planned run.
    data.pricing.set_colors(today=TempoColor.BLUE, tomorrow=TempoColor.WHITE)
    loads = [device for device in hub.catalog.energy_devices() if is_switchable_load(device)]
    for device in loads:
        data.loads.set_load(device.ieee, managed=True)
    now = data.pricing.now()
    for device in loads[::10]:
        await data.planner.async_plan(
            device.ieee, duration=timedelta(hours=2), deadline=now + timedelta(days=1), power_w=1500
        )
    await hass.async_block_till_done()
    setup_s = time.perf_counter() - started
    ha_sensors = ha_entities_subscribed()
    ee_entities = len(er.async_entries_for_config_entry(registry, entry.entry_id))

    # Time every callback on the state topics, and each side's deferred work.
    watch = Stopwatch()
    linky_topic = devices[0].state_topic
    overload_at: list[int] = []  # perf_counter_ns of the overloading reading's arrival, pending
    latencies_ms: list[float] = []

    def arrival(target: Callable[..., Any]) -> Callable[..., Any]:
        def noted(msg: Any) -> Any:
            payload = msg.payload if isinstance(msg.payload, str) else msg.payload.decode()
            if f'"apparent_power": {CONTRACT_VA + 1000},' in payload:
                overload_at.append(time.perf_counter_ns())
            return target(msg)

        return noted

    originals: dict[str, set[Subscription]] = {}
    for topic in state_topics:
        originals[topic] = client._simple_subscriptions[topic]
        client._simple_subscriptions[topic] = {
            dataclasses.replace(
                subscription,
                job=HassJob(
                    watch.wrap(
                        owner := _owner(subscription),
                        arrival(subscription.job.target)
                        if owner == "ee_state" and topic == linky_topic
                        else subscription.job.target,
                    ),
                    job_type=HassJobType.Callback,
                ),
            )
            for subscription in originals[topic]
        }
    client._matching_subscriptions.cache_clear()
    writes = hass.data[DATA_MQTT].state_write_requests
    original_writes = writes.process_write_state_requests
    writes.process_write_state_requests = watch.wrap("ha_writes", original_writes)  # type: ignore[method-assign]
    deferred = {name: getattr(hub, name) for name in hub.DEFERRED_WORK}
    for name, method in deferred.items():
        setattr(hub, name, watch.wrap("ee_deferred", method))
    original_publish = client.async_publish

    commands: Counter[str] = Counter()

    async def published(topic: str, *args: Any, **kwargs: Any) -> None:
        if topic.endswith("/set"):
            commands["OFF" if '"OFF"' in str(args[0] if args else "") else "other"] += 1
        if topic.endswith("/set") and overload_at:
            latencies_ms.append((time.perf_counter_ns() - overload_at.pop()) / 1e6)
            overload_at.clear()
        await original_publish(topic, *args, **kwargs)

    client.async_publish = published  # type: ignore[method-assign]

    def handled() -> int:
        return watch.calls["ee_state"]

    lost = 0
    stalls: list[int] = []  # messages published when Energy Edge stopped handling any

    async def catch_up(published: int, behind: int) -> None:
        """Wait until Energy Edge is at most `behind` messages behind; messages it stops
        handling for `STALLED_S` are lost (QoS 0: the broker or the client dropped them)."""
        nonlocal lost
        last, since = handled(), time.monotonic()
        while published - lost - handled() > behind:
            await asyncio.sleep(0.002)
            if handled() != last:
                last, since = handled(), time.monotonic()
            elif time.monotonic() - since > STALLED_S:
                lost = published - handled()
                stalls.append(published)
                return

    # The test harness runs the loop in asyncio's debug mode, which takes a stack trace at every
    # call_soon and timer; Home Assistant does not in production.
    hass.loop.set_debug(False)
    rng = random.Random(20261127)
    profile = cProfile.Profile() if PROFILE else None
    replay_started = time.perf_counter()
    cpu_started = time.thread_time()
    if profile:
        profile.enable()
    linky_readings = 0
    plug_draws: dict[str, float] = {}
    for step in range(MESSAGES):
        device = devices[step % len(devices)]
        overload = False
        if device is devices[0]:
            linky_readings += 1
            overload = linky_readings % OVERLOAD_EVERY == 0
        payload = _payload(
            device,
            step // len(devices),
            rng,
            off=device.friendly_name in switched_off,
            overload=overload,
            plug_draws=plug_draws,
        )
        publish(device.state_topic, payload, qos=0, retain=False)
        if step + 1 - lost - handled() >= IN_FLIGHT:  # Energy Edge sets the pace
            await catch_up(step + 1, IN_FLIGHT // 2)
    lost = 0  # messages taken for lost may only have been late: wait for every one
    await catch_up(MESSAGES, 0)
    await hass.async_block_till_done()
    if profile:
        profile.disable()
        profile.dump_stats(PROFILE)
    replay_s = time.perf_counter() - replay_started
    loop_cpu_s = time.thread_time() - cpu_started
    messages = handled()

    for topic, subscriptions in originals.items():
        client._simple_subscriptions[topic] = subscriptions
    client._matching_subscriptions.cache_clear()
    writes.process_write_state_requests = original_writes  # type: ignore[method-assign]
    for name, method in deferred.items():
        setattr(hub, name, method)
    client.async_publish = original_publish  # type: ignore[method-assign]

    ee_us = watch.us_per("ee_state", messages) + watch.us_per("ee_deferred", messages)
    ha_us = watch.us_per("ha_callbacks", messages) + watch.us_per("ha_writes", messages)
    ratio = ee_us / ha_us
    shed = len(data.loads.status().shed_loads)
    latency = (
        f"median {statistics.median(latencies_ms):.2f} ms, max {max(latencies_ms):.2f} ms "
        f"over {len(latencies_ms)} overloads"
        if latencies_ms
        else "no command seen"
    )
    print(
        "\n"
        f"devices: {len(devices)} ({len(hub.catalog.energy_devices())} managed by Energy Edge, "
        f"{len(loads)} switchable loads managed, {len(data.planner._runs)} runs planned, "
        f"tariff {data.pricing.tariff.kind})\n"
        f"HA MQTT entities on the state topics: {ha_sensors}; Energy Edge entities: {ee_entities}\n"
        f"set-up (retained discovery, both integrations): {setup_s:.1f} s\n"
        f"state messages: {MESSAGES} published, {messages} handled, {MESSAGES - messages} lost; "
        f"replayed in {replay_s:.1f} s, event loop CPU {loop_cpu_s:.1f} s; stalled after "
        f"{stalls or 'none'}\n"
        f"Energy Edge handlers: {ee_us:.1f} us/message (state callbacks "
        f"{watch.us_per('ee_state', messages):.1f} + {watch.calls['ee_deferred']} deferred "
        f"runs, at most one per event-loop turn or per second, "
        f"{watch.us_per('ee_deferred', messages):.1f})\n"
        f"HA MQTT sensor entities: {ha_us:.1f} us/message (their callbacks "
        f"{watch.us_per('ha_callbacks', messages):.1f} + their state writes "
        f"{watch.us_per('ha_writes', messages):.1f})\n"
        f"ratio Energy Edge / HA MQTT (CPU time): {ratio:.3f} (goal <= 0.5"
        + (f", gate {MAX_RATIO}" if MAX_RATIO else "")
        + ")\n"
        f"shedding: {linky_readings // OVERLOAD_EVERY} overloading readings, {commands['OFF']} OFF "
        f"and {commands['other']} other commands, {shed} loads off at the end; decision latency "
        f"(reading received -> OFF published): {latency} (goal < 5 ms)\n"
        f"bad input counted during the replay: {dict(hub.bad_input)} {hub.last_bad_input}"
    )
    return ratio
