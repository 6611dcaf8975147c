"""The native stack's broker, run as `./scripts/dev-stack` writes it: the Docker stack's ACL and
delivery settings, checked with real publishes."""

from collections.abc import Iterator
import queue
import subprocess

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
import pytest

from scripts.lib.devstack.credentials import Credentials
from scripts.lib.devstack.layout import StackLayout
from scripts.lib.devstack.mosquitto import MOSQUITTO, write_broker_config
from tests.helpers.mosquitto import free_port, wait_for_port

TIMEOUT = 10.0


class NativeBroker:
    """Mosquitto started with the configuration the native stack writes."""

    def __init__(self, layout: StackLayout, credentials: Credentials) -> None:
        self.layout = layout
        self.credentials = credentials

    def connect(self, user: str) -> mqtt.Client:
        """A client logged in as one of the stack's users."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}")
        client.username_pw_set(user, self.credentials.mqtt_passwords[user])
        connected: queue.Queue[bool] = queue.Queue()
        client.on_connect = lambda *_args: connected.put(True)
        client.connect(self.layout.host, self.layout.mqtt_port)
        client.loop_start()
        connected.get(timeout=TIMEOUT)
        return client

    def receive(self, reader: str, publisher: str, topic: str, qos: int) -> mqtt.MQTTMessage | None:
        """What `reader` (subscribed to `#` at QoS 1) gets of one message `publisher` sends.

        The publisher then writes a topic the reader surely gets: the broker keeps one client's
        messages in order, so once that one arrives the first came or never will.
        """
        received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        subscribed: queue.Queue[bool] = queue.Queue()
        listener = self.connect(reader)
        listener.on_message = lambda _client, _data, message: received.put(message)
        listener.on_subscribe = lambda *_args: subscribed.put(True)
        listener.subscribe("#", qos=1)
        subscribed.get(timeout=TIMEOUT)
        sender = self.connect(publisher)
        sender.publish(topic, b"{}", qos=qos).wait_for_publish(TIMEOUT)
        sentinel = (
            "zigbee2mqtt/sentinel/set" if publisher == "homeassistant" else "zigbee2mqtt/sentinel"
        )
        sender.publish(sentinel, b"{}", qos=1).wait_for_publish(TIMEOUT)
        found = None
        try:
            while (message := received.get(timeout=TIMEOUT)).topic != sentinel:
                if message.topic == topic:
                    found = message
        finally:
            for client in (sender, listener):
                client.disconnect()
                client.loop_stop()
        return found


@pytest.fixture
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeBroker]:
    """The native stack's broker on a free port, in a folder of its own."""
    layout = StackLayout.from_environment(
        {
            "DEV_STACK_DIR": str(tmp_path_factory.mktemp("stack")),
            "DEV_STACK_MQTT_PORT": str(free_port()),
        }
    )
    credentials = Credentials()
    config = write_broker_config(layout, credentials)
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(layout.mqtt_port)
        yield NativeBroker(layout, credentials)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "topic", ["zigbee2mqtt/cuisine/frigo/set", "zigbee2mqtt/maison/rdc/cuisine/frigo/set"]
)
def test_home_assistant_commands_devices_named_with_slashes(
    broker: NativeBroker, topic: str
) -> None:
    """Shedding in the native stack switches `cuisine/frigo`, as in the Docker stack."""
    assert broker.receive("zigbee2mqtt", "homeassistant", topic, qos=1) is not None


def test_home_assistant_still_cannot_write_a_nested_device_state(broker: NativeBroker) -> None:
    """Commands at any depth, but never what a device reports."""
    assert broker.receive("zigbee2mqtt", "homeassistant", "zigbee2mqtt/cuisine/frigo", 1) is None


def test_qos_0_states_reach_the_bridge_at_qos_1(broker: NativeBroker) -> None:
    """The bridge acknowledges each state once spooled, so the broker keeps it until then."""
    message = broker.receive("bridge", "simulator", "zigbee2mqtt/fridge", qos=0)
    assert message is not None
    assert message.qos == 1
