"""Real parts for the bridge's tests and benchmark: VictoriaMetrics, the bridge as a process,
a burst-safe MQTT publisher, and Zigbee2MQTT payloads built by Zigbee2MQTT's rules."""

from collections.abc import Iterator, Mapping
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import ipaddress
import json
import os
from pathlib import Path
import secrets
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from tests.helpers.mosquitto import Broker, free_port, wait_for_port
from zigbee2mqtt_protocol.bridge import BridgeDevice, parse_bridge_devices

REPOSITORY = Path(__file__).resolve().parents[2]
VICTORIA_METRICS = REPOSITORY / ".venv" / "bin" / "victoria-metrics"
FLUSH_TOPIC = "energy-edge-test/flush"  # outside any base topic: no bridge records it


def wait_until(condition: Any, timeout: float, message: str, interval: float = 0.05) -> None:
    """Poll `condition()` until it is true; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} (after {timeout} s)")
        time.sleep(interval)


@dataclass
class VictoriaMetrics:
    """A VictoriaMetrics process: accepts InfluxDB's /api/v2/write; read back with export.

    It names a series `<measurement>_<field>` and keeps tags as labels; timestamps in ms.
    """

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL, as INFLUXDB_URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "victoria-metrics.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(VICTORIA_METRICS),
                f"-storageDataPath={self.workdir / 'data'}",
                f"-httpListenAddr=127.0.0.1:{self.port}",
                "-retentionPeriod=100y",
                "-loggerLevel=ERROR",
            ],
            stdout=log,
            stderr=log,
        )
        wait_for_port(self.port, timeout=20)

    def stop(self) -> None:
        """Stop gracefully (its data stays)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def export(self, match: str) -> list[dict[str, Any]]:
        """Every raw sample of the series matching a selector, one dict per series."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=10)  # recent samples searchable
        response = httpx.get(
            f"{self.url}/api/v1/export", params={"match[]": match, "start": "0"}, timeout=60
        )
        response.raise_for_status()
        return [json.loads(text) for text in response.text.splitlines() if text.strip()]

    def count(self, match: str) -> int:
        """Number of raw samples matching a selector."""
        return sum(len(series["values"]) for series in self.export(match))


@dataclass
class BridgeProcess:
    """The bridge run as `python -m energy_edge_bridge`, as the container runs it."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        """Base URL of the API."""
        return f"http://127.0.0.1:{self.env['BRIDGE_API_PORT']}"

    @property
    def token(self) -> str:
        """The API token."""
        return self.env["BRIDGE_API_TOKEN"]

    def start(self) -> None:
        """Start and wait until the API answers and the bridge is subscribed."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "energy_edge_bridge"],
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=self.log_path.parent,
        )
        wait_until(
            lambda: self.health().get("mqtt", {}).get("ok") is True,
            30,
            f"the bridge did not subscribe; log:\n{self.log()}",
            interval=0.1,
        )

    def health(self) -> dict[str, Any]:
        """The /health answer (200 or 503), or {} while the API is not up."""
        try:
            answer: dict[str, Any] = httpx.get(self.api_url + "/health", timeout=5).json()
        except httpx.TransportError:
            return {}
        return answer

    def get(self, path: str) -> Any:
        """GET a JSON route with the token."""
        response = httpx.get(
            self.api_url + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def metrics(self) -> dict[str, float]:
        """/metrics as {name: value}."""
        text = httpx.get(
            self.api_url + "/metrics", headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        ).text
        return {
            name: float(value)
            for name, value in (
                row.split(" ", 1) for row in text.splitlines() if not row.startswith("#")
            )
        }

    def terminate(self, timeout: float = 15) -> tuple[int, float]:
        """SIGTERM; the exit status and how long the bridge took to exit."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=timeout)
        self.process = None
        return status, time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def log(self) -> str:
        """What the bridge logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def bridge_env(
    broker: Broker,
    database_url: str,
    spool_dir: Path,
    **overrides: str,
) -> dict[str, str]:
    """Environment for a bridge on this broker and database, with a fresh API port and token."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MQTT_", "INFLUXDB_", "BRIDGE_", "Z2M_"))
    }
    env.update(
        {
            "MQTT_HOST": "127.0.0.1",
            "MQTT_PORT": str(broker.port),
            "MQTT_USERNAME": broker.username,
            "MQTT_PASSWORD": broker.password,
            "INFLUXDB_URL": database_url,
            "INFLUXDB_TOKEN": secrets.token_urlsafe(24),
            "INFLUXDB_ORG": "energy-edge",
            "INFLUXDB_BUCKET": "energy",
            "BRIDGE_SPOOL_DIR": str(spool_dir),
            "BRIDGE_API_TOKEN": secrets.token_urlsafe(24),
            "BRIDGE_API_HOST": "127.0.0.1",
            "BRIDGE_API_PORT": str(free_port()),
            "BRIDGE_HEALTH_INTERVAL_S": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join([str(REPOSITORY / "bridge"), str(REPOSITORY)]),
        }
    )
    env.update(overrides)
    return env


class Publisher:
    """A paho client that publishes bursts without losing any message to rc 15."""

    def __init__(
        self, broker: Broker, client_id: str = "test-publisher", max_inflight: int = 0
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(broker.username, broker.password)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._unconfirmed_qos0 = False

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        """Publish; waits while paho's queue of unacknowledged messages is full."""
        while True:
            info = self.client.publish(topic, payload, qos=qos, retain=retain)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._pending.append(info)
                self._unconfirmed_qos0 |= qos == 0
                return
            if info.rc != MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                raise ConnectionError(f"publish failed: {mqtt.error_string(info.rc)}")
            self.flush(timeout=30)

    def flush(self, timeout: float = 60) -> None:
        """Wait until the broker has acknowledged every message published so far."""
        deadline = time.monotonic() + timeout
        if self._unconfirmed_qos0:
            # A QoS 0 message is "published" once in the socket; the broker handles a
            # connection's packets in order, so the PUBACK of a QoS 1 message sent after them
            # says it has taken them all (a broker stopped before would lose them).
            self._unconfirmed_qos0 = False
            self._pending.append(self.client.publish(FLUSH_TOPIC, b"", qos=1))
        for info in self._pending:
            info.wait_for_publish(max(0.01, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError("the broker did not acknowledge every message")
        self._pending.clear()

    def close(self) -> None:
        """Flush, disconnect and stop the network thread."""
        with contextlib.suppress(TimeoutError, RuntimeError):
            self.flush(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()


# -- Zigbee2MQTT payloads, by Zigbee2MQTT's rules (own names and addresses) -----------------


def plug_state(power: float, energy: float, **extra: object) -> bytes:
    """A metering plug's state message as Zigbee2MQTT publishes it (with HA discovery on,
    unset properties are null)."""
    state: dict[str, object] = {
        "current": round(power / 230.0, 3),
        "energy": energy,
        "linkquality": 132,
        "power": power,
        "power_outage_memory": None,
        "state": "ON" if power > 0 else "OFF",
        "update": {"installed_version": 4097, "latest_version": 4097, "state": "idle"},
        "voltage": 231.4,
    }
    state.update(extra)
    return json.dumps(state).encode()


def _switch_exposes(extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    exposes: list[dict[str, Any]] = [
        {
            "type": "switch",
            "features": [
                {
                    "name": "state",
                    "label": "State",
                    "access": 7,
                    "type": "binary",
                    "property": "state",
                    "value_on": "ON",
                    "value_off": "OFF",
                    "value_toggle": "TOGGLE",
                }
            ],
        },
        {
            "name": "power_outage_memory",
            "access": 7,
            "type": "enum",
            "property": "power_outage_memory",
            "values": ["on", "off", "restore"],
        },
        {
            "name": "countdown",
            "access": 3,
            "type": "numeric",
            "property": "countdown",
            "unit": "s",
            "value_min": 0,
            "value_max": 43200,
        },
    ]
    for name, unit in (("power", "W"), ("voltage", "V"), ("current", "A"), ("energy", "kWh")):
        exposes.append(
            {"name": name, "access": 5, "type": "numeric", "property": name, "unit": unit}
        )
    exposes.append(
        {"name": "linkquality", "access": 1, "type": "numeric", "property": "linkquality"}
    )
    return exposes + (extra or [])


def device_entry(
    name: str,
    ieee: str,
    *,
    model: str = "TS011F_plug_1",
    vendor: str = "Tuya",
    description: str = "Smart plug (with power monitoring)",
    exposes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One entry of `bridge/devices`."""
    return {
        "ieee_address": ieee,
        "friendly_name": name,
        "type": "Router",
        "network_address": int(ieee[-4:], 16),
        "power_source": "Mains (single phase)",
        "disabled": False,
        "interview_completed": True,
        "interview_state": "SUCCESSFUL",
        "supported": True,
        "definition": {
            "model": model,
            "vendor": vendor,
            "description": description,
            "exposes": _switch_exposes() if exposes is None else exposes,
            "options": [],
            "source": "native",
        },
    }


def linky_entry(name: str, ieee: str) -> dict[str, Any]:
    """A LiXee ZLinky_TIC in `bridge/devices` (read-only exposes)."""
    exposes = [
        {"name": prop, "access": 1, "type": "numeric", "property": prop, "unit": unit}
        for prop, unit in (
            ("current_summ_delivered", "kWh"),
            ("apparent_power", "VA"),
            ("rms_current", "A"),
            ("available_power", "kVA"),
        )
    ] + [{"name": "current_tarif", "access": 1, "type": "text", "property": "current_tarif"}]
    return device_entry(
        name,
        ieee,
        model="ZLinky_TIC",
        vendor="LiXee",
        description="Lixee ZLinky",
        exposes=exposes,
    )


def coordinator_entry(ieee: str = "0x00124b0024c3a1f0") -> dict[str, Any]:
    """The coordinator, as bridge/devices lists it (no definition)."""
    return {
        "ieee_address": ieee,
        "friendly_name": "Coordinator",
        "type": "Coordinator",
        "network_address": 0,
        "disabled": False,
        "interview_completed": True,
        "definition": None,
    }


def devices_payload(*entries: Mapping[str, Any]) -> bytes:
    """The retained `bridge/devices` message."""
    return json.dumps([coordinator_entry(), *entries]).encode()


def listed(*entries: Mapping[str, Any]) -> list[BridgeDevice]:
    """The devices of a `bridge/devices` message of these entries (each one readable)."""
    devices, rejections = parse_bridge_devices(devices_payload(*entries))
    assert rejections == []
    return devices


def wait_for_series(
    victoria: VictoriaMetrics, match: str, expected: int, timeout: float = 60
) -> list[dict[str, Any]]:
    """Wait until `expected` samples match, then return the series."""
    found: list[dict[str, Any]] = []

    def enough() -> bool:
        nonlocal found
        found = victoria.export(match)
        return sum(len(s["values"]) for s in found) >= expected

    wait_until(enough, timeout, f"fewer than {expected} samples of {match}", interval=0.5)
    return found


def iter_samples(series: list[dict[str, Any]]) -> Iterator[tuple[dict[str, str], float, int]]:
    """(labels, value, timestamp in ms) of every sample."""
    for one in series:
        for value, stamp in zip(one["values"], one["timestamps"], strict=True):
            yield one["metric"], value, stamp


@dataclass(frozen=True)
class Point:
    """One line of line protocol, read back."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, float]
    time_ns: int


def parse_line(text: str) -> Point:
    """Read a line the bridge wrote (float fields only), undoing its escapes."""
    position = 0

    def read_until(stops: str) -> str:
        nonlocal position
        out = []
        while position < len(text) and text[position] not in stops:
            if text[position] == "\\" and position + 1 < len(text):
                following = text[position + 1]
                out.append(following if following in ",= \\" else "\\" + following)
                position += 2
            else:
                out.append(text[position])
                position += 1
        return "".join(out)

    def expect(character: str) -> None:
        nonlocal position
        assert text[position] == character, (text, position)
        position += 1

    measurement = read_until(", ")
    tags: dict[str, str] = {}
    while text[position] == ",":
        expect(",")
        key = read_until("=")
        expect("=")
        tags[key] = read_until(", ")
    expect(" ")
    fields: dict[str, float] = {}
    while True:
        key = read_until("=")
        expect("=")
        fields[key] = float(read_until(", "))
        if text[position] != ",":
            break
        expect(",")
    expect(" ")
    return Point(measurement, tags, fields, int(text[position:]))


@dataclass
class AclBroker(Broker):
    """A broker with an access control list for its user (mosquitto's acl_file format)."""

    acl: str = ""

    def _write_config(self) -> None:
        super()._write_config()
        acl_file = self.workdir / "acl"
        acl_file.write_text(f"user {self.username}\n{self.acl}\n")
        with self.config_path.open("a") as config:
            config.write(f"acl_file {acl_file}\n")


def write_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A certificate authority and a server certificate for 127.0.0.1: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Energy Edge test CA"))
        .issuer_name(name("Energy Edge test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].chmod(0o600)
    return paths


@dataclass
class TlsBroker(Broker):
    """A broker that speaks only TLS, with a certificate from its own test CA."""

    def _write_config(self) -> None:
        super()._write_config()
        self.ca_file, cert, key = write_certificates(self.workdir / "tls")
        with self.config_path.open("a") as config:  # applies to the broker's only listener
            config.write(f"certfile {cert}\nkeyfile {key}\n")


class Listener:
    """A client that collects what is published on a topic filter (Zigbee2MQTT's end of
    commands). Ready once the broker has confirmed the subscription."""

    def __init__(self, broker: Broker, topic_filter: str, client_id: str = "zigbee2mqtt") -> None:
        self.received: list[tuple[str, bytes]] = []
        subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(broker.username, broker.password)
        self.client.on_message = lambda client, userdata, message: self.received.append(
            (message.topic, message.payload)
        )
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe(topic_filter, qos=1)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise TimeoutError("the listener did not subscribe")

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()


@contextlib.contextmanager
def small_filesystem(directory: Path, size_bytes: int) -> Iterator[Path]:
    """A tmpfs of `size_bytes` mounted on `directory`: a disk that fills up for real (ENOSPC).
    Needs root, as the tests run in CI; elsewhere the test is skipped, saying why."""
    import pytest

    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0700", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "--lazy", str(directory)], check=True)


def fill_disk(directory: Path, leave_bytes: int) -> Path:
    """Fill the filesystem of `directory` but for about `leave_bytes`; the filler's path."""
    filler = directory / "filler"
    free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    with filler.open("wb") as file:
        file.write(b"\0" * max(0, free - leave_bytes))
    return filler
