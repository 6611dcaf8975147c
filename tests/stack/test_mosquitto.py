"""The broker: no anonymous access, one user per client, each limited to what it needs.

Static checks on the configuration, then the real thing: Mosquitto started with the stack's own
configuration, ACL and start script, and clients that try what each role may and may not do.
"""

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import getpass
import os
from pathlib import Path
import queue
import secrets
import shutil
import socket
import subprocess

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
import pytest

from tests.helpers.mosquitto import free_port, wait_for_port
from tests.helpers.mqtt_clients import publish_and_leave, receiving
from tests.stack import checks
from tests.stack.checks import Stack
from tests.stack.conftest import StackCopy

TIMEOUT = 10.0


def test_the_stack_passes(stack: Stack) -> None:
    """The repository's broker configuration passes."""
    assert checks.mosquitto_problems(stack) == []


def test_anonymous_access_is_caught(copy: StackCopy) -> None:
    """allow_anonymous true would let anyone on the network switch the house's loads."""
    copy.replace("mosquitto/mosquitto.conf", "allow_anonymous false", "allow_anonymous true")
    assert checks.mosquitto_problems(copy.stack) == [
        "mosquitto.conf does not say allow_anonymous false"
    ]


def test_missing_password_file_is_caught(copy: StackCopy) -> None:
    """Without a password file no user can log in, and without an ACL every user may do all."""
    copy.replace("mosquitto/mosquitto.conf", "acl_file /mosquitto/auth/acl\n", "")
    assert checks.mosquitto_problems(copy.stack) == ["mosquitto.conf has no acl_file"]


def test_qos_0_states_delivered_at_qos_0_are_caught(copy: StackCopy) -> None:
    """Without upgrade_outgoing_qos a QoS 0 state reaches the bridge unacknowledged."""
    copy.replace("mosquitto/mosquitto.conf", "upgrade_outgoing_qos true\n", "")
    assert checks.mosquitto_problems(copy.stack) == [
        "mosquitto.conf does not say upgrade_outgoing_qos true"
    ]


def test_acl_user_that_does_not_exist_is_caught(copy: StackCopy) -> None:
    """An ACL entry for a user the broker never creates is a mistake waiting to bite."""
    copy.replace("mosquitto/acl", "user bridge\n", "user recorder\n")
    assert checks.mosquitto_problems(copy.stack) == [
        "ACL user recorder is never created by mosquitto/start.sh",
        "MQTT user bridge has no ACL entry: it could do nothing",
        "bridge logs in as bridge, who is not in the ACL",
    ]


def test_client_with_another_password_variable_is_caught(copy: StackCopy) -> None:
    """A client given another user's password cannot log in."""
    copy.replace(
        "docker-compose.yml",
        "MQTT_PASSWORD: ${MQTT_SIMULATOR_PASSWORD}",
        "MQTT_PASSWORD: ${MQTT_BRIDGE_PASSWORD}",
    )
    assert checks.mosquitto_problems(copy.stack) == [
        "simulator logs in as simulator with ${MQTT_BRIDGE_PASSWORD}"
    ]


def test_password_not_passed_to_the_broker_is_caught(copy: StackCopy) -> None:
    """The start script needs every user's password in the broker's environment."""
    copy.replace(
        "docker-compose.yml",
        "      MQTT_HOMEASSISTANT_PASSWORD: ${MQTT_HOMEASSISTANT_PASSWORD}\n",
        "",
    )
    assert checks.mosquitto_problems(copy.stack) == [
        "mosquitto does not receive MQTT_HOMEASSISTANT_PASSWORD, the password of homeassistant"
    ]


# --- The real broker ----------------------------------------------------------------------


@dataclass
class StackBroker:
    """Mosquitto run by the stack's start script with the stack's configuration."""

    port: int
    auth_dir: Path
    passwords: dict[str, str]

    def password(self, user: str) -> str:
        """The password the start script gave a user."""
        if user == "healthcheck":
            return (self.auth_dir / "healthcheck").read_text()
        return self.passwords[f"MQTT_{user.upper()}_PASSWORD"]


