"""Benchmark (not a test): Energy Edge's handlers against HA's own MQTT sensors, same messages.

Run through `scripts/bench-integration`. A real Home Assistant test instance with its real MQTT
client and a real Mosquitto; 200 Z2M devices discovered both by HA's MQTT discovery (Z2M's
configs) and by Energy Edge; 50,000 state messages published on the broker. Each subscription
callback on the devices' state topics is timed, and so are the deferred work of each side
(HA's MQTT entities write their states after the callbacks; Energy Edge's hub updates the home's
sensors once per event-loop turn). Nothing here is asserted about speed: figures are printed.
"""

from collections import Counter
from collections.abc import Callable
import dataclasses
import os
import random
import time
from typing import Any

from homeassistant.components.mqtt.client import Subscription
from homeassistant.components.mqtt.models import DATA_MQTT
from homeassistant.core import HassJob, HassJobType, HomeAssistant
from homeassistant.helpers import entity_registry as er
import paho.mqtt.client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.hub import EnergyEdgeHub
from tests.helpers import z2m
from tests.helpers.mosquitto import Broker

from .conftest import eventually, setup_energy_edge

DEVICES = int(os.environ.get("BENCH_DEVICES", "200"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "50000"))


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


def _payload(device: z2m.Device, step: int, rng: random.Random) -> str:
    """A state message as Z2M sends it for this kind of device."""
    if device.model == "ZLinky_TIC":
        return z2m.state(
            apparent_power=rng.randint(300, 9000),
            available_power=9,
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
    values: dict[str, Any] = {
        "current": round(rng.uniform(0, 10), 2),
        "linkquality": rng.randint(40, 200),
        "power": round(rng.uniform(0, 2300), 1),
        "power_on_behavior_delay": None,
        "state": "ON",
        "voltage": rng.randint(225, 240),
    }
    if any(expose.get("property") == "energy" for expose in device.exposes):
        values["energy"] = round(10 + step * 0.001, 3)
    return z2m.state(**values)


class Stopwatch:
    """Total time spent in wrapped callables, per part."""

    def __init__(self) -> None:
        """Start at zero."""
        self.ns: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def wrap(self, side: str, target: Callable[..., Any]) -> Callable[..., Any]:
        """The same callable, timed under `side`."""

        def timed(*args: Any) -> Any:
            start = time.perf_counter_ns()
            try:
                return target(*args)
            finally:
                self.ns[side] += time.perf_counter_ns() - start
                self.calls[side] += 1

        return timed


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
    publisher.connect("127.0.0.1", mqtt_broker.port)
    publisher.loop_start()
    try:
        await _run(hass, devices, publisher)
    finally:
        publisher.disconnect()
        publisher.loop_stop()


async def _run(hass: HomeAssistant, devices: list[z2m.Device], publisher: paho.Client) -> None:
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
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub
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
    setup_s = time.perf_counter() - started
    ha_sensors = ha_entities_subscribed()
    ee_entities = len(er.async_entries_for_config_entry(registry, entry.entry_id))

    # Time every callback on the state topics, and each side's deferred work.
    watch = Stopwatch()
    originals: dict[str, set[Subscription]] = {}
    for topic in state_topics:
        originals[topic] = client._simple_subscriptions[topic]
        client._simple_subscriptions[topic] = {
            dataclasses.replace(
                subscription,
                job=HassJob(
                    watch.wrap(_owner(subscription), subscription.job.target),
                    job_type=HassJobType.Callback,
                ),
            )
            for subscription in originals[topic]
        }
    client._matching_subscriptions.cache_clear()
    writes = hass.data[DATA_MQTT].state_write_requests
    original_writes = writes.process_write_state_requests
    writes.process_write_state_requests = watch.wrap("ha_writes", original_writes)  # type: ignore[method-assign]
    original_home = hub._send_home_update
    hub._send_home_update = watch.wrap("ee_home", original_home)  # type: ignore[method-assign]

    rng = random.Random(20261127)
    replay_started = time.perf_counter()
    for step in range(MESSAGES):
        device = devices[step % len(devices)]
        publish(
            device.state_topic, _payload(device, step // len(devices), rng), qos=0, retain=False
        )
        if step % 2000 == 1999:  # keep the broker's queue for HA short, as Z2M's pace would
            await eventually(hass, lambda s=step: watch.calls["ee_state"] >= s - 1000, within=120)
    await eventually(hass, lambda: watch.calls["ee_state"] >= MESSAGES, within=300)
    await hass.async_block_till_done()
    replay_s = time.perf_counter() - replay_started
    messages = watch.calls["ee_state"]

    for topic, subscriptions in originals.items():
        client._simple_subscriptions[topic] = subscriptions
    client._matching_subscriptions.cache_clear()
    writes.process_write_state_requests = original_writes  # type: ignore[method-assign]
    hub._send_home_update = original_home  # type: ignore[method-assign]

    ee_us = (watch.ns["ee_state"] + watch.ns["ee_home"]) / 1000 / messages
    ha_us = (watch.ns["ha_callbacks"] + watch.ns["ha_writes"]) / 1000 / messages
    print(
        "\n"
        f"devices: {len(devices)} ({len(hub.catalog.energy_devices())} managed by Energy Edge)\n"
        f"HA MQTT entities on the state topics: {ha_sensors}; Energy Edge entities: {ee_entities}\n"
        f"set-up (retained discovery, both integrations): {setup_s:.1f} s\n"
        f"state messages replayed: {messages} in {replay_s:.1f} s "
        f"({messages / replay_s:.0f} msg/s end to end)\n"
        f"Energy Edge handlers: {ee_us:.1f} us/message (state callbacks "
        f"{watch.ns['ee_state'] / 1000 / messages:.1f} + {watch.calls['ee_home']} home updates, "
        f"at most one per event-loop turn, {watch.ns['ee_home'] / 1000 / messages:.1f})\n"
        f"HA MQTT sensor entities: {ha_us:.1f} us/message (their callbacks "
        f"{watch.ns['ha_callbacks'] / 1000 / messages:.1f} + their state writes "
        f"{watch.ns['ha_writes'] / 1000 / messages:.1f})\n"
        f"ratio Energy Edge / HA MQTT: {ee_us / ha_us:.3f} (goal <= 1.0)\n"
        f"bad input counted during the replay: {dict(hub.bad_input)} {hub.last_bad_input}"
    )
