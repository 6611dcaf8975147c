"""The Mosquitto add-on settings that DOCS.md gives: with them a crash of the bridge loses nothing.

The add-on's broker is run here as its template configures what matters (persistence, at most
8192 queued messages, `include_dir` of the customize folder), with the lines DOCS.md tells the
user to put in `/share/mosquitto/energy-edge.conf`, and a client that subscribes as the bridge
does: MQTT 5, persistent session, QoS 1, manual acknowledgements.
"""

from collections.abc import Iterator
from pathlib import Path
import queue
import re

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
import pytest

from tests.helpers.mosquitto import Broker

DOCS = Path(__file__).resolve().parents[2] / "addon/energy_edge_bridge/DOCS.md"
TIMEOUT = 10.0


def documented_settings() -> str:
    """The text block DOCS.md tells the user to save as /share/mosquitto/energy-edge.conf."""
    found = re.search(
        r"`/share/mosquitto/energy-edge\.conf`[^`]*```text\n(.*?)```", DOCS.read_text(), re.DOTALL
    )
    assert found, "DOCS.md no longer shows the broker settings"
    return "\n".join(line.strip() for line in found[1].splitlines()) + "\n"


def add_on_broker(workdir: Path, *, customized: bool) -> Broker:
    """The add-on's broker, with or without the documented customize file."""
    broker = Broker(workdir, upgrade_outgoing_qos=False)  # as the add-on is installed
    broker._write_config()
    share = workdir / "share"
    share.mkdir()
    if customized:
        (share / "energy-edge.conf").write_text(documented_settings())
    with broker.config_path.open("a") as config:
        config.write(f"max_queued_messages 8192\ninclude_dir {share}\n")
    return broker


@pytest.fixture(params=[True, False], ids=["customized", "add-on defaults"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Broker, bool]]:
    """The add-on's broker, customized as DOCS.md says or left as installed."""
    started = add_on_broker(tmp_path, customized=request.param)
    started.start()
    try:
        yield started, request.param
    finally:
        started.stop()


def bridge_session(
    broker: Broker, *, clean_start: bool
) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage]]:
    """A client that subscribes as the bridge does; nothing is acknowledged."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bridge", protocol=mqtt.MQTTv5, manual_ack=True
    )
    client.username_pw_set(broker.username, broker.password)
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client.on_message = lambda _client, _data, message: received.put(message)
    client.on_subscribe = lambda *_args: subscribed.put(True)
    expiry = Properties(PacketTypes.CONNECT)
    expiry.SessionExpiryInterval = 7 * 24 * 3600
    client.connect("127.0.0.1", broker.port, clean_start=clean_start, properties=expiry)
    client.loop_start()
    if clean_start:
        client.subscribe("zigbee2mqtt/#", qos=1)
        subscribed.get(timeout=TIMEOUT)
    return client, received


def zigbee2mqtt_publishes(broker: Broker, topic: str) -> None:
    """A state at QoS 0, as Zigbee2MQTT sends it by default."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="zigbee2mqtt")
    client.username_pw_set(broker.username, broker.password)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, b'{"power":95}', qos=0).wait_for_publish(TIMEOUT)
    client.disconnect()
    client.loop_stop()


def test_readings_the_bridge_never_acknowledged_or_missed_come_again(
    broker: tuple[Broker, bool],
) -> None:
    """Customized: the reading in hand at the crash and the one sent while away both arrive.

    As installed, neither does: the add-on's defaults lose them, which is why DOCS.md asks for
    the settings.
    """
    add_on, customized = broker
    client, received = bridge_session(add_on, clean_start=True)
    zigbee2mqtt_publishes(add_on, "zigbee2mqtt/fridge")
    in_hand = received.get(timeout=TIMEOUT)
    assert in_hand.qos == (1 if customized else 0)
    client.loop_stop()
    client.socket().close()  # killed: no acknowledgement, no DISCONNECT
    zigbee2mqtt_publishes(add_on, "zigbee2mqtt/oven")

    client, received = bridge_session(add_on, clean_start=False)
    topics = []
    try:
        zigbee2mqtt_publishes(add_on, "zigbee2mqtt/last")
        while (message := received.get(timeout=TIMEOUT)).topic != "zigbee2mqtt/last":
            topics.append(message.topic)
    finally:
        client.disconnect()
        client.loop_stop()
    expected = ["zigbee2mqtt/fridge", "zigbee2mqtt/oven"] if customized else []
    assert topics == expected