@pytest.fixture
def broker(tmp_path: Path, stack: Stack) -> Iterator[StackBroker]:
    """The stack's broker on a free port, its paths moved under tmp_path."""
    port = free_port()
    config_dir, auth_dir, data_dir = tmp_path / "config", tmp_path / "auth", tmp_path / "data"
    config_dir.mkdir()
    data_dir.mkdir()
    shutil.copy(stack.root / "mosquitto/acl", config_dir / "acl")
    config = (stack.root / "mosquitto/mosquitto.conf").read_text()
    config = (
        config.replace("listener 1883", f"listener {port} 127.0.0.1")
        .replace("/mosquitto/auth", str(auth_dir))
        .replace("/mosquitto/data/", f"{data_dir}/")
    )
    # Stay the current user: as root, Mosquitto would switch to `mosquitto`.
    (config_dir / "mosquitto.conf").write_text(f"user {getpass.getuser()}\n{config}")
    passwords = {
        variable: secrets.token_urlsafe(12) for variable in checks.broker_users(stack).values()
    }
    process = subprocess.Popen(
        ["sh", str(stack.root / "mosquitto/start.sh")],
        env={
            **os.environ,
            **passwords,
            "PATH": f"/usr/sbin:{os.environ['PATH']}",
            "MOSQUITTO_CONFIG": str(config_dir / "mosquitto.conf"),
            "MOSQUITTO_AUTH_DIR": str(auth_dir),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield StackBroker(port, auth_dir, passwords)
    finally:
        process.terminate()
        process.wait(timeout=10)


def connect(broker: StackBroker, user: str | None, password: str | None = None) -> mqtt.Client:
    """A client connected as `user`; raises ConnectionRefusedError if the broker refuses."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}")
    if user is not None:
        client.username_pw_set(user, broker.password(user) if password is None else password)
    outcome: queue.Queue[ReasonCode] = queue.Queue()
    client.on_connect = lambda _client, _data, _flags, reason, _props: outcome.put(reason)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    reason = outcome.get(timeout=TIMEOUT)
    if reason.is_failure:
        client.loop_stop()
        raise ConnectionRefusedError(str(reason))
    return client


def listening(
    broker: StackBroker, user: str, topic: str
) -> contextlib.AbstractContextManager[queue.Queue[str]]:
    """Topics of the messages `user` receives on a subscription, while the block runs."""
    return receiving(connect(broker, user), topic, TIMEOUT)


def publish(broker: StackBroker, user: str, *topics: str) -> None:
    """Publish to each topic in order as `user`, and wait until the broker took them."""
    publish_and_leave(connect(broker, user), *topics, timeout=TIMEOUT)


def delivered(broker: StackBroker, publisher: str, topic: str, reader: str) -> bool:
    """Whether the reader receives what the publisher sends on `topic`.

    The publisher then sends a message the reader surely receives: the broker delivers one
    client's messages in order, so when it arrives, the first one has come or never will.
    """
    sentinel = {
        "bridge": "zigbee2mqtt/sentinel/set",
        "homeassistant": "homeassistant/status",
    }.get(publisher, "zigbee2mqtt/sentinel")
    with listening(broker, reader, "#") as received:
        publish(broker, publisher, topic, sentinel)
        topics = []
        while sentinel not in topics:
            topics.append(received.get(timeout=TIMEOUT))
    return topic in topics


def test_anonymous_clients_are_refused(broker: StackBroker) -> None:
    """No login, no access."""
    with pytest.raises(ConnectionRefusedError):
        connect(broker, None)


def test_wrong_password_is_refused(broker: StackBroker) -> None:
    """A user's name is not enough."""
    with pytest.raises(ConnectionRefusedError):
        connect(broker, "bridge", "not-the-password")


def test_simulator_publishes_states_that_home_assistant_and_the_bridge_read(
    broker: StackBroker,
) -> None:
    """The simulator, standing in for Zigbee2MQTT, reaches both of its readers."""
    assert delivered(broker, "simulator", "zigbee2mqtt/fridge", "homeassistant")
    assert delivered(broker, "simulator", "zigbee2mqtt/fridge", "bridge")
    assert delivered(
        broker, "simulator", "homeassistant/sensor/fridge/power/config", "homeassistant"
    )


def test_home_assistant_sends_commands_and_its_status_but_no_states(broker: StackBroker) -> None:
    """HA switches loads and announces itself; it cannot forge a device's state or discovery."""
    assert delivered(broker, "homeassistant", "zigbee2mqtt/fridge/set", "simulator")
    assert delivered(broker, "homeassistant", "zigbee2mqtt/bridge/request/permit_join", "simulator")
    assert not delivered(broker, "homeassistant", "zigbee2mqtt/fridge", "simulator")
    assert not delivered(broker, "homeassistant", "homeassistant/switch/x/config", "simulator")


def test_bridge_sends_commands_but_never_states(broker: StackBroker) -> None:
    """The bridge's API may switch a device; it cannot write what devices report."""
    assert delivered(broker, "bridge", "zigbee2mqtt/fridge/set", "simulator")
    assert not delivered(broker, "bridge", "zigbee2mqtt/fridge", "simulator")
    assert not delivered(broker, "bridge", "energy_edge/simulator/control", "simulator")


# Zigbee2MQTT's friendly names may hold `/` (room/device, floor/room/device), and a command may
# name an endpoint (`<name>/l1/set`) or an attribute (`<name>/set/state`).
NESTED_COMMANDS = [
    "zigbee2mqtt/cuisine/frigo/set",
    "zigbee2mqtt/cuisine/frigo/set/state",
    "zigbee2mqtt/cuisine/frigo/get",
    "zigbee2mqtt/cuisine/frigo/get/state",
    "zigbee2mqtt/maison/rdc/cuisine/frigo/set",
    "zigbee2mqtt/maison/rdc/cuisine/prises/double/l1/set",
]


@pytest.mark.parametrize("topic", NESTED_COMMANDS)
def test_home_assistant_commands_devices_named_with_slashes(
    broker: StackBroker, topic: str
) -> None:
    """Shedding and scheduling switch `cuisine/frigo` as they switch `frigo`."""
    assert delivered(broker, "homeassistant", topic, "zigbee2mqtt")


@pytest.mark.parametrize("topic", [topic for topic in NESTED_COMMANDS if topic.endswith("/set")])
def test_bridge_commands_devices_named_with_slashes(broker: StackBroker, topic: str) -> None:
    """The bridge's `POST /api/devices/{name}/set` reaches `cuisine/frigo` too."""
    assert delivered(broker, "bridge", topic, "zigbee2mqtt")


@pytest.mark.parametrize(
    ("user", "topic"),
    [
        # A nested device's state, its availability, and Zigbee2MQTT's own topics.
        ("homeassistant", "zigbee2mqtt/cuisine/frigo"),
        ("homeassistant", "zigbee2mqtt/cuisine/frigo/availability"),
        ("homeassistant", "zigbee2mqtt/bridge/devices"),
        ("bridge", "zigbee2mqtt/cuisine/frigo"),
        ("bridge", "zigbee2mqtt/cuisine/frigo/availability"),
        ("bridge", "zigbee2mqtt/bridge/request/permit_join"),
        # The bridge only sets; it neither reads devices over Zigbee nor sets attributes.
        ("bridge", "zigbee2mqtt/cuisine/frigo/get"),
        # Outside the base topic.
        ("homeassistant", "other/cuisine/frigo/set"),
        ("bridge", "other/cuisine/frigo/set"),
        # The documented bound: 7 levels between the base topic and `set`.
        ("homeassistant", "zigbee2mqtt/a/b/c/d/e/f/g/set"),
        ("bridge", "zigbee2mqtt/a/b/c/d/e/f/g/set"),
    ],
)
def test_command_rights_stop_at_commands(broker: StackBroker, user: str, topic: str) -> None:
    """Allowing nested names grants no state, availability or bridge topic at any depth."""
    assert not delivered(broker, user, topic, "zigbee2mqtt")


def raw_publish(broker: StackBroker, user: str, topic: str) -> bytes:
    """Log in and publish at QoS 0 without a client library (paho refuses wildcard topics).

    Returns what the broker sent back after the PUBLISH: b"" once it closed the connection.
    """

    def text(value: str) -> bytes:
        encoded = value.encode()
        return len(encoded).to_bytes(2, "big") + encoded

    def packet(kind: int, body: bytes) -> bytes:
        assert len(body) < 128  # one-byte remaining length
        return bytes([kind, len(body)]) + body

    # MQTT 3.1.1 CONNECT: protocol name and level, flags (user, password, clean session).
    connect_body = (
        text("MQTT")
        + bytes([4, 0b1100_0010])
        + (60).to_bytes(2, "big")
        + text(f"raw-{user}")
        + text(user)
        + text(broker.password(user))
    )
    with socket.create_connection(("127.0.0.1", broker.port), timeout=TIMEOUT) as connection:
        connection.sendall(packet(0x10, connect_body))
        assert connection.recv(4) == b"\x20\x02\x00\x00"  # CONNACK, accepted
        connection.sendall(packet(0x30, text(topic) + b"{}"))
        return connection.recv(16)


@pytest.mark.parametrize("name", ["+", "cuisine/#", "a+b"])
def test_friendly_names_with_mqtt_wildcards_reach_no_device(broker: StackBroker, name: str) -> None:
    """Zigbee2MQTT refuses such names; the broker drops whoever publishes to such a topic.

    A topic with `+` or `#` is not a valid PUBLISH topic (MQTT 3.1.1, 4.7.1): Mosquitto closes
    the connection, so a spoofed discovery naming such a device cannot make a command fan out.
    """
    topic = f"zigbee2mqtt/{name}/set"
    with listening(broker, "zigbee2mqtt", "#") as received:
        assert raw_publish(broker, "homeassistant", topic) == b""
        publish(broker, "homeassistant", "homeassistant/status")
        topics = []
        while "homeassistant/status" not in topics:
            topics.append(received.get(timeout=TIMEOUT))
    assert topic not in topics


def test_bridge_reads_only_the_base_topic(broker: StackBroker) -> None:
    """Discovery configs are not the recorder's business."""
    assert not delivered(broker, "simulator", "homeassistant/sensor/x/config", "bridge")


def healthcheck_command(stack: Stack, service: str) -> str:
    """A service's CMD-SHELL healthcheck as its container's shell runs it."""
    kind, command = stack.services[service]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    return str(command).replace("$$", "$")


def test_broker_healthcheck_logs_in_and_fails_when_the_broker_is_down(
    broker: StackBroker, stack: Stack
) -> None:
    """The broker's healthcheck is a real login with the password only the container knows."""
    command = (
        healthcheck_command(stack, "mosquitto")
        .replace("-p 1883", f"-p {broker.port}")
        .replace("/mosquitto/auth", str(broker.auth_dir))
    )
    assert subprocess.run(["sh", "-c", command], check=False, timeout=20).returncode == 0
    wrong = command.replace(str(broker.auth_dir / "healthcheck"), "/dev/null")
    assert subprocess.run(["sh", "-c", wrong], check=False, timeout=20).returncode != 0


@pytest.mark.parametrize("service", ["simulator", "zigbee2mqtt"])
def test_mqtt_client_healthcheck_follows_the_broker_connection(
    broker: StackBroker, stack: Stack, service: str
) -> None:
    """Healthy while the client holds a connection to the broker, unhealthy once it lost it."""
    command = healthcheck_command(stack, service).replace(":075B ", f":{broker.port:04X} ")
    client = connect(broker, "simulator")
    assert subprocess.run(["sh", "-c", command], check=False, timeout=20).returncode == 0
    client.disconnect()
    client.loop_stop()
    assert subprocess.run(["sh", "-c", command], check=False, timeout=20).returncode == 1


def test_start_script_refuses_a_missing_password(tmp_path: Path, stack: Stack) -> None:
    """A broker with a user and no password would be a hole: the start script stops first."""
    result = subprocess.run(
        ["sh", str(stack.root / "mosquitto/start.sh")],
        env={**os.environ, "MOSQUITTO_AUTH_DIR": str(tmp_path), "MQTT_ZIGBEE2MQTT_PASSWORD": "x"},
        capture_output=True,
        text=True,
        check=False,
        timeout=20,
    )
    assert result.returncode == 1
    assert "no password for MQTT user 'simulator'" in result.stderr


def test_states_published_while_the_bridge_is_away_wait_for_it(broker: StackBroker) -> None:
    """Zigbee2MQTT's QoS 0 states, sent while the bridge restarts, reach it when it is back."""

    def bridge_session(*, clean_start: bool) -> tuple[mqtt.Client, queue.Queue[str]]:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="bridge-session", protocol=mqtt.MQTTv5
        )
        client.username_pw_set("bridge", broker.password("bridge"))
        received: queue.Queue[str] = queue.Queue()
        subscribed: queue.Queue[bool] = queue.Queue()
        client.on_message = lambda _client, _data, message: received.put(message.topic)
        client.on_subscribe = lambda *_args: subscribed.put(True)
        client.connect(
            "127.0.0.1",
            broker.port,
            clean_start=clean_start,
            properties=session_expiry(3600),
        )
        client.loop_start()
        if clean_start:
            client.subscribe("zigbee2mqtt/#", qos=1)
            subscribed.get(timeout=TIMEOUT)
        return client, received

    client, _ = bridge_session(clean_start=True)
    client.disconnect()
    client.loop_stop()

    simulator = connect(broker, "simulator")
    simulator.publish("zigbee2mqtt/fridge", b'{"power":95}', qos=0).wait_for_publish(TIMEOUT)
    simulator.disconnect()
    simulator.loop_stop()

    client, received = bridge_session(clean_start=False)
    try:
        assert received.get(timeout=TIMEOUT) == "zigbee2mqtt/fridge"
    finally:
        client.disconnect()
        client.loop_stop()


def test_qos_0_states_stay_with_the_broker_until_the_bridge_acknowledges_them(
    broker: StackBroker,
) -> None:
    """A QoS 0 state the bridge received but never acknowledged (it crashed) comes again.

    With upgrade_outgoing_qos the broker delivers Zigbee2MQTT's QoS 0 publishes at the bridge
    subscription's QoS 1 and keeps each until the bridge's PUBACK, which the bridge sends only
    once the reading is on disk. Delivered at QoS 0, the reading is gone at the first try.
    """

    def bridge_session(*, clean_start: bool) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage]]:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id="bridge-crash",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.username_pw_set("bridge", broker.password("bridge"))
        received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        subscribed: queue.Queue[bool] = queue.Queue()
        client.on_message = lambda _client, _data, message: received.put(message)
        client.on_subscribe = lambda *_args: subscribed.put(True)
        client.connect(
            "127.0.0.1", broker.port, clean_start=clean_start, properties=session_expiry(3600)
        )
        client.loop_start()
        if clean_start:
            client.subscribe("zigbee2mqtt/#", qos=1)
            subscribed.get(timeout=TIMEOUT)
        return client, received

    client, received = bridge_session(clean_start=True)
    simulator = connect(broker, "simulator")
    simulator.publish("zigbee2mqtt/fridge", b'{"power":95}', qos=0).wait_for_publish(TIMEOUT)
    simulator.disconnect()
    simulator.loop_stop()
    first = received.get(timeout=TIMEOUT)
    assert (first.topic, first.qos) == ("zigbee2mqtt/fridge", 1)
    # The crash: the connection drops without the PUBACK (no DISCONNECT either).
    client.loop_stop()
    client.socket().close()

    client, received = bridge_session(clean_start=False)
    try:
        again = received.get(timeout=TIMEOUT)
        assert (again.topic, again.payload, again.dup) == (
            "zigbee2mqtt/fridge",
            b'{"power":95}',
            True,
        )
    finally:
        client.disconnect()
        client.loop_stop()


def session_expiry(seconds: int) -> Properties:
    """CONNECT properties keeping the session on the broker for `seconds` after a disconnect."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = seconds
    return properties
