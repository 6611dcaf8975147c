"""MQTT ingest: Zigbee2MQTT's messages in, durable points out.

One thread owns the paho client and runs its network loop. Each message becomes line protocol
at once, stamped with its time of receipt. Every few milliseconds the batch is written to the
spool and fsynced, and only then are its messages acknowledged to the broker (paho's manual
acknowledgements, a persistent session, QoS 1 subscriptions). Killed at any moment, the bridge
loses nothing: the broker delivers again whatever was not acknowledged.
"""

from array import array
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
import errno
import hashlib
from io import FileIO
import json
import logging
import os
from pathlib import Path
import select
import struct
import threading
import time
import zlib

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from zigbee2mqtt_protocol.bridge import bridge_devices_of, parse_bridge_devices, parse_bridge_event
from zigbee2mqtt_protocol.errors import RejectedInputError
from zigbee2mqtt_protocol.payloads import MAX_DEVICE_LIST_BYTES, decode_object, parse_online
from zigbee2mqtt_protocol.state import last_seen_ms, read_state
from zigbee2mqtt_protocol.topics import TopicKind, Topics

from . import schema
from .commands import CommandFailedError
from .line_protocol import LineEncoder, escape_measurement, tag_set
from .metrics import BAD_TOPIC
from .settings import DEFAULT_RECEIVE_MAXIMUM, BridgeSettings
from .spool import Spool, SpoolError, write_private
from .state import BridgeState, Clock

_LOGGER = logging.getLogger(__name__)

# In a share group, the subscription each message came through (MQTT 5 subscription ids).
SHARED_SUBSCRIPTION_ID = 1
METADATA_SUBSCRIPTION_ID = 2
# Availability topics are matched level by level (an MQTT filter cannot exclude the state
# topics): friendly names of up to this many levels are followed in a share group.
MAX_SHARED_NAME_LEVELS = 4
KEEPALIVE_S = 30
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0
IDLE_POLL_S = 0.1  # how soon commands and a stop request are noticed
CONNECT_TIMEOUT_S = 5.0  # paho's default
# While the spool refuses writes: retries back off up to this.
SPOOL_RETRY_MIN_S = 0.5
SPOOL_RETRY_MAX_S = 10.0
# Points of QoS 0 messages held in memory while the spool refuses them; past this they are
# dropped, counted (QoS 1 messages stay unacknowledged: the broker keeps them, and sends no
# more than MQTT_RECEIVE_MAXIMUM of them ahead).
MAX_UNSPOOLED_QOS0_POINTS = 20_000


