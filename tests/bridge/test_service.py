"""The bridge as the container runs it: `python -m energy_edge_bridge`, started and stopped."""

from collections.abc import Callable
import logging
from pathlib import Path
import socket
import subprocess
import sys
import threading
import time

from fastapi.testclient import TestClient
import pytest
import uvicorn

from energy_edge_bridge import schema
from energy_edge_bridge.api import make_api
from energy_edge_bridge.influxdb import InfluxDB
from energy_edge_bridge.service import HealthReporter, _serve, create_app
from energy_edge_bridge.settings import BridgeSettings
from energy_edge_bridge.spool import Spool
from energy_edge_bridge.state import BridgeState
from tests.bridge.conftest import make_settings
from tests.bridge.support import (
    BridgeProcess,
    Publisher,
    VictoriaMetrics,
    bridge_env,
    device_entry,
    devices_payload,
    plug_state,
    wait_for_series,
    wait_until,
)
from tests.bridge.test_spool import file_size_limit
from tests.helpers.mosquitto import Broker, free_port

type MakeBridge = Callable[..., BridgeProcess]


def publish_readings(broker: Broker, count: int, first: int = 0) -> None:
    """`count` plug readings at QoS 1, numbered by their `seq` field."""
    publisher = Publisher(broker, f"readings-{first}")
    for seq in range(first, first + count):
        publisher.publish(f"zigbee2mqtt/plug_{seq % 10}", plug_state(100.0, 1.0, seq=seq))
    publisher.close()


def wait_received(bridge: BridgeProcess, count: int) -> None:
    """Until the bridge has received `count` messages."""
    wait_until(
        lambda: bridge.metrics()["energy_edge_bridge_messages_received_total"] >= count,
        30,
        f"fewer than {count} messages received",
    )


