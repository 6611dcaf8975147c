"""paho-mqtt clients on the stack's broker, as one of its users."""

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import queue

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from scripts.lib.devstack.layout import StackLayout


def connect_reason(layout: StackLayout, username: str | None, password: str | None) -> str:
    """How the broker answers a connection with these credentials ("Success", "Not authorized")."""
    answered: queue.Queue[ReasonCode] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: answered.put(reason)
    client.connect(layout.host, layout.mqtt_port)
    client.loop_start()
    try:
        return str(answered.get(timeout=10))
    finally:
        client.disconnect()
        client.loop_stop()


@dataclass
class MqttSession:
    """A connected client that keeps every message it receives."""

    client: mqtt.Client
    messages: queue.Queue[mqtt.MQTTMessage] = field(default_factory=queue.Queue)

    def subscribe(self, *topics: str) -> None:
        """Subscribe at QoS 1 and wait for the broker's acknowledgement."""
        granted: queue.Queue[object] = queue.Queue()
        self.client.on_subscribe = lambda *_args: granted.put(True)
        for topic in topics:
            self.client.subscribe(topic, qos=1)
            granted.get(timeout=10)

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        """Publish at QoS 1 and wait until the broker has it."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish to {topic}: rc {info.rc}"
        info.wait_for_publish(timeout=10)

    def next_message(self, within: float = 10.0) -> mqtt.MQTTMessage:
        """The next message received, waiting at most `within` seconds."""
        return self.messages.get(timeout=within)


@contextlib.contextmanager
def mqtt_session(layout: StackLayout, username: str, password: str) -> Iterator[MqttSession]:
    """A client connected as a user of the stack, disconnected at the end."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set(username, password)
    session = MqttSession(client)
    connected: queue.Queue[ReasonCode] = queue.Queue()
    client.on_connect = lambda _c, _u, _f, reason, _p: connected.put(reason)
    client.on_message = lambda _c, _u, message: session.messages.put(message)
    client.connect(layout.host, layout.mqtt_port)
    client.loop_start()
    try:
        reason = connected.get(timeout=10)
        assert not reason.is_failure, f"{username} cannot connect: {reason}"
        yield session
    finally:
        client.disconnect()
        client.loop_stop()