class ReceiptTimes:
    """The time each recent QoS 1 message was stamped with, by packet id and checksum, so that
    a message the broker delivers again gets the same time again.

    A message is spooled, then acknowledged. A crash or a lost connection in between, or
    acknowledgements the broker had not read yet when a killed process's socket was reset,
    and the broker sends the message again (flagged DUP, same packet id). Stamped anew, it
    would be a second point; stamped with its first time, it is the same point, which
    InfluxDB overwrites. Times are recorded *before* the spool write, so there is no moment
    at which a message is spooled and its time forgotten. Kept for the last `capacity`
    messages (the broker never has more than MQTT_RECEIVE_MAXIMUM of ours unacknowledged), in
    memory and appended to a file for restarts; the file is not fsynced: a power cut can
    cost duplicates, never a loss.
    """

    _RECORD = struct.Struct("<HIq")  # packet id, checksum, time in ns

    def __init__(self, path: Path, capacity: int = DEFAULT_RECEIVE_MAXIMUM) -> None:
        self._path = path
        self._capacity = capacity
        # A ring of the last `capacity` receipts, in three compact arrays.
        self._ids = array("H", bytes(2 * capacity))
        self._digests = array("I", bytes(4 * capacity))
        self._times = array("q", bytes(8 * capacity))
        self._next = self._count = 0
        self._index: dict[int, int] | None = None  # packet id -> ring position, when asked
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        usable = len(data) - len(data) % self._RECORD.size  # a torn last record is dropped
        self._add(self._RECORD.iter_unpack(data[:usable]))
        self._file = self._rewrite()

    def first_time(self, packet_id: int, digest: int) -> int | None:
        """The time a redelivered message was stamped with, if it is a recent one."""
        if self._index is None:  # built once per burst of redeliveries, not per message
            self._index = {self._ids[position]: position for position in self._positions()}
        position = self._index.get(packet_id)
        if position is None or self._digests[position] != digest:
            return None
        return self._times[position]

    def remember(self, batch: Mapping[int, tuple[int, int]]) -> None:
        """Keep a batch's packet ids, checksums and times; call before spooling it.

        Raises `SpoolError` when the disk refuses them (the file is left as it was)."""
        if not batch:
            return
        records = [(packet_id, *known) for packet_id, known in batch.items()]
        data = b"".join(self._RECORD.pack(*record) for record in records)
        try:
            if self._in_file + len(records) > 2 * self._capacity:
                self._add(records)
                replaced = self._rewrite()
                self._file.close()
                self._file = replaced
                return
            start = self._file.tell()
            # Unbuffered, one write: a killed process leaves whole records.
            if self._file.write(data) != len(data):
                self._file.truncate(start)  # a short write would shift every later record
                # A short write is the disk filling up: say it as the kernel says ENOSPC.
                short = f"{os.strerror(errno.ENOSPC)} (short write)"
                raise OSError(errno.ENOSPC, short)  # noqa: TRY301 - handled below
        except OSError as error:
            raise SpoolError(f"cannot write {self._path}: {error}") from error
        self._add(records)
        self._in_file += len(records)

    def _add(self, records: Iterable[tuple[int, int, int]]) -> None:
        position = self._next
        for packet_id, digest, time_ns in records:
            self._ids[position] = packet_id
            self._digests[position] = digest
            self._times[position] = time_ns
            position = (position + 1) % self._capacity
            self._count += 1
        self._next = position
        self._count = min(self._count, self._capacity)
        self._index = None

    def _positions(self) -> list[int]:
        """Ring positions, oldest first."""
        first = (self._next - self._count) % self._capacity
        return [(first + n) % self._capacity for n in range(self._count)]

    def _rewrite(self) -> FileIO:
        """Start the file again with the receipts kept (atomically: a new file renamed)."""
        write_private(
            self._path,
            b"".join(
                self._RECORD.pack(self._ids[p], self._digests[p], self._times[p])
                for p in self._positions()
            ),
        )
        self._in_file = self._count
        return self._path.open("ab", buffering=0)

    def close(self) -> None:
        """Release the file."""
        self._file.close()