def test_sigterm_writes_everything_and_exits_within_10_seconds(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """Readings received just before SIGTERM are in the database when the process is gone."""
    bridge = bridge_process()
    bridge.start()
    publish_readings(broker, 3000)
    wait_received(bridge, 3000)
    status, took = bridge.terminate()
    assert status == 0
    assert took < 10
    assert "spool empty: everything received is in the database" in bridge.log()
    # Polled: VictoriaMetrics's export can miss data while it merges its parts.
    series = wait_for_series(victoria, '{__name__="zigbee2mqtt_seq"}', 3000, timeout=10)
    assert sum(len(one["values"]) for one in series) == 3000


def test_sigterm_without_the_database_keeps_the_points_for_the_next_start(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """The database is down: exit in time anyway; the next start writes what was spooled."""
    bridge = bridge_process()
    bridge.start()
    victoria.stop()
    publish_readings(broker, 500)
    wait_received(bridge, 500)
    status, took = bridge.terminate()
    assert (status, took < 10) == (0, True)
    assert "points stay in the spool until the next start" in bridge.log()
    victoria.start()
    again = bridge_process()
    again.start()
    wait_for_series(victoria, '{__name__="zigbee2mqtt_seq"}', 500)
    assert again.terminate()[0] == 0


def test_the_bridge_records_its_own_health(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """Every interval, a point with every field the bridge-health dashboard reads."""
    bridge = bridge_process(BRIDGE_HEALTH_INTERVAL_S="0.2")
    bridge.start()
    publish_readings(broker, 10)
    for field in schema.HEALTH_FIELDS:
        wait_for_series(victoria, f'{{__name__="{schema.HEALTH_MEASUREMENT}_{field}"}}', 2)
    received = victoria.export(f'{{__name__="{schema.HEALTH_MEASUREMENT}_messages_received"}}')
    assert max(received[0]["values"]) >= 10
    bridge.terminate()


def test_devices_and_power_over_http(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """The API of the running process answers with what came over MQTT."""
    bridge = bridge_process()
    bridge.start()
    publisher = Publisher(broker)
    publisher.publish(
        "zigbee2mqtt/bridge/devices",
        devices_payload(device_entry("salon/tv", "0xa4c1380000000009")),
        retain=True,
    )
    publisher.publish("zigbee2mqtt/salon/tv", plug_state(95.5, 12.0))
    publisher.close()
    wait_until(lambda: bridge.get("/api/devices"), 10, "no device")
    [tv] = bridge.get("/api/devices")
    assert (tv["name"], tv["ieee"], tv["last_values"]["power"]) == (
        "salon/tv",
        "0xa4c1380000000009",
        95.5,
    )
    assert bridge.get("/api/power")["power"] == 95.5
    bridge.terminate()


def run_to_the_end(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a bridge that is expected to stop by itself."""
    return subprocess.run(
        [sys.executable, "-m", "energy_edge_bridge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_api_port_in_use_stops_the_bridge(
    broker: Broker, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    """Exit status 1 with a message naming BRIDGE_API_PORT."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bridge_env(broker, victoria.url, tmp_path / "spool", BRIDGE_API_PORT=str(port))
        result = run_to_the_end(env)
    assert result.returncode == 1
    assert f"BRIDGE_API_PORT: the API could not start on port {port}" in result.stderr


def test_an_unusable_spool_directory_stops_the_bridge(
    broker: Broker, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    """Exit status 1 with a message naming BRIDGE_SPOOL_DIR."""
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    result = run_to_the_end(bridge_env(broker, victoria.url, not_a_directory))
    assert result.returncode == 1
    assert "BRIDGE_SPOOL_DIR: cannot use" in result.stderr


def test_an_open_api_is_announced(bridge_process: MakeBridge) -> None:
    """BRIDGE_ALLOW_INSECURE_API without a token: the log says /api is open."""
    bridge = bridge_process(BRIDGE_ALLOW_INSECURE_API="true", BRIDGE_API_TOKEN="")
    bridge.start()
    assert "/api answers without authentication" in bridge.log()
    bridge.terminate()


def _api_server(settings: BridgeSettings, state: BridgeState, spool: Spool) -> uvicorn.Server:
    database = InfluxDB("http://127.0.0.1:9", "token", "org", "bucket")
    app = make_api(settings=settings, state=state, spool=spool, database=database)
    return uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None, lifespan="off")
    )


def test_the_bridge_stops_when_its_api_dies(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An API that stops on its own ends the process with status 1 (Docker restarts it)."""
    settings = make_settings(broker, tmp_path / "spool")
    state, spool = BridgeState(), Spool(tmp_path / "spool", 1024 * 1024)
    server = _api_server(settings, state, spool)
    api = threading.Thread(target=server.run, daemon=True)
    api.start()
    threading.Timer(0.5, lambda: setattr(server, "should_exit", True)).start()
    with caplog.at_level(logging.ERROR):
        status = _serve(server, api, threading.Event(), settings, lambda: None)
    assert status == 1
    assert "the API stopped unexpectedly" in caplog.text


def test_an_api_that_never_starts_stops_the_bridge(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No answer within the start-up time: status 1."""
    monkeypatch.setattr("energy_edge_bridge.service.API_START_TIMEOUT_S", 0.2)
    settings = make_settings(broker, tmp_path / "spool")
    state, spool = BridgeState(), Spool(tmp_path / "spool", 1024 * 1024)
    server = _api_server(settings, state, spool)
    stuck = threading.Thread(target=time.sleep, args=(2,), daemon=True)
    stuck.start()
    assert _serve(server, stuck, threading.Event(), settings, lambda: None) == 1


def test_a_health_point_the_disk_refuses_is_only_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The health reporter never takes the bridge down."""
    spool = Spool(tmp_path, 1024 * 1024)
    reporter = HealthReporter(spool, BridgeState(), clock=lambda: 1)
    reporter.report()
    [point] = spool.read(10).body.decode().splitlines()  # type: ignore[union-attr]
    assert point.startswith(f"{schema.HEALTH_MEASUREMENT} messages_received=0.0,")
    size = next(tmp_path.glob("*.seg")).stat().st_size
    with file_size_limit(size), caplog.at_level(logging.WARNING):
        reporter.report()
    assert "health point not recorded" in caplog.text


def test_the_app_factory_runs_the_whole_bridge(
    broker: Broker,
    victoria: VictoriaMetrics,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`uvicorn --factory energy_edge_bridge.service:create_app` (the development stack): settings
    from the environment; the app's lifespan runs the ingest and the writer, and its end
    flushes them."""
    env = bridge_env(broker, victoria.url, tmp_path / "spool")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    token = {"Authorization": f"Bearer {env['BRIDGE_API_TOKEN']}"}
    with TestClient(create_app()) as client:
        wait_until(lambda: client.get("/health").json()["mqtt"]["ok"], 10, "not subscribed")
        publish_readings(broker, 200)
        wait_until(
            lambda: (
                "energy_edge_bridge_messages_received_total 200"
                in client.get("/metrics", headers=token).text
            ),
            10,
            "not received",
        )
    wait_for_series(victoria, '{__name__="zigbee2mqtt_seq"}', 200, timeout=10)  # on the way out


def test_the_app_factory_names_invalid_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid settings end uvicorn with status 2 and the variable named."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MQTT_PORT", "not-a-port")
    with pytest.raises(SystemExit) as stop:
        create_app()
    assert stop.value.code == 2
    assert "MQTT_PORT: Input should be a valid integer" in capsys.readouterr().err


def test_the_bridge_exits_when_a_loop_cannot_go_on(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop that gave up, or is stuck, cannot be mended from inside: status 1, so that
    Docker or the add-on's watchdog starts the bridge again."""
    settings = make_settings(broker, tmp_path / "spool")
    state, spool = BridgeState(), Spool(tmp_path / "spool", 1024 * 1024)
    server = _api_server(settings, state, spool)
    api = threading.Thread(target=server.run, daemon=True)
    api.start()
    problems = iter([None, None, "the writer loop gave up after 5 failures: OSError: boom"])
    with caplog.at_level(logging.ERROR):
        status = _serve(server, api, threading.Event(), settings, lambda: next(problems))
    server.should_exit = True
    api.join(5)
    assert status == 1
    assert "the writer loop gave up after 5 failures: OSError: boom: exiting" in caplog.text
