"""Fixtures for tests that run the integration in a real Home Assistant test instance."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
import threading
import time
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
import paho.mqtt.client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

# Imported before the harness looks for custom integrations, so HA finds this one.
import custom_components.energy_edge  # noqa: F401
from custom_components.energy_edge.const import DOMAIN, ENTITY_SETTLE_S
from tests.helpers import z2m
from tests.helpers.mosquitto import Broker


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load custom_components/energy_edge in every test."""


@pytest.fixture
def mqtt_broker(tmp_path: Path, socket_enabled: None) -> Iterator[Broker]:
    """A real Mosquitto broker on loopback (the harness blocks sockets unless asked)."""
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, mqtt_broker: Broker, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """HA's own MQTT integration, connected to the real broker."""
    entry = MockConfigEntry(
        domain="mqtt",
        data={
            "broker": "127.0.0.1",
            "port": mqtt_broker.port,
            "username": mqtt_broker.username,
            "password": mqtt_broker.password,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    # Energy Edge goes before the MQTT integration it depends on, as the UI would have it.
    for energy_edge in hass.config_entries.async_loaded_entries(DOMAIN):
        await hass.config_entries.async_unload(energy_edge.entry_id)
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


class Zigbee2MQTT:
    """Plays Zigbee2MQTT on the real broker: publishes what Z2M publishes, as Z2M does."""

    def __init__(self, broker: Broker) -> None:
        """Connect a paho client as Z2M would (authenticated, its own client id); it hears the
        commands sent to devices (`<base>/<name>/set`), as Z2M does."""
        self.commands: list[tuple[str, str]] = []
        subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="z2m-under-test")
        self.client.username_pw_set(broker.username, broker.password)
        self.client.on_message = lambda _c, _u, msg: self._heard(msg)
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(f"{z2m.BASE_TOPIC}/+/set", qos=1)
        assert subscribed.wait(5), "the broker did not acknowledge the subscription"

    def _heard(self, msg: paho.MQTTMessage) -> None:
        name = msg.topic.removeprefix(f"{z2m.BASE_TOPIC}/").removesuffix("/set")
        self.commands.append((name, msg.payload.decode()))

    def publish(self, topic: str, payload: str, *, retain: bool = False, qos: int = 1) -> None:
        """Publish and wait until the broker has it."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        assert info.rc == paho.MQTT_ERR_SUCCESS, info.rc
        info.wait_for_publish(timeout=5)

    def bridge_state(self, online: bool = True) -> None:
        """Z2M's retained bridge state."""
        self.publish(f"{z2m.BASE_TOPIC}/bridge/state", z2m.online(online), retain=True)

    def discovery(self, device: z2m.Device, *, with_availability: bool = False) -> None:
        """Every retained discovery config of a device."""
        for topic, payload in z2m.discovery_configs(
            device, with_availability=with_availability
        ).items():
            self.publish(topic, payload, retain=True)

    def withdraw_discovery(self, device: z2m.Device) -> None:
        """Empty retained configs: what Z2M does when a device is removed."""
        for topic in z2m.discovery_configs(device):
            self.publish(topic, "", retain=True)

    def bridge_devices(self, devices: list[z2m.Device]) -> None:
        """The retained `bridge/devices` list."""
        self.publish(f"{z2m.BASE_TOPIC}/bridge/devices", z2m.bridge_devices(devices), retain=True)

    def state(self, device: z2m.Device, payload: str | None = None, **values: Any) -> None:
        """A state message (QoS 0, not retained, as Z2M sends it)."""
        self.publish(
            device.state_topic, payload if payload is not None else z2m.state(**values), qos=0
        )

    def availability(self, device: z2m.Device, online: bool) -> None:
        """The device's retained availability message."""
        self.publish(f"{device.state_topic}/availability", z2m.online(online), retain=True)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def zigbee2mqtt(mqtt_broker: Broker) -> Iterator[Zigbee2MQTT]:
    """A stand-in for Zigbee2MQTT publishing on the real broker."""
    player = Zigbee2MQTT(mqtt_broker)
    yield player
    player.close()


async def eventually(
    hass: HomeAssistant, condition: Callable[[], bool], within: float = 10.0
) -> None:
    """Wait until `condition` holds, letting time pass so debounced work runs."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition still false after the timeout")
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=ENTITY_SETTLE_S + 0.1))
        await hass.async_block_till_done()
        await asyncio.sleep(0.02)


async def setup_energy_edge(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    """Add and load an Energy Edge entry for the default base topic."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=z2m.BASE_TOPIC,
        title=z2m.BASE_TOPIC,
        data={"base_topic": z2m.BASE_TOPIC, "discovery_prefix": z2m.DISCOVERY_PREFIX},
        options=options,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def finish_options(
    hass: HomeAssistant, result: ConfigFlowResult, *steps: dict[str, Any]
) -> ConfigFlowResult:
    """Answer the options flow's forms in turn (`steps`, then `{}`: every default) until it ends."""
    answers = list(steps)
    for _ in range(10):  # a form refusing its answer again and again ends the loop too
        if result["type"] is not FlowResultType.FORM:
            break
        answer = answers.pop(0) if answers else {}
        result = await hass.config_entries.options.async_configure(result["flow_id"], answer)
    return result


def value(hass: HomeAssistant, entity_id: str) -> float | None:
    """A sensor's numeric state (None when unknown or unavailable)."""
    state = hass.states.get(entity_id)
    if state is None or state.state in ("unknown", "unavailable"):
        return None
    return float(state.state)


@callback
def _ignore(msg: mqtt.ReceiveMessage) -> None:
    """A probe subscription's callback."""


async def subscribed(hass: HomeAssistant, topic: str, qos: int = 0) -> None:
    """Wait until HA's MQTT client is subscribed to a topic at the broker.

    A probe subscription makes the topic pending again, so the wait ends with a SUBACK that
    the broker sends after every earlier SUBSCRIBE of this connection.
    """
    done = asyncio.Event()
    probe = await mqtt.async_subscribe(hass, topic, _ignore, qos)
    stop = mqtt.async_on_subscribe_done(hass, topic, qos, done.set)
    try:
        async with asyncio.timeout(10):
            await done.wait()
    finally:
        stop()
        probe()


class Clock:
    """The hub's clock, moved by hand (seconds)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        """Start at a fixed instant."""
        self.now = now
        self.traveled = 0.0

    def __call__(self) -> float:
        """The current time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Let time pass."""
        self.now += seconds

    def set(self, instant: datetime) -> None:
        """Jump to a wall-clock instant (before Energy Edge starts: time never goes back)."""
        self.now = instant.timestamp()

    @property
    def utc(self) -> datetime:
        """The current time as a UTC datetime."""
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture
def clock() -> Iterator[Clock]:
    """One clock for all of Energy Edge's time (wall clock and monotonic), from its start and
    across reloads: tests set it before setting Energy Edge up, then move it with `travel`."""
    clock = Clock()
    source = SimpleNamespace(time=clock, monotonic=clock)
    with (
        patch("custom_components.energy_edge.hub.time", source),
        patch("custom_components.energy_edge.load_control.time", source),
    ):
        yield clock


async def travel(hass: HomeAssistant, clock: Clock, seconds: float) -> None:
    """Let `seconds` pass for Energy Edge, and fire Home Assistant's timers that are due.

    HA's own time cannot move here (freezing it stops the real broker's waits), so timers are
    fired by how far the clock has travelled in all: none fires late, some fire early, and
    Energy Edge's timers decide by their clock when they fire (an early call decides nothing).
    """
    clock.advance(seconds)
    clock.traveled += seconds
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=clock.traveled))
    await hass.async_block_till_done()


async def send_state(
    hass: HomeAssistant,
    zigbee2mqtt: Zigbee2MQTT,
    device: z2m.Device,
    payload: str | None = None,
    **values: Any,
) -> None:
    """Publish a device's state and wait until Energy Edge has read it (or refused it)."""
    hub = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.hub
    await subscribed(hass, device.state_topic)
    status = hub.status(device.ieee)
    before = (status.last_state if status else None, hub.bad_input.total())
    zigbee2mqtt.state(device, payload, **values)

    def read() -> bool:
        current = hub.status(device.ieee)
        state = current.last_state if current else None
        return state is not before[0] or hub.bad_input.total() != before[1]

    await eventually(hass, read)
