"""Fixtures: a real Mosquitto, a client that records what it sees, and a simulator in a thread."""

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
import json
from pathlib import Path
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions
import pytest

from energy_edge_sim.localtime import PARIS
from energy_edge_sim.runtime import SimulationOptions, Simulator
from energy_edge_sim.settings import SimulatorSettings
from tests.helpers.mosquitto import Broker

# A weekday evening in January: the car charges, the oven and the hob are on.
EVENING = datetime(2025, 1, 15, 19, 0, tzinfo=PARIS)
# A weekday afternoon: nobody home, the house idles.
AFTERNOON = datetime(2025, 1, 15, 14, 30, tzinfo=PARIS)
# Half past eleven at night: the water heater heats at off-peak, little else runs.
NIGHT = datetime(2025, 1, 15, 23, 30, tzinfo=PARIS)


@dataclass(frozen=True)
class Message:
    """A message as a subscriber received it, with the publisher's QoS and retain flag."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received: float

    def json(self) -> object:
        """The payload as JSON."""
        return json.loads(self.payload)

    def value(self, key: str) -> object:
        """A property of a JSON object payload (None when absent)."""
        payload = self.json()
        return payload.get(key) if isinstance(payload, dict) else None


@dataclass
class Recorder:
    """An MQTT v5 client subscribed to everything with retain-as-published and QoS 2."""

    broker: Broker
    messages: list[Message] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    client: mqtt.Client | None = None

    def start(self, topics: tuple[str, ...] = ("#",)) -> Recorder:
        """Connect and subscribe; returns once the broker confirmed the subscriptions."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.username_pw_set(self.broker.username, self.broker.password)
        subscribed = threading.Event()
        client.on_message = self._on_message
        client.on_subscribe = lambda *_args: subscribed.set()
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        options = SubscribeOptions(qos=2, retainAsPublished=True)
        client.subscribe([(topic, options) for topic in topics])
        assert subscribed.wait(5), "subscription not confirmed"
        self.client = client
        return self

    def stop(self) -> None:
        """Disconnect."""
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        with self._lock:
            self.messages.append(
                Message(
                    message.topic,
                    message.payload,
                    message.qos,
                    bool(message.retain),
                    time.monotonic(),
                )
            )
            self._lock.notify_all()

    def publish(
        self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish and wait until the broker has it."""
        assert self.client is not None
        self.client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def on(self, topic: str) -> list[Message]:
        """Messages received on a topic so far."""
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(
        self, predicate: Callable[[Message], bool], *, timeout: float = 10.0, after: int = 0
    ) -> Message:
        """The first message from index `after` satisfying `predicate`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self.messages[after:]:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching message within {timeout} s")
                self._lock.wait(remaining)

    def wait_until(
        self, condition: Callable[[list[Message]], bool], *, timeout: float = 10.0
    ) -> None:
        """Wait until `condition(messages)` holds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"condition not met within {timeout} s")
                self._lock.wait(remaining)

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Wait until nothing has arrived for `quiet` seconds (messages still in flight land)."""
        called = time.monotonic()
        deadline = called + timeout
        while time.monotonic() < deadline:
            with self._lock:
                last = max(called, self.messages[-1].received if self.messages else called)
            if time.monotonic() - last >= quiet:
                return
            time.sleep(quiet / 3)

    def position(self, message: Message) -> int:
        """Where a received message stands among all (an index for `wait_for(after=...)`)."""
        with self._lock:
            return next(i for i, m in enumerate(self.messages) if m is message)

    def count(self) -> int:
        """How many messages so far (an index for `wait_for(after=...)`)."""
        with self._lock:
            return len(self.messages)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A real, authenticated Mosquitto on a free port, delivering each message at the QoS it
    was published with (the tests check the simulator's QoS)."""
    server = Broker(tmp_path / "mosquitto", upgrade_outgoing_qos=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def recorder(broker: Broker) -> Iterator[Recorder]:
    """A client recording every message on the broker."""
    client = Recorder(broker).start()
    yield client
    client.stop()


def settings_for(broker: Broker, **overrides: object) -> SimulatorSettings:
    """Simulator settings pointing at the test broker."""
    values: dict[str, object] = {
        "mqtt_host": "127.0.0.1",
        "mqtt_port": broker.port,
        "mqtt_username": broker.username,
        "mqtt_password": broker.password,
        "sim_client_id": f"sim-{time.monotonic_ns()}",
    }
    values.update(overrides)
    return SimulatorSettings.model_validate(values)


@dataclass
class RunningSimulator:
    """A simulator running in a thread until the test ends (or its duration does)."""

    simulator: Simulator
    thread: threading.Thread
    stop: threading.Event
    errors: list[Exception]

    def join(self, timeout: float = 20.0) -> None:
        """Wait for the simulation to end by itself."""
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the simulator did not stop"
        if self.errors:
            raise self.errors[0]


@contextlib.contextmanager
def running(
    broker: Broker, settings: SimulatorSettings | None = None, **options: object
) -> Iterator[RunningSimulator]:
    """Run a simulator against `broker` in a thread; stop it at the end of the block."""
    defaults: dict[str, object] = {"seed": 7, "speed": 60.0, "start": EVENING}
    defaults.update(options)
    simulator = Simulator(settings or settings_for(broker), SimulationOptions(**defaults))  # type: ignore[arg-type]
    stop = threading.Event()
    errors: list[Exception] = []

    def target() -> None:
        try:
            simulator.run(stop)
        except Exception as error:  # noqa: BLE001 - handed to the test, which raises it
            errors.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    run = RunningSimulator(simulator, thread, stop, errors)
    try:
        yield run
    finally:
        stop.set()
        thread.join(15)
        assert not thread.is_alive(), "the simulator did not stop"
    if errors:
        raise errors[0]


@pytest.fixture
def simulate(broker: Broker) -> Callable[..., contextlib.AbstractContextManager[RunningSimulator]]:
    """`with simulate(speed=60, ...) as run:` runs a simulator against the test broker."""

    def start(
        settings: SimulatorSettings | None = None, **options: object
    ) -> contextlib.AbstractContextManager[RunningSimulator]:
        return running(broker, settings, **options)

    return start
