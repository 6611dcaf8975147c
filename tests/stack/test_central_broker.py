"""The central broker of many homes (docs/scale.md): real Mosquitto with the documented ACL,
`docs/central-broker.acl`. Each home's user touches its own home only; the Energy Edge bridge
reads every home and may only send commands."""

from collections.abc import Iterator
import contextlib
from pathlib import Path
import queue
import secrets

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
import pytest

from tests.helpers.mosquitto import Broker
from tests.helpers.mqtt_clients import publish_and_leave, receiving

REPOSITORY = Path(__file__).resolve().parents[2]
ACL = REPOSITORY / "docs" / "central-broker.acl"
BRIDGE = "energy-edge-bridge"
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """Mosquitto with the documented ACL, users `h1`, `h2` (homes) and the bridge."""
    broker = Broker(
        tmp_path_factory.mktemp("central"),
        extra_users={user: secrets.token_urlsafe(12) for user in ("h1", "h2", BRIDGE)},
        acl_file=ACL,
    )
    broker.start()
    yield broker
    broker.stop()


def connect(broker: Broker, user: str) -> mqtt.Client:
    """A client logged in as `user` (MQTT 5, as the bridge)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"test-{user}-{secrets.token_hex(4)}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.username_pw_set(user, broker.extra_users[user])
    connected: queue.Queue[bool] = queue.Queue()
    client.on_connect = lambda _c, _d, _f, reason, _p: connected.put(not reason.is_failure)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert connected.get(timeout=TIMEOUT), f"{user} could not log in"
    return client


def listening(
    broker: Broker, user: str, topic_filter: str
) -> contextlib.AbstractContextManager[queue.Queue[str]]:
    """The topics of what `user` receives on `topic_filter`, while the block runs."""
    return receiving(connect(broker, user), topic_filter, TIMEOUT)


def publish(broker: Broker, user: str, topic: str) -> None:
    """Publish at QoS 1 as `user` and wait until the broker took it (or dropped it)."""
    publish_and_leave(connect(broker, user), topic, timeout=TIMEOUT)


def delivered(
    broker: Broker, publisher: str, topic: str, reader: str, topic_filter: str = "#"
) -> bool:
    """Whether `reader` receives what `publisher` sends on `topic`. The reader then sends
    itself a sentinel (a command in its home, or in h1's for the bridge): the broker
    handles messages in order, so when the sentinel arrives the first one came or never will."""
    home = reader if reader != BRIDGE else "h1"
    sentinel = f"homes/{home}/zigbee2mqtt/sentinel/set"
    with listening(broker, reader, topic_filter) as received:
        publish(broker, publisher, topic)
        publish(broker, reader, sentinel)
        topics: list[str] = []
        while sentinel not in topics:
            topics.append(received.get(timeout=TIMEOUT))
    return topic in topics


@pytest.mark.parametrize(
    "topic_filter", ["$share/bridges/homes/+/zigbee2mqtt/#", "homes/+/zigbee2mqtt/#"]
)
@pytest.mark.parametrize(
    "topic",
    [
        "homes/h1/zigbee2mqtt/kettle",
        "homes/h1/zigbee2mqtt/cuisine/kettle/availability",
        "homes/h1/zigbee2mqtt/bridge/devices",
    ],
)
def test_a_home_reaches_the_bridge_with_its_own_topics(
    central: Broker, topic: str, topic_filter: str
) -> None:
    """Readings, availability and device lists of a home, through the shared subscription
    and an ordinary one alike."""
    assert delivered(central, "h1", topic, BRIDGE, topic_filter)


@pytest.mark.parametrize(
    "topic",
    [
        "homes/h2/zigbee2mqtt/kettle",
        "homes/h2/zigbee2mqtt/bridge/devices",
        "homes/h2/zigbee2mqtt/kettle/set",
        "zigbee2mqtt/kettle",
    ],
)
def test_a_home_cannot_forge_another_homes_topics(central: Broker, topic: str) -> None:
    """h1 can neither write readings, a device list nor a command of h2."""
    assert not delivered(central, "h1", topic, BRIDGE)
    assert not delivered(central, "h1", topic, "h2")


def test_a_home_reads_only_its_own_topics(central: Broker) -> None:
    """h1, subscribed to everything, never receives h2's readings nor its commands."""
    assert not delivered(central, "h2", "homes/h2/zigbee2mqtt/kettle", "h1")
    assert not delivered(central, BRIDGE, "homes/h2/zigbee2mqtt/kettle/set", "h1")
    assert delivered(central, "h2", "homes/h2/zigbee2mqtt/kettle", "h2")


@pytest.mark.parametrize(
    "topic",
    [
        "homes/h2/zigbee2mqtt/kettle/set",
        "homes/h2/zigbee2mqtt/maison/rdc/cuisine/prises/double/l1/set",
    ],
)
def test_the_bridge_sends_commands_to_every_home(central: Broker, topic: str) -> None:
    """Commands reach the home, friendly names of up to 6 levels included."""
    assert delivered(central, BRIDGE, topic, "h2")


@pytest.mark.parametrize(
    "topic",
    [
        "homes/h2/zigbee2mqtt/kettle",
        "homes/h2/zigbee2mqtt/kettle/availability",
        "homes/h2/zigbee2mqtt/bridge/devices",
        "homes/h2/zigbee2mqtt/bridge/request/permit_join",
        "homes/h2/zigbee2mqtt/kettle/get",
        "homes/h2/zigbee2mqtt/a/b/c/d/e/f/g/set",
    ],
)
def test_the_bridge_never_writes_what_homes_report(central: Broker, topic: str) -> None:
    """No state, availability, device list, bridge request or read, and 7 levels is past the
    documented bound."""
    assert not delivered(central, BRIDGE, topic, "h2")
