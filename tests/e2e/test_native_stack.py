"""`./scripts/dev-stack` brings the stack up once, says where everything is, keeps secrets private,
and its broker and time-series store work as the parts expect."""

import contextlib
import json
import time

import httpx

from tests.e2e.conftest import NativeStack
from tests.e2e.mqtt import connect_reason, mqtt_session


def test_up_says_where_everything_is(native_stack: NativeStack) -> None:
    """HA's URL, the bridge's /docs, the broker and the credentials' file are printed."""
    layout = native_stack.layout
    out = native_stack.up_output
    assert "the native stack is up" in out
    assert layout.ha_url in out
    assert f"{layout.bridge_url}/docs" in out
    assert f"{layout.host}:{layout.mqtt_port}" in out
    assert str(layout.credentials_file) in out


def test_secrets_are_readable_by_their_owner_only(native_stack: NativeStack) -> None:
    """The stack's folder is private, and so are the credentials and the broker's passwords."""
    layout = native_stack.layout
    assert layout.root.stat().st_mode & 0o777 == 0o700
    assert layout.credentials_file.stat().st_mode & 0o777 == 0o600
    assert (layout.root / "mosquitto" / "passwords").stat().st_mode & 0o777 == 0o600
    credentials = native_stack.credentials
    passwords = (layout.root / "mosquitto" / "passwords").read_text()
    assert not any(secret in passwords for secret in credentials.mqtt_passwords.values())


def test_a_second_up_says_it_runs_and_starts_nothing(native_stack: NativeStack) -> None:
    """`up` while running exits 0, says so, and every process keeps its pid."""
    again = native_stack.command("up")
    assert again.returncode == 0
    assert "already running" in again.stdout
    for name, process in native_stack.processes.items():
        assert process.is_running(), name
        assert f"running (pid {process.pid})" in again.stdout


def test_status_lists_what_runs(native_stack: NativeStack) -> None:
    """Each started service with its pid; the parts not on this branch as not started."""
    status = native_stack.command("status")
    assert status.returncode == 0
    for name in ("mosquitto", "victoria-metrics", "homeassistant"):
        pid = native_stack.processes[name].pid
        assert f"{name}" in status.stdout
        assert f"running (pid {pid})" in status.stdout


def test_the_broker_refuses_anonymous_clients_and_wrong_passwords(
    native_stack: NativeStack,
) -> None:
    """No anonymous MQTT, no default password: only the stack's users get in."""
    layout = native_stack.layout
    developer = native_stack.credentials.mqtt_passwords["developer"]
    assert connect_reason(layout, None, None) == "Not authorized"
    assert connect_reason(layout, "developer", "welcome") == "Not authorized"
    assert connect_reason(layout, "developer", developer) == "Success"


def test_each_account_is_kept_to_its_topics(native_stack: NativeStack) -> None:
    """Least privilege, with the Docker stack's ACL: the bridge and Home Assistant may send a
    device a command but not pretend to be the device; the simulator, standing in for
    Zigbee2MQTT, may."""
    layout = native_stack.layout
    passwords = native_stack.credentials.mqtt_passwords
    accounts = ("developer", "bridge", "homeassistant", "simulator")
    with contextlib.ExitStack() as stack:
        developer, bridge, home_assistant, simulator = (
            stack.enter_context(mqtt_session(layout, user, passwords[user])) for user in accounts
        )
        developer.subscribe("zigbee2mqtt/e2e_plug", "zigbee2mqtt/e2e_plug/set")
        bridge.publish("zigbee2mqtt/e2e_plug", '{"power": 9999}')  # forged states: dropped
        home_assistant.publish("zigbee2mqtt/e2e_plug", '{"power": 8888}')
        bridge.publish("zigbee2mqtt/e2e_plug/set", '{"state": "OFF"}')
        home_assistant.publish("zigbee2mqtt/e2e_plug/set", '{"state": "ON"}')
        simulator.publish("zigbee2mqtt/e2e_plug", '{"power": 12}')
        # Each client's messages arrive in order: an allowed one comes after any forbidden one.
        received = {developer.next_message().payload for _ in range(3)}
        assert received == {b'{"state": "OFF"}', b'{"state": "ON"}', b'{"power": 12}'}


def test_the_time_series_store_takes_influxdb_writes(native_stack: NativeStack) -> None:
    """VictoriaMetrics stores a point sent to InfluxDB 2's write API and gives it back."""
    stamp = time.time_ns()
    with httpx.Client(base_url=native_stack.layout.victoria_url, timeout=10) as victoria:
        written = victoria.post(
            "/api/v2/write",
            params={"org": "energy-edge", "bucket": "energy", "precision": "ns"},
            # A device of its own: the bridge records what other tests publish for e2e_plug.
            content=f"zigbee2mqtt,device=e2e_write_probe power=42.5 {stamp}",
        )
        assert written.status_code == 204
        series = {"match[]": '{__name__="zigbee2mqtt_power",device="e2e_write_probe"}'}
        deadline = time.monotonic() + 10
        while True:
            victoria.get("/internal/force_flush")
            exported = victoria.get("/api/v1/export", params=series).text
            if exported or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    point = json.loads(exported.splitlines()[0])
    assert point["values"] == [42.5]
    assert point["timestamps"] == [stamp // 1_000_000]
