"""Fixtures for the bridge's tests: a real broker, a real time-series database, the bridge."""

from collections.abc import Callable, Iterator
from pathlib import Path
import secrets
import threading
import time

import pytest

from energy_edge_bridge.devices import DeviceRegistry
from energy_edge_bridge.ingest import Ingest
from energy_edge_bridge.settings import BridgeSettings
from energy_edge_bridge.spool import Spool
from energy_edge_bridge.state import BridgeState, Clock
from tests.bridge.recorded_influxdb import RecordedInfluxDB
from tests.bridge.support import (
    BridgeProcess,
    Publisher,
    VictoriaMetrics,
    bridge_env,
    wait_until,
)
from tests.helpers.mosquitto import Broker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Mosquitto with authentication, on a free port."""
    running = Broker(tmp_path / "mosquitto")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """VictoriaMetrics, taking InfluxDB's write API."""
    database = VictoriaMetrics(tmp_path / "victoria-metrics")
    database.start()
    yield database
    database.stop()


@pytest.fixture
def recorded_influxdb() -> Iterator[RecordedInfluxDB]:
    """An HTTP server answering with InfluxDB 2's recorded responses."""
    server = RecordedInfluxDB()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def publisher(broker: Broker) -> Iterator[Publisher]:
    """A client that publishes as Zigbee2MQTT does."""
    client = Publisher(broker)
    yield client
    client.close()


def make_settings(broker: Broker, spool_dir: Path, **overrides: object) -> BridgeSettings:
    """Settings for a bridge on the test broker (the database URL is overridden when used)."""
    values: dict[str, object] = {
        "mqtt_host": "127.0.0.1",
        "mqtt_port": broker.port,
        "mqtt_username": broker.username,
        "mqtt_password": broker.password,
        "influxdb_token": secrets.token_urlsafe(24),
        "bridge_api_token": secrets.token_urlsafe(24),
        "bridge_spool_dir": spool_dir,
        "_env_file": None,
    }
    values.update(overrides)
    return BridgeSettings(**values)  # type: ignore[arg-type]


class RunningIngest:
    """An ingest thread on the test broker, with its spool and the shared state."""

    def __init__(self, settings: BridgeSettings, clock: Clock = time.time_ns) -> None:
        self.settings = settings
        self.clock = clock
        self.spool = Spool(settings.bridge_spool_dir, settings.bridge_spool_max_mb * 1024 * 1024)
        self.state = BridgeState(registry=DeviceRegistry(settings.bridge_max_sites))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, *, wait_subscribed: bool = True) -> None:
        """Start receiving."""
        self.ingest = Ingest(self.settings, self.spool, self.state, clock=self.clock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.ingest.run, args=(self._stop,), daemon=True)
        self._thread.start()
        if wait_subscribed:
            wait_until(lambda: self.state.links.mqtt_connected, 10, "the ingest did not subscribe")

    def stop(self) -> None:
        """Stop: the ingest commits and disconnects."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(10)
            assert not self._thread.is_alive()
            self._thread = None

    def lines(self) -> list[str]:
        """Every committed, unsent line of the spool."""
        batch = self.spool.read(1_000_000)
        return batch.body.decode().splitlines() if batch else []

    def wait_for_messages(self, count: int, timeout: float = 10) -> None:
        """Until the ingest has received `count` messages and committed them."""
        wait_until(
            lambda: self.state.counters.messages_received >= count,
            timeout,
            f"fewer than {count} messages received",
        )
        self.wait_committed()

    def wait_committed(self) -> None:
        """Until the batch being received is in the spool."""
        wait_until(
            lambda: not (self.ingest._lines or self.ingest._acks), 5, "the batch was not committed"
        )


@pytest.fixture
def running_ingest(broker: Broker, tmp_path: Path) -> Iterator[Callable[..., RunningIngest]]:
    """Start ingest threads with settings overrides; all stopped at the end."""
    started: list[RunningIngest] = []

    def start(clock: Clock = time.time_ns, **overrides: object) -> RunningIngest:
        running = RunningIngest(make_settings(broker, tmp_path / "spool", **overrides), clock)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def bridge_process(
    broker: Broker, victoria: VictoriaMetrics, tmp_path: Path
) -> Iterator[Callable[..., BridgeProcess]]:
    """Make bridge processes (`python -m energy_edge_bridge`); all killed at the end."""
    made: list[BridgeProcess] = []

    def make(**overrides: str) -> BridgeProcess:
        bridge = BridgeProcess(
            bridge_env(broker, victoria.url, tmp_path / "spool", **overrides),
            tmp_path / f"bridge-{len(made)}.log",
        )
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.kill()