class Ingest:
    """Subscribes to Zigbee2MQTT's topics and spools every reading before acknowledging it."""

    def __init__(
        self,
        settings: BridgeSettings,
        spool: Spool,
        state: BridgeState,
        *,
        clock: Clock = time.time_ns,
    ) -> None:
        self._settings = settings
        self._spool = spool
        self._registry = state.registry
        self._counters = state.counters
        self._links = state.links
        self._outbox = state.outbox
        self._heartbeat = state.loops.ingest
        self._clock = clock
        self._topics = Topics(settings.z2m_base_topic)
        self._encoder = LineEncoder()
        self._state_series = escape_measurement(settings.influxdb_measurement)
        self._availability_series = escape_measurement(schema.AVAILABILITY_MEASUREMENT)
        self._bridge_series = escape_measurement(schema.BRIDGE_EVENT_MEASUREMENT)
        self._receipts = ReceiptTimes(
            spool.directory / "mqtt-receipts", settings.mqtt_receive_maximum
        )
        self._last_time_ns = 0
        self._devices_path = spool.directory / "bridge-devices.json"
        self._site_devices_dir = spool.directory / "bridge-devices"
        self._known_devices()
        self._registry.start_listening(clock())
        # The batch being received: lines to spool, then messages to acknowledge.
        self._lines: list[str] = []
        self._acks: list[tuple[int, int]] = []
        self._times: dict[int, tuple[int, int]] = {}  # packet id -> (checksum, time)
        self._batch_deadline = 0.0
        self._commands: dict[int, Future[None]] = {}
        self._unspooled_qos0 = 0  # points of QoS 0 messages among the lines
        self._connection_up = False
        self._refusal: str | None = None  # why the broker refused the last connection
        self._spool_retry_s = SPOOL_RETRY_MIN_S
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        settings = self._settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if settings.mqtt_username is not None:
            password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
            client.username_pw_set(settings.mqtt_username, password)
        if settings.mqtt_tls:
            client.tls_set(ca_certs=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    # -- the thread ----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Receive until `stop` is set, reconnecting with backoff; then commit and disconnect."""
        delay = RECONNECT_MIN_S
        while not stop.is_set():
            self._heartbeat.beat(CONNECT_TIMEOUT_S + max(delay, IDLE_POLL_S, SPOOL_RETRY_MAX_S))
            if not self._connection_up:
                if not self._connect():
                    self._publish_commands()  # they fail: no broker
                    stop.wait(delay)
                    delay = min(delay * 2, RECONNECT_MAX_S)
                    continue
                delay = RECONNECT_MIN_S
            rc = self._network(self._poll_timeout())
            if self._acks or self._lines:
                self._commit_when_due()
            self._publish_commands()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._connection_lost(self._refusal or f"connection lost: {mqtt.error_string(rc)}")
                stop.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
        self._commit()
        if self._connection_up:
            self._client.disconnect()  # the broker keeps the session for the next start
            self._connection_up = False
        self._links.mqtt_connected = False
        self._links.mqtt_problem = "the bridge is stopping"
        self._fail_commands("the bridge is stopping")
        self._receipts.close()

    def _connect(self) -> bool:
        settings = self._settings
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = settings.mqtt_session_expiry_s
        properties.ReceiveMaximum = settings.mqtt_receive_maximum
        try:
            self._client.connect(
                settings.mqtt_host,
                settings.mqtt_port,
                keepalive=KEEPALIVE_S,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ValueError) as error:
            self._set_mqtt_problem(
                f"cannot connect to {settings.mqtt_host}:{settings.mqtt_port}: {error}"
            )
            return False
        self._connection_up = True
        return True

    def _network(self, timeout: float) -> MQTTErrorCode:
        """One turn of paho's external event loop: wait for the socket, read, write, keep
        alive. Unlike `loop()`, it needs no wake-up socket pair: one system call less for
        every acknowledgement, which paho then writes at once."""
        client = self._client
        sock = client.socket()
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = getattr(sock, "pending", None)  # TLS may hold decrypted bytes already
        if pending is not None and pending():
            readable = True
        else:
            wanted = [sock] if client.want_write() else []
            readable = bool(select.select([sock], wanted, [], timeout)[0])
        if readable and (rc := client.loop_read()) != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return rc
        if client.want_write() and (rc := client.loop_write()) != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return rc
        return client.loop_misc()

    def _poll_timeout(self) -> float:
        if self._acks or self._lines:
            return max(0.0, self._batch_deadline - time.monotonic())
        return IDLE_POLL_S

    def _connection_lost(self, reason: str) -> None:
        """Spool what was received; the broker delivers the unacknowledged messages again."""
        self._commit(acknowledge=False)
        self._acks = []  # their packet ids belong to the lost connection
        self._connection_up = False
        self._fail_commands(f"MQTT {reason} before the broker confirmed the command")
        self._set_mqtt_problem(reason)

    def _fail_commands(self, reason: str) -> None:
        for future in self._commands.values():
            future.set_exception(CommandFailedError(reason))
        self._commands.clear()

    def _set_mqtt_problem(self, problem: str) -> None:
        if self._links.mqtt_problem != problem:
            _LOGGER.warning("MQTT: %s", problem)
        self._links.mqtt_connected = False
        self._links.mqtt_problem = problem

    # -- paho callbacks (on this thread, inside client.loop) -----------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._refusal = f"the broker refused the connection: {reason_code}"
            return
        self._refusal = None
        # Subscribing again is harmless with a kept session and needed without one; retained
        # messages come with it, bridge/devices first among what matters.
        group = self._settings.mqtt_share_group
        if group is None:
            client.subscribe(self._topics.subscription, options=SubscribeOptions(qos=1))
        else:
            # Messages are shared out, each recorded by one instance; metadata also reaches
            # every instance (Mosquitto sends no retained message to a $share/ filter, and
            # bridge/devices is retained).
            shared = [(f"$share/{group}/{self._topics.subscription}", SubscribeOptions(qos=1))]
            client.subscribe(shared, properties=_identified(SHARED_SUBSCRIPTION_ID))
            client.subscribe(
                [(topic, SubscribeOptions(qos=1)) for topic in self._metadata_filters()],
                properties=_identified(METADATA_SUBSCRIPTION_ID),
            )
        _LOGGER.debug("connected, session present: %s", flags.session_present)

    def _metadata_filters(self) -> list[str]:
        base = self._topics.base_topic
        return [
            f"{base}/bridge/#",
            *(
                f"{base}/{'+/' * levels}availability"
                for levels in range(1, MAX_SHARED_NAME_LEVELS + 1)
            ),
        ]

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(code.is_failure for code in reason_codes):
            self._set_mqtt_problem(f"the broker refused the subscription: {reason_codes[0]}")
            return
        if not self._links.mqtt_connected:
            _LOGGER.info("MQTT: subscribed to %s", self._topics.subscription)
        self._links.mqtt_connected = True
        self._links.mqtt_problem = None

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._links.mqtt_connected = False

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        future = self._commands.pop(mid, None)
        if future is None:
            return
        if reason_code.is_failure:
            future.set_exception(
                CommandFailedError(f"the broker refused the command: {reason_code}")
            )
        else:
            future.set_result(None)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._counters.messages_received += 1
        payload = message.payload
        try:
            topic = message.topic
        except UnicodeDecodeError:  # MQTT requires UTF-8 topics; not every broker checks
            topic = ""
        if not (self._acks or self._lines):
            self._batch_deadline = time.monotonic() + self._settings.bridge_commit_max_delay_s
        received_ns = None
        if message.qos:
            digest = zlib.crc32(payload, zlib.crc32(topic.encode()))
            self._acks.append((message.mid, message.qos))
            if message.dup:
                received_ns = self._receipts.first_time(message.mid, digest)
                self._counters.redelivered_messages += received_ns is not None
            if received_ns is None:
                received_ns = self._time_ns()
            self._times[message.mid] = (digest, received_ns)
        else:
            self._counters.qos0_messages += 1
            if self._counters.qos0_messages == 1:
                _LOGGER.warning(
                    "MQTT: messages arrive at QoS 0 (on %s): those in memory at a crash are "
                    "lost, and the broker may drop those sent while the bridge is away. Set "
                    "`upgrade_outgoing_qos true` in Mosquitto, or `qos: 1` in Zigbee2MQTT",
                    topic,
                )
        lines_before = len(self._lines)
        try:
            if received_ns is None:
                received_ns = self._time_ns()
            metadata_only = self._metadata_only(topic, message.properties)
            if metadata_only is not None:
                # Like a retained message, a metadata copy updates what the bridge knows only.
                self._record(topic, payload, received_ns, retained=message.retain or metadata_only)
        except RejectedInputError as error:
            self._refuse(topic, error.reason, error.detail)
        except Exception:  # a bug must not stop the recording of everything else
            self._counters.malformed_messages += 1
            _LOGGER.exception("could not record a message on %r", topic)
        if not message.qos:
            self._hold_qos0(len(self._lines) - lines_before)

    def _metadata_only(self, topic: str, properties: Properties | None) -> bool | None:
        """In a share group, a message from the shared subscription is recorded by this
        instance alone; one from the ordinary subscription, which every instance receives,
        only updates what this instance knows (True), and a reading never comes that way
        (None: ignored). Outside a group every message is recorded (False)."""
        identifiers = getattr(properties, "SubscriptionIdentifier", None)
        if not identifiers or SHARED_SUBSCRIPTION_ID in identifiers:
            return False
        kind = self._topics.classify(topic).kind
        return None if kind in {TopicKind.DEVICE_STATE, TopicKind.BRIDGE_EVENT} else True

    def _hold_qos0(self, added: int) -> None:
        """Keep a QoS 0 message's points in memory, within a bound: nobody would send them
        again, but a spool that refuses writes for long must not exhaust the memory."""
        if self._unspooled_qos0 + added > MAX_UNSPOOLED_QOS0_POINTS:
            del self._lines[len(self._lines) - added :]
            self._counters.dropped_points += added
            return
        self._unspooled_qos0 += added

    # -- readings ------------------------------------------------------------------------

    def _record(self, topic: str, payload: bytes, received_ns: int, *, retained: bool) -> None:
        """Turn one message into points stamped `received_ns`. Retained messages update what
        the bridge knows but are not recorded: their time of reading is unknown."""
        if not topic:
            self._refuse(topic, BAD_TOPIC, "the topic is not UTF-8")
            return
        classified = self._topics.classify(topic)
        kind, device, site = classified.kind, classified.device, classified.site
        if kind is not TopicKind.OTHER and self._topics.has_sites:
            if not site:
                self._refuse(topic, BAD_TOPIC, "the topic's site level is empty")
                return
            if not self._registry.admits(site):
                self._refuse_site(site)
        if kind is TopicKind.DEVICE_STATE:
            state, values = read_state(payload)
            tags = self._registry.record_state(device, state, received_ns, site)
            if values.rejected:
                self._counters.rejected_values += len(values.rejected)
                _LOGGER.debug("left out bad values of %s: %s", device, ", ".join(values.rejected))
            if values.fields and not retained:
                self._lines.append(
                    self._encoder.line(
                        self._state_series + tags,
                        values.fields,
                        reading_time_ns(state, payload) or received_ns,
                    )
                )
        elif kind is TopicKind.AVAILABILITY:
            online = parse_online(payload)
            tags = self._registry.record_availability(device, online, site)
            if not retained:
                self._add_point(
                    self._availability_series + tags, schema.FIELD_ONLINE, online, received_ns
                )
        elif kind is TopicKind.BRIDGE_STATE:
            online = parse_online(payload)
            self._registry.record_bridge_state(online, received_ns, site)
            if not retained:
                self._add_point(
                    self._bridge_series + tag_set({schema.TAG_SITE: site}),
                    schema.FIELD_ONLINE,
                    online,
                    received_ns,
                )
        elif kind is TopicKind.BRIDGE_EVENT:
            event = parse_bridge_event(payload)
            tags = tag_set(
                {
                    schema.TAG_EVENT: event.type,
                    schema.TAG_DEVICE: event.friendly_name,
                    schema.TAG_IEEE: event.ieee,
                    schema.TAG_SITE: site,
                }
            )
            self._add_point(self._bridge_series + tags, schema.FIELD_EVENT_COUNT, 1.0, received_ns)
        elif kind is TopicKind.BRIDGE_DEVICES:
            devices, rejections = parse_bridge_devices(payload)
            for rejection in rejections:  # the rest of the list is used
                self._counters.refusals[rejection.reason] += 1
                _LOGGER.debug(
                    "left out an entry of %s (%s): %s", topic, rejection.reason, rejection.detail
                )
            if self._registry.replace_devices(devices, site):
                self._keep_devices(payload, site, empty=not devices)

    def _refuse(self, topic: str, reason: str, detail: str) -> None:
        """A message that gives nothing: counted by reason, logged at debug level."""
        self._counters.malformed_messages += 1
        self._counters.refusals[reason] += 1
        _LOGGER.debug("ignored a message on %r (%s): %s", topic, reason, detail)

    def _refuse_site(self, site: str) -> None:
        """A home beyond BRIDGE_MAX_SITES: its readings are recorded, tagged with the home,
        but its devices are not remembered (no `ieee`, `model`, nor API entry). Counted, and
        logged at the 1st, 2nd, 4th, 8th... refusal (a flood of homes must not flood logs)."""
        self._counters.refused_sites += 1
        count = self._counters.refused_sites
        if count & (count - 1) == 0:
            _LOGGER.warning(
                "%d homes are known, BRIDGE_MAX_SITES: a message of home %r recorded without "
                "its device list (%d such messages so far, refused_sites in /metrics)",
                self._settings.bridge_max_sites,
                site,
                count,
            )

    def _site_devices_path(self, site: str) -> Path:
        # File names come from a digest: a site may be any topic level.
        return self._site_devices_dir / f"{hashlib.sha256(site.encode()).hexdigest()}.json"

    def _keep_devices(self, payload: bytes, site: str, *, empty: bool) -> None:
        """Keep `bridge/devices` for the next start: on reconnecting, the broker sends what it
        queued for the session before the retained list, which would leave those readings
        without their `ieee` and `model` tags. A site's list goes to a file of its own, which
        names the site; a site's empty list removes its file, so that files never outnumber
        the homes remembered (BRIDGE_MAX_SITES)."""
        path, data = self._devices_path, payload
        try:
            if site:
                path = self._site_devices_path(site)
                if empty:
                    path.unlink(missing_ok=True)
                    return
                data = b'{"site":%s,"devices":%s}' % (json.dumps(site).encode(), payload)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            write_private(path, data)
        except OSError as error:
            _LOGGER.warning("cannot keep the device list in %s: %s", path, error)

    def _known_devices(self) -> None:
        """The device lists kept by the last run, of this configuration only: one home's
        file without a site level, each home's file with one (a list of one configuration
        would be a home of another: devices of site "" under a pattern, unreachable). Their
        bad entries were counted when the lists arrived."""
        if not self._topics.has_sites:
            try:
                devices, _ = parse_bridge_devices(self._devices_path.read_bytes())
            except FileNotFoundError:
                return
            except (OSError, RejectedInputError) as error:
                _LOGGER.warning("ignored the kept device list %s: %s", self._devices_path, error)
                return
            self._registry.replace_devices(devices)
            return
        for path in sorted(self._site_devices_dir.glob("*.json")):
            try:
                site_list = decode_object(path.read_bytes(), 2 * MAX_DEVICE_LIST_BYTES)
                site = site_list.get("site")
                if not isinstance(site, str) or not site:
                    problem = "no site named"
                else:
                    devices, _ = bridge_devices_of(site_list.get("devices"))
                    if self._registry.replace_devices(devices, site):
                        continue
                    problem = f"more homes than BRIDGE_MAX_SITES={self._settings.bridge_max_sites}"
            except (OSError, RejectedInputError) as error:
                problem = str(error)
            _LOGGER.warning("ignored the kept device list %s: %s", path, problem)

    def _add_point(self, series: str, field: str, value: float, time_ns: int) -> None:
        self._lines.append(self._encoder.line(series, {field: float(value)}, time_ns))

    def _time_ns(self) -> int:
        """The time of receipt, strictly increasing: two points of a device never share a
        timestamp (InfluxDB would keep only the last)."""
        now = max(self._clock(), self._last_time_ns + 1)
        self._last_time_ns = now
        return now

    # -- durability ----------------------------------------------------------------------

    def _commit_when_due(self) -> None:
        full = len(self._acks) + len(self._lines) >= self._settings.bridge_commit_max_messages
        # While the spool refuses writes, only the backoff's deadline counts.
        if (full and self._links.spool_problem is None) or (
            time.monotonic() >= self._batch_deadline
        ):
            self._commit()

    def _commit(self, *, acknowledge: bool = True) -> None:
        """Note the batch's times, spool it (fsync), then acknowledge it to the broker."""
        try:
            self._receipts.remember(self._times)
            self._times = {}
            self._spool.write(self._lines)
        except SpoolError as error:
            # Nothing is acknowledged: the broker keeps the messages until the disk takes them.
            if self._links.spool_problem is None:
                _LOGGER.error("%s; retrying with backoff", error)  # noqa: TRY400 - no traceback
            self._links.spool_problem = str(error)
            self._batch_deadline = time.monotonic() + self._spool_retry_s
            self._spool_retry_s = min(self._spool_retry_s * 2, SPOOL_RETRY_MAX_S)
            return
        if self._links.spool_problem is not None:
            _LOGGER.info("the spool accepts writes again")
            self._links.spool_problem = None
        self._spool_retry_s = SPOOL_RETRY_MIN_S
        self._lines = []
        self._unspooled_qos0 = 0
        if acknowledge:
            for packet_id, qos in self._acks:
                self._client.ack(packet_id, qos)
        self._acks = []
        self._heartbeat.progressed()

    # -- commands ------------------------------------------------------------------------

    def _publish_commands(self) -> None:
        for command in self._outbox.take():
            if not self._links.mqtt_connected:
                command.done.set_exception(CommandFailedError("not connected to the MQTT broker"))
                continue
            try:
                info = self._client.publish(command.topic, command.payload, qos=1)
            except ValueError as error:  # e.g. a wildcard in the topic
                command.done.set_exception(CommandFailedError(f"not a valid topic: {error}"))
                continue
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                # e.g. rc 15: paho's queue of unacknowledged messages is full
                command.done.set_exception(CommandFailedError(mqtt.error_string(info.rc)))
            else:
                self._commands[info.mid] = command.done


def _identified(subscription_id: int) -> Properties:
    """SUBSCRIBE properties naming the subscription: its messages carry the name."""
    properties = Properties(PacketTypes.SUBSCRIBE)  # type: ignore[no-untyped-call]
    properties.SubscriptionIdentifier = subscription_id
    return properties


def reading_time_ns(state: Mapping[str, object], payload: bytes) -> int | None:
    """A reading's time from its content alone, identical whichever instance receives it,
    however often: Zigbee2MQTT's `last_seen` (ms), the sub-millisecond part taken from a
    checksum of the payload, so that two different readings in one ms stay two points and
    one reading delivered twice is one point. None without `last_seen`: the time of
    receipt is used then."""
    seen_ms = last_seen_ms(state)
    if seen_ms is None:
        return None
    return seen_ms * 1_000_000 + zlib.crc32(payload) % 1_000_000
