"""The simulator's MQTT connection: paho-mqtt with Zigbee2MQTT's last will, checked publishes,
and retained topics republished whenever the broker comes back."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
import logging
import queue
import ssl
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

_LOGGER = logging.getLogger(__name__)
# paho refuses a QoS>0 publish (rc 15) once 65,535 are unacknowledged: stay well below.
MAX_UNACKNOWLEDGED = 60_000
ACK_WAIT_S = 30.0
CONNECT_TIMEOUT_S = 10.0


class BrokerUnavailableError(RuntimeError):
    """The broker cannot be reached or refused us; the message says which and why."""


@dataclass(frozen=True)
class Inbound:
    """A message received from the broker."""

    topic: str
    payload: bytes
    retain: bool


@dataclass(frozen=True)
class ConnectionChange:
    """The connection to the broker was established again, or lost."""

    connected: bool


@dataclass(frozen=True)
class BrokerAddress:
    """Where and how to connect."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None


class Publisher:
    """Publishes for the simulator and hands what it receives to `inbox`.

    Every publish checks paho's return code: a full queue (rc 15) waits for acknowledgements and
    retries; while disconnected, retained messages are kept and republished on reconnection, and
    lost non-retained ones are counted and logged, never dropped silently.
    """

    def __init__(
        self,
        address: BrokerAddress,
        *,
        will: tuple[str, str],
        subscriptions: Iterable[str],
        inbox: queue.Queue[Inbound | ConnectionChange],
        max_unacknowledged: int = MAX_UNACKNOWLEDGED,
        max_queued: int = 0,
        ack_wait_s: float = ACK_WAIT_S,
    ) -> None:
        """Prepare the client; `connect()` opens the connection.

        `max_queued` caps paho's own queue (0: only the 65,535 message ids limit it).
        """
        self.address = address
        self._max_unacknowledged = max_unacknowledged
        self._ack_wait_s = ack_wait_s
        self.inbox = inbox
        self._subscriptions = tuple(subscriptions)
        self._retained: dict[str, tuple[bytes, int]] = {}
        self._unacknowledged: set[int] = set()
        self._acks = threading.Condition()
        self._connected = threading.Event()
        self._refused: str | None = None
        self._ever_connected = False
        self._closing = False
        self.dropped = 0
        self.published = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=address.client_id, protocol=mqtt.MQTTv311
        )
        if address.username is not None:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set(ca_certs=address.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        will_topic, will_payload = will
        client.will_set(will_topic, will_payload, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(max_queued)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        self._client = client

    @property
    def connected(self) -> bool:
        """The broker accepted us and the connection is up."""
        return self._connected.is_set()

    def connect(self, timeout: float = CONNECT_TIMEOUT_S) -> None:
        """Connect and wait for the broker's answer; `BrokerUnavailableError` if there is none."""
        where = f"{self.address.host}:{self.address.port}"
        try:
            self._client.connect(self.address.host, self.address.port, keepalive=30)
        except (OSError, ValueError) as error:
            raise BrokerUnavailableError(
                f"cannot reach the MQTT broker at {where}: {error}"
            ) from None
        self._client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.05):
            if self._refused is not None or time.monotonic() > deadline:
                self._client.loop_stop()
                reason = self._refused or f"no answer within {timeout:.0f} s"
                raise BrokerUnavailableError(
                    f"the MQTT broker at {where} refused the connection: {reason}"
                )

    def flush(self, timeout: float) -> bool:
        """Wait until the broker acknowledged every QoS>0 message; False if some are pending."""
        with self._acks:
            done = self._acks.wait_for(lambda: not self._unacknowledged, timeout)
        if not done:
            _LOGGER.warning("%d messages unacknowledged at shutdown", len(self._unacknowledged))
        return done

    def disconnect(self) -> None:
        """Close the connection (the last will is not sent)."""
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()

    def publish(
        self, topic: str, payload: str | bytes, *, qos: int = 0, retain: bool = False
    ) -> bool:
        """Publish one message; True once paho has taken it.

        Retained messages are remembered (an empty payload forgets the topic), so that they can be
        republished after a reconnection, as Zigbee2MQTT does.
        """
        data = payload.encode() if isinstance(payload, str) else payload
        if retain:
            if data:
                self._retained[topic] = (data, qos)
            else:
                self._retained.pop(topic, None)
        return self._send(topic, data, qos, retain)

    def republish_retained(self, first: Callable[[str], bool] = lambda _topic: False) -> int:
        """Publish every remembered retained message again (those matching `first` first)."""
        topics = sorted(self._retained, key=lambda topic: not first(topic))
        sent = 0
        for topic in topics:
            data, qos = self._retained[topic]
            sent += self._send(topic, data, qos, retain=True)
        return sent

    def retained_topics(self) -> set[str]:
        """Topics of the retained messages currently published."""
        return set(self._retained)

    def _send(self, topic: str, data: bytes, qos: int, retain: bool) -> bool:
        if not self.connected:
            if not retain:
                self._count_drop(topic, "not connected")
            return False
        while True:
            if qos > 0:
                self._wait_for_room()
            info = self._client.publish(topic, data, qos=qos, retain=retain)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                self.published += 1
                if qos > 0:
                    with self._acks:
                        self._unacknowledged.add(info.mid)
                return True
            if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                _LOGGER.warning("paho's queue is full (rc 15): waiting for acknowledgements")
                self._wait_for_room(drain=True)
                continue
            if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and qos > 0:
                return True  # paho keeps QoS>0 messages and sends them on reconnection
            self._count_drop(topic, mqtt.error_string(info.rc))
            return False

    def _wait_for_room(self, *, drain: bool = False) -> None:
        limit = 0 if drain else self._max_unacknowledged - 1
        with self._acks:
            if not self._acks.wait_for(
                lambda: len(self._unacknowledged) <= limit, self._ack_wait_s
            ):
                _LOGGER.warning(
                    "%d messages still unacknowledged after %g s; going on",
                    len(self._unacknowledged),
                    self._ack_wait_s,
                )
                self._unacknowledged.clear()

    def _count_drop(self, topic: str, reason: str) -> None:
        self.dropped += 1
        log = _LOGGER.warning if self.dropped == 1 or self.dropped % 1000 == 0 else _LOGGER.debug
        log("message to %s not sent (%s); %d lost so far", topic, reason, self.dropped)

    # -- paho callbacks (network thread) ------------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: object,
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            _LOGGER.error("the broker refused the connection: %s", reason)
            return
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        with self._acks:
            self._unacknowledged.clear()  # paho resends its own queue; do not wait for old mids
            self._acks.notify_all()
        self._connected.set()
        if self._ever_connected:
            self.inbox.put(ConnectionChange(connected=True))
        self._ever_connected = True

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: object,
    ) -> None:
        if self._connected.is_set():
            self._connected.clear()
            if self._closing:
                return
            _LOGGER.warning("lost the MQTT broker (%s); reconnecting", reason)
            self.inbox.put(ConnectionChange(connected=False))

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        self.inbox.put(Inbound(message.topic, message.payload, bool(message.retain)))

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        _reason: ReasonCode,
        _properties: object,
    ) -> None:
        with self._acks:
            self._unacknowledged.discard(mid)
            self._acks.notify_all()
