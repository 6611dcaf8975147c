"""The ingest turns Zigbee2MQTT's messages into durable points, on a real Mosquitto."""

from collections.abc import Callable
import json
import logging
from pathlib import Path
import secrets
import time
import zlib

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
import pytest

from energy_edge_bridge import ingest as ingest_module, schema
from energy_edge_bridge.commands import CommandFailedError
from energy_edge_bridge.ingest import ReceiptTimes
from tests.bridge.conftest import RunningIngest, make_settings
from tests.bridge.support import (
    AclBroker,
    Listener,
    Point,
    Publisher,
    TlsBroker,
    device_entry,
    devices_payload,
    fill_disk,
    linky_entry,
    parse_line,
    plug_state,
    small_filesystem,
    wait_until,
)
from tests.bridge.test_spool import file_size_limit
from tests.helpers.mosquitto import Broker, free_port
from tests.protocol.test_state import LINKY_STATE
from zigbee2mqtt_protocol import state as protocol_state

KETTLE = ("kitchen/kettle", "0xa4c1380000000001")
LINKY = ("linky", "0x00158d0000000002")

type StartIngest = Callable[..., RunningIngest]


def spooled(ingest: RunningIngest) -> list[Point]:
    """Every point waiting in the spool."""
    return [parse_line(text) for text in ingest.lines()]


def known_devices(publisher: Publisher) -> None:
    """Zigbee2MQTT's retained device list: a plug and a Linky meter."""
    publisher.publish(
        "zigbee2mqtt/bridge/devices",
        devices_payload(device_entry(*KETTLE), linky_entry(*LINKY)),
        retain=True,
    )
    publisher.flush()


def test_a_state_message_becomes_one_point_tagged_with_its_device(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """Measurement zigbee2mqtt, tags device, IEEE and model, float fields, time of receipt."""
    known_devices(publisher)
    ingest = running_ingest()
    before = time.time_ns()
    publisher.publish("zigbee2mqtt/kitchen/kettle", plug_state(2000.0, 3.25))
    publisher.flush()
    ingest.wait_for_messages(2)  # the device list, the reading
    [point] = spooled(ingest)
    assert point.measurement == "zigbee2mqtt"
    assert point.tags == {"device": KETTLE[0], "ieee": KETTLE[1], "model": "TS011F_plug_1"}
    assert point.fields["power"] == 2000.0
    assert point.fields["energy"] == 3.25
    assert point.fields["state"] == 1.0
    assert before <= point.time_ns <= time.time_ns()


def test_the_state_measurement_is_configurable(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """INFLUXDB_MEASUREMENT names the state points; unknown devices carry only their name."""
    ingest = running_ingest(influxdb_measurement="z2m readings")
    publisher.publish("zigbee2mqtt/garage/freezer", plug_state(90.0, 1.0))
    publisher.flush()
    ingest.wait_for_messages(1)
    [point] = spooled(ingest)
    assert point.measurement == "z2m readings"
    assert point.tags == {"device": "garage/freezer"}


def test_points_of_a_device_never_share_a_timestamp(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """With a clock that does not move, each point still gets its own nanosecond."""
    frozen = running_ingest(clock=lambda: 1_764_000_000_000_000_000)
    for n in range(5):
        publisher.publish("zigbee2mqtt/plug", plug_state(float(n), 1.0))
    publisher.flush()
    frozen.wait_for_messages(5)
    assert [p.time_ns for p in spooled(frozen)] == [1_764_000_000_000_000_000 + n for n in range(5)]


def test_a_rename_is_followed_and_keeps_the_last_values(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """Renamed in Zigbee2MQTT: same IEEE address, new name on points and in the API."""
    known_devices(publisher)
    ingest = running_ingest()
    publisher.publish("zigbee2mqtt/kitchen/kettle", plug_state(1500.0, 2.0))
    publisher.flush()
    ingest.wait_for_messages(2)
    renamed = device_entry("kitchen/teapot", KETTLE[1])
    publisher.publish("zigbee2mqtt/bridge/devices", devices_payload(renamed), retain=True)
    publisher.publish("zigbee2mqtt/kitchen/teapot", plug_state(1400.0, 2.1))
    publisher.flush()
    ingest.wait_for_messages(4)
    names = [view.name for view in ingest.state.registry.views()]
    assert names == ["kitchen/teapot"]  # the Linky left the list: forgotten too
    teapot = ingest.state.registry.view("kitchen/teapot")
    assert teapot is not None
    assert teapot.ieee == KETTLE[1]
    first, second = spooled(ingest)
    assert (first.tags["device"], second.tags["device"]) == ("kitchen/kettle", "kitchen/teapot")
    assert first.tags["ieee"] == second.tags["ieee"] == KETTLE[1]


def test_availability_and_bridge_events_have_their_own_measurements(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """Availability (JSON or legacy), bridge state and bridge events become their points."""
    known_devices(publisher)
    ingest = running_ingest()
    publisher.publish("zigbee2mqtt/kitchen/kettle/availability", '{"state":"offline"}')
    publisher.publish("zigbee2mqtt/linky/availability", "online")
    publisher.publish("zigbee2mqtt/bridge/state", '{"state":"online"}')
    publisher.publish(
        "zigbee2mqtt/bridge/event",
        json.dumps(
            {"type": "device_joined", "data": {"friendly_name": "new", "ieee_address": "0x9"}}
        ),
    )
    publisher.flush()
    ingest.wait_for_messages(5)
    kettle_offline, linky_online, bridge, event = spooled(ingest)
    assert kettle_offline.measurement == schema.AVAILABILITY_MEASUREMENT
    assert kettle_offline.tags["ieee"] == KETTLE[1]
    assert kettle_offline.fields == {schema.FIELD_ONLINE: 0.0}
    assert linky_online.fields == {schema.FIELD_ONLINE: 1.0}
    assert (bridge.measurement, bridge.tags, bridge.fields) == (
        schema.BRIDGE_EVENT_MEASUREMENT,
        {},
        {schema.FIELD_ONLINE: 1.0},
    )
    assert event.measurement == schema.BRIDGE_EVENT_MEASUREMENT
    assert event.tags == {"event": "device_joined", "device": "new", "ieee": "0x9"}
    assert event.fields == {schema.FIELD_EVENT_COUNT: 1.0}
    kettle = ingest.state.registry.view(KETTLE[0])
    assert kettle is not None
    assert kettle.online is False


def test_retained_messages_update_the_state_but_are_not_recorded(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """A retained message says what is, not when: it is not a reading of now."""
    known_devices(publisher)
    publisher.publish("zigbee2mqtt/kitchen/kettle", plug_state(10.0, 1.0), retain=True)
    publisher.publish("zigbee2mqtt/kitchen/kettle/availability", '{"state":"online"}', retain=True)
    publisher.publish("zigbee2mqtt/bridge/state", '{"state":"online"}', retain=True)
    publisher.flush()
    ingest = running_ingest()
    ingest.wait_for_messages(4)
    assert spooled(ingest) == []
    kettle = ingest.state.registry.view(KETTLE[0])
    assert kettle is not None
    assert kettle.online is True
    assert kettle.last_values["power"] == 10.0


def test_bad_input_is_counted_and_never_stops_the_ingest(
    running_ingest: StartIngest, publisher: Publisher, caplog: pytest.LogCaptureFixture
) -> None:
    """Not JSON, not an object, NaN, absurd sizes, bad bridge messages: counted by reason."""
    ingest = running_ingest(log_level="DEBUG")
    bad = [
        ("zigbee2mqtt/plug", b"ON"),
        ("zigbee2mqtt/plug", b"[1,2,3]"),
        ("zigbee2mqtt/plug", b'{"power": "12.5", "voltage": NaN, "energy": 1.0}'),
        ("zigbee2mqtt/plug", b'{"power": ' + b"1" * 70_000 + b"}"),
        ("zigbee2mqtt/plug/availability", b"maybe"),
        ("zigbee2mqtt/bridge/devices", b'{"not": "a list"}'),
        ("zigbee2mqtt/bridge/event", b"{}"),
        ("zigbee2mqtt/plug", b"\xff\xfe"),
    ]
    with caplog.at_level(logging.DEBUG, logger="energy_edge_bridge.ingest"):
        for topic, payload in bad:
            publisher.publish(topic, payload)
        publisher.publish("zigbee2mqtt/plug", plug_state(5.0, 1.0))
        publisher.flush()
        ingest.wait_for_messages(len(bad) + 1)
    counters = ingest.state.counters
    assert counters.malformed_messages == 7
    assert {reason: n for reason, n in counters.refusals.items() if n} == {
        "not_json": 2,
        "not_an_object": 2,  # a list as a state, a device list that is no list
        "too_large": 1,
        "bad_availability": 1,
        "bad_event": 1,
    }
    assert counters.rejected_values == 1
    assert [p.fields.get("energy") for p in spooled(ingest)] == [1.0, 1.0]
    assert "ignored a message on 'zigbee2mqtt/plug' (not_json): ON" in caplog.text
    assert "left out bad values of plug: voltage" in caplog.text


def test_a_linky_message_is_recorded_without_a_rejected_value(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """The ZLinky's serial number and delivery point are digit strings on every message:
    text, not bad numbers (the bridge counted two rejected values per Linky message)."""
    known_devices(publisher)
    ingest = running_ingest()
    publisher.publish("zigbee2mqtt/linky", json.dumps(LINKY_STATE))
    publisher.flush()
    ingest.wait_for_messages(2)
    (point,) = spooled(ingest)
    assert point.fields["apparent_power"] == 1250.0
    assert "meter_serial_number" not in point.fields
    assert ingest.state.counters.rejected_values == 0


def test_a_bridge_event_without_an_ieee_address_is_refused(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """Zigbee2MQTT names the device by IEEE address in every event: one without it gives no
    point (the bridge used to record it with a `device` tag only), and is counted."""
    ingest = running_ingest()
    publisher.publish(
        "zigbee2mqtt/bridge/event",
        json.dumps({"type": "device_leave", "data": {"friendly_name": "kitchen/kettle"}}),
    )
    publisher.publish(
        "zigbee2mqtt/bridge/event",
        json.dumps(
            {"type": "device_leave", "data": {"ieee_address": KETTLE[1], "friendly_name": ""}}
        ),
    )
    publisher.flush()
    ingest.wait_for_messages(2)
    (event,) = spooled(ingest)
    assert event.tags == {"event": "device_leave", "ieee": KETTLE[1]}
    assert ingest.state.counters.malformed_messages == 1
    assert ingest.state.counters.refusals["bad_event"] == 1


def test_bad_device_list_entries_are_counted_and_the_rest_is_used(
    running_ingest: StartIngest, publisher: Publisher, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry without an address and one whose name holds an MQTT wildcard are left out,
    counted by reason and logged at debug level (the bridge used to skip them silently);
    the devices around them are known."""
    ingest = running_ingest(log_level="DEBUG")
    with caplog.at_level(logging.DEBUG, logger="energy_edge_bridge.ingest"):
        publisher.publish(
            "zigbee2mqtt/bridge/devices",
            devices_payload(
                device_entry(*KETTLE),
                {"friendly_name": "no address", "type": "EndDevice"},
                device_entry("garage/#", "0xa4c1380000000009"),
                linky_entry(*LINKY),
            ),
        )
        publisher.flush()
        ingest.wait_for_messages(1)
    registry = ingest.state.registry
    assert [view.name for view in registry.views()] == ["kitchen/kettle", "linky"]
    refusals = ingest.state.counters.refusals
    assert (refusals["bad_bridge_device"], refusals["bad_friendly_name"]) == (1, 1)
    assert ingest.state.counters.malformed_messages == 0
    assert "left out an entry of zigbee2mqtt/bridge/devices (bad_friendly_name)" in caplog.text


def test_commands_and_bridge_chatter_are_not_readings(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """/set, /get, bridge/info, bridge/logging: received, not recorded."""
    ingest = running_ingest()
    for topic in (
        "zigbee2mqtt/plug/set",
        "zigbee2mqtt/plug/get",
        "zigbee2mqtt/plug/set/state",
        "zigbee2mqtt/bridge/info",
        "zigbee2mqtt/bridge/logging",
    ):
        publisher.publish(topic, '{"state": "ON"}')
    publisher.flush()
    ingest.wait_for_messages(5)
    assert spooled(ingest) == []
    assert ingest.state.registry.views() == []


def test_messages_are_acknowledged_only_once_spooled(
    broker: Broker, tmp_path: Path, publisher: Publisher, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk refuses the batch: nothing is acknowledged, so the broker delivers the
    messages again to the next ingest, which spools them."""
    settings = make_settings(broker, tmp_path / "spool")
    first = RunningIngest(settings)
    first.start()
    first.spool.write(["m v=1.0 1"])  # the segment exists; its size is the limit below
    limit = next((tmp_path / "spool").glob("*.seg")).stat().st_size
    with file_size_limit(limit), caplog.at_level(logging.ERROR):
        for n in range(10):
            publisher.publish("zigbee2mqtt/plug", plug_state(float(n), 1.0))
        publisher.flush()
        wait_until(lambda: first.state.counters.messages_received >= 10, 10, "not received")
        wait_until(lambda: "cannot write" in caplog.text, 10, "no error logged")
        first.stop()
    assert first.spool.backlog_lines == 1
    second = RunningIngest(settings)
    second.start()
    second.wait_for_messages(10)
    powers = [p.fields["power"] for p in spooled(second) if p.measurement == "zigbee2mqtt"]
    second.stop()
    assert powers == [float(n) for n in range(10)]


def test_receipt_times_are_remembered_across_a_restart(tmp_path: Path) -> None:
    """The last messages' times, by packet id and checksum, up to a capacity; the file stays
    small and survives a torn last record."""
    path = tmp_path / "mqtt-receipts"
    first = ReceiptTimes(path, capacity=4)
    first.remember({1: (111, 10), 2: (222, 20)})
    first.remember({3: (333, 30)})
    first.remember({})
    first.close()
    restarted = ReceiptTimes(path, capacity=4)
    assert restarted.first_time(2, 222) == 20
    assert restarted.first_time(3, 999) is None  # same packet id, another message
    assert restarted.first_time(9, 333) is None
    restarted.remember({4: (444, 40), 5: (555, 50), 6: (666, 60), 3: (334, 31)})
    assert restarted.first_time(1, 111) is None  # beyond the capacity
    assert restarted.first_time(3, 334) == 31  # a packet id used again: the latest counts
    for _ in range(5):
        restarted.remember({8: (888, 80)})
    restarted.close()
    assert path.stat().st_size <= 2 * 4 * 14  # rewritten as it grows
    path.write_bytes(path.read_bytes() + b"\x01")  # a torn record
    assert ReceiptTimes(path, capacity=4).first_time(8, 888) == 80


def test_the_ingest_comes_back_after_a_broker_restart(
    running_ingest: StartIngest, broker: Broker
) -> None:
    """Connection lost: reconnects and subscribes again, by itself."""
    ingest = running_ingest()
    broker.restart(downtime=0.5)
    wait_until(lambda: not ingest.state.links.mqtt_connected, 10, "the loss was not noticed")
    wait_until(lambda: ingest.state.links.mqtt_connected, 30, "did not reconnect")
    publisher = Publisher(broker, "after-restart")
    publisher.publish("zigbee2mqtt/plug", plug_state(7.0, 1.0))
    publisher.close()
    ingest.wait_for_messages(1)
    assert [p.fields["power"] for p in spooled(ingest)] == [7.0]


def test_a_refused_login_is_reported(broker: Broker, tmp_path: Path) -> None:
    """Wrong password: health says the broker refused, and why."""
    wrong = secrets.token_hex(8)
    ingest = RunningIngest(make_settings(broker, tmp_path / "spool", mqtt_password=wrong))
    ingest.start(wait_subscribed=False)
    try:
        wait_until(
            lambda: "refused the connection" in str(ingest.state.links.mqtt_problem),
            10,
            "no refusal reported",
        )
        assert "Not authorized" in str(ingest.state.links.mqtt_problem)
        assert not ingest.state.links.mqtt_connected
    finally:
        ingest.stop()


def test_an_unreachable_broker_is_reported(broker: Broker, tmp_path: Path) -> None:
    """Nothing listens: health says so; the ingest keeps trying."""
    ingest = RunningIngest(make_settings(broker, tmp_path / "spool", mqtt_port=free_port()))
    ingest.start(wait_subscribed=False)
    try:
        wait_until(
            lambda: "cannot connect" in str(ingest.state.links.mqtt_problem), 10, "not reported"
        )
    finally:
        ingest.stop()


def test_a_refused_subscription_is_reported(running_ingest: StartIngest) -> None:
    """Some brokers refuse the subscription itself (an ACL): health must not claim it works."""
    ingest = running_ingest()
    refusal = ReasonCode(PacketTypes.SUBACK, "Not authorized")
    ingest.ingest._on_subscribe(ingest.ingest._client, None, 1, [refusal], None)
    assert not ingest.state.links.mqtt_connected
    assert ingest.state.links.mqtt_problem == "the broker refused the subscription: Not authorized"


def test_a_command_is_published_on_the_set_topic(
    running_ingest: StartIngest, broker: Broker
) -> None:
    """The outbox's command reaches `<name>/set`; its future completes on the broker's PUBACK."""
    listener = Listener(broker, "zigbee2mqtt/+/set")
    try:
        ingest = running_ingest()
        done = ingest.state.outbox.submit("zigbee2mqtt/kettle/set", b'{"state":"OFF"}')
        done.result(timeout=10)
        wait_until(lambda: listener.received, 10, "the command did not arrive")
        assert listener.received == [("zigbee2mqtt/kettle/set", b'{"state":"OFF"}')]
    finally:
        listener.close()


def test_a_command_is_refused_while_disconnected(broker: Broker, tmp_path: Path) -> None:
    """Without the broker a command fails at once: a late `ON` could surprise someone."""
    ingest = RunningIngest(make_settings(broker, tmp_path / "spool", mqtt_port=free_port()))
    ingest.start(wait_subscribed=False)
    try:
        done = ingest.state.outbox.submit("zigbee2mqtt/kettle/set", b'{"state":"ON"}')
        with pytest.raises(CommandFailedError, match="not connected"):
            done.result(timeout=10)
    finally:
        ingest.stop()


def test_a_command_the_broker_forbids_fails(tmp_path: Path) -> None:
    """The broker's ACL refuses the publish (PUBACK Not authorized): the future fails."""
    broker = AclBroker(tmp_path / "acl-broker", acl="topic read zigbee2mqtt/#")
    broker.start()
    ingest = RunningIngest(make_settings(broker, tmp_path / "spool"))
    try:
        ingest.start()
        done = ingest.state.outbox.submit("zigbee2mqtt/kettle/set", b'{"state":"ON"}')
        with pytest.raises(CommandFailedError, match="Not authorized"):
            done.result(timeout=10)
    finally:
        ingest.stop()
        broker.stop()


def test_tls_to_the_broker(tmp_path: Path) -> None:
    """MQTT_TLS with MQTT_CA_FILE: the broker's certificate is checked, readings flow."""
    broker = TlsBroker(tmp_path / "tls-broker")
    broker.start()
    ingest = RunningIngest(
        make_settings(broker, tmp_path / "spool", mqtt_tls=True, mqtt_ca_file=broker.ca_file)
    )
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tls-z2m", protocol=mqtt.MQTTv5)
    publisher.username_pw_set(broker.username, broker.password)
    publisher.tls_set(ca_certs=str(broker.ca_file))
    try:
        ingest.start()
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        publisher.publish("zigbee2mqtt/plug", plug_state(42.0, 1.0), qos=1).wait_for_publish(10)
        ingest.wait_for_messages(1)
        assert [p.fields["power"] for p in spooled(ingest)] == [42.0]
    finally:
        publisher.loop_stop()
        ingest.stop()
        broker.stop()


def test_qos_0_readings_are_recorded_too(running_ingest: StartIngest, publisher: Publisher) -> None:
    """Zigbee2MQTT publishes state at QoS 0 by default: nothing to acknowledge, still spooled."""
    ingest = running_ingest()
    publisher.publish("zigbee2mqtt/plug", plug_state(3.0, 1.0), qos=0)
    publisher.flush()
    ingest.wait_for_messages(1)
    assert [p.fields["power"] for p in spooled(ingest)] == [3.0]


def test_the_ingest_retries_until_the_disk_takes_the_batch(
    running_ingest: StartIngest, publisher: Publisher, caplog: pytest.LogCaptureFixture
) -> None:
    """A full disk delays the batch (unacknowledged), it is not dropped; then it is written."""
    ingest = running_ingest()
    ingest.spool.write(["m v=1.0 1"])
    limit = next(ingest.spool.directory.glob("*.seg")).stat().st_size
    with caplog.at_level(logging.INFO):
        with file_size_limit(limit):
            publisher.publish("zigbee2mqtt/plug", plug_state(8.0, 1.0))
            publisher.flush()
            wait_until(lambda: "retrying with backoff" in caplog.text, 10, "no error logged")
        wait_until(lambda: "accepts writes again" in caplog.text, 10, "never written")
    assert [p.fields.get("power") for p in spooled(ingest)] == [None, 8.0]


def test_a_message_redelivered_after_a_crash_keeps_its_first_time(
    broker: Broker, tmp_path: Path, publisher: Publisher
) -> None:
    """Stamped and spooled, then killed before the broker read the acknowledgements: the
    broker sends the messages again (DUP, same packet ids); they are recorded again with the
    times they had, the same points, which InfluxDB overwrites: no duplicate."""
    settings = make_settings(broker, tmp_path / "spool")
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 3600
    crashed = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=settings.mqtt_client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )
    crashed.username_pw_set(broker.username, broker.password)
    got: list[mqtt.MQTTMessage] = []
    crashed.on_message = lambda client, userdata, message: got.append(message)
    crashed.connect("127.0.0.1", broker.port, clean_start=False, properties=properties)
    crashed.subscribe("zigbee2mqtt/#", qos=1)
    for _ in range(10):
        crashed.loop(0.05)
    for n in range(5):
        publisher.publish("zigbee2mqtt/plug", plug_state(float(n), 1.0))
    publisher.flush()
    wait_until(lambda: crashed.loop(0.05) == 0 and len(got) == 5, 10, "not delivered")
    # What the bridge had noted before dying, acknowledgements unread by the broker:
    first_times = {m.mid: 1_764_000_000_000_000_000 + n for n, m in enumerate(got)}
    settings.bridge_spool_dir.mkdir(parents=True)
    noted = ReceiptTimes(settings.bridge_spool_dir / "mqtt-receipts")
    noted.remember(
        {
            m.mid: (zlib.crc32(m.payload, zlib.crc32(m.topic.encode())), first_times[m.mid])
            for m in got
        }
    )
    noted.close()
    crashed.socket().close()  # type: ignore[union-attr]
    ingest = RunningIngest(settings)
    ingest.start()
    try:
        ingest.wait_for_messages(5)
        assert ingest.state.counters.redelivered_messages == 5
        assert [p.time_ns for p in spooled(ingest)] == sorted(first_times.values())
    finally:
        ingest.stop()
    again = RunningIngest(settings)  # acknowledged: the broker has nothing more to send
    again.start()
    time.sleep(0.5)
    again.stop()
    assert again.state.counters.messages_received == 0


def test_a_topic_that_is_not_utf8_is_counted(running_ingest: StartIngest) -> None:
    """MQTT requires UTF-8 topics; a broker that lets another through costs a count, no crash.
    (Mosquitto refuses such topics from publishers, so paho's message is built here.)"""
    ingest = running_ingest()
    message = mqtt.MQTTMessage(mid=0, topic=b"zigbee2mqtt/\xff\xfe")
    message.payload = plug_state(1.0, 1.0)
    ingest.ingest._on_message(ingest.ingest._client, None, message)
    assert ingest.state.counters.malformed_messages == 1
    assert ingest.state.counters.refusals["bad_topic"] == 1


def test_a_bug_in_parsing_costs_one_message_not_the_recording(
    running_ingest: StartIngest,
    publisher: Publisher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever goes wrong with one message is logged with its traceback; the next is recorded."""
    ingest = running_ingest()
    calls = 0
    real_read_state = protocol_state.read_state

    def first_call_fails(payload: bytes) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug")
        return real_read_state(payload)

    monkeypatch.setattr(ingest_module, "read_state", first_call_fails)
    with caplog.at_level(logging.ERROR):
        publisher.publish("zigbee2mqtt/plug", plug_state(1.0, 1.0))
        publisher.publish("zigbee2mqtt/plug", plug_state(2.0, 1.0))
        publisher.flush()
        ingest.wait_for_messages(2)
    assert "could not record a message on 'zigbee2mqtt/plug'" in caplog.text
    assert "RuntimeError: a bug" in caplog.text
    assert [p.fields["power"] for p in spooled(ingest)] == [2.0]


def test_a_command_to_a_topic_with_a_wildcard_fails_and_the_ingest_goes_on(
    running_ingest: StartIngest, publisher: Publisher
) -> None:
    """paho refuses to publish on a topic filter (ValueError): that command fails, and the
    ingest, which used to die of it, keeps recording."""
    ingest = running_ingest()
    done = ingest.state.outbox.submit("zigbee2mqtt/kitchen/+/set", b'{"state":"ON"}')
    assert isinstance(done.exception(timeout=5), CommandFailedError)
    publisher.publish("zigbee2mqtt/plug", plug_state(5.0, 1.0))
    ingest.wait_for_messages(1)
    assert [p.fields["power"] for p in spooled(ingest)] == [5.0]


def test_a_full_disk_delays_qos_1_messages_without_stopping_the_ingest(
    broker: Broker, tmp_path: Path, publisher: Publisher
) -> None:
    """A disk with no room left for the receipts or the spool: nothing is acknowledged, the
    ingest goes on (it used to die of the receipts' OSError) and says so in its health; once
    room is back every message is spooled."""
    with small_filesystem(tmp_path / "disk", 1024 * 1024) as disk:
        ingest = RunningIngest(make_settings(broker, disk / "spool"))
        ingest.start()
        filler = fill_disk(disk, 0)
        for n in range(10):
            publisher.publish("zigbee2mqtt/plug", plug_state(float(n), 1.0))
        publisher.flush()
        wait_until(lambda: ingest.state.links.spool_problem is not None, 10, "no problem")
        assert "No space left" in str(ingest.state.links.spool_problem)
        time.sleep(1)  # retries meanwhile
        assert ingest.state.loops.ingest.failures == 0
        filler.unlink()
        ingest.wait_for_messages(10)
        wait_until(lambda: ingest.state.links.spool_problem is None, 15, "still refused")
        powers = [p.fields["power"] for p in spooled(ingest) if "power" in p.fields]
        ingest.stop()
        assert powers == [float(n) for n in range(10)]
        assert len(list((disk / "spool").glob("*.seg"))) == 1


def test_qos_0_points_held_while_the_disk_is_full_are_bounded_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QoS 0 messages (a broker that does not upgrade them) have no flow control: while the
    spool refuses writes their points are held up to a bound, and the rest is dropped,
    counted, rather than exhausting memory."""
    monkeypatch.setattr(ingest_module, "MAX_UNSPOOLED_QOS0_POINTS", 10)
    broker = Broker(tmp_path / "mosquitto", upgrade_outgoing_qos=False)
    broker.start()
    try:
        with small_filesystem(tmp_path / "disk", 1024 * 1024) as disk:
            ingest = RunningIngest(make_settings(broker, disk / "spool"))
            ingest.start()
            filler = fill_disk(disk, 0)
            sender = Publisher(broker, "qos0")
            for n in range(30):
                sender.publish("zigbee2mqtt/plug", plug_state(float(n), 1.0), qos=0)
            sender.close()
            wait_until(lambda: ingest.state.counters.messages_received >= 30, 10, "not received")
            assert ingest.state.counters.dropped_points == 20
            # The refusal is seen at the batch's commit, which may come after the 30th message.
            wait_until(lambda: ingest.state.links.spool_problem is not None, 10, "not seen")
            filler.unlink()
            wait_until(lambda: ingest.spool.backlog_lines >= 10, 15, "still refused")
            powers = [p.fields["power"] for p in spooled(ingest) if "power" in p.fields]
            ingest.stop()
            assert powers == [float(n) for n in range(10)]
    finally:
        broker.stop()


def test_qos_0_traffic_is_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Readings that arrive at QoS 0 are lost with the batch in memory at a crash: the bridge
    says so once, with what to set, and counts them."""
    broker = Broker(tmp_path / "mosquitto", upgrade_outgoing_qos=False)
    broker.start()
    try:
        ingest = RunningIngest(make_settings(broker, tmp_path / "spool"))
        ingest.start()
        sender = Publisher(broker, "qos0")
        with caplog.at_level(logging.WARNING):
            for n in range(3):
                sender.publish("zigbee2mqtt/plug", plug_state(float(n), 1.0), qos=0)
            sender.close()
            ingest.wait_for_messages(3)
        ingest.stop()
    finally:
        broker.stop()
    assert caplog.text.count("messages arrive at QoS 0") == 1
    assert "upgrade_outgoing_qos true" in caplog.text
    assert ingest.state.counters.qos0_messages == 3


def test_with_the_stacks_broker_settings_qos_0_readings_arrive_at_qos_1(
    running_ingest: StartIngest, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """`upgrade_outgoing_qos true`: Zigbee2MQTT's QoS 0 readings reach the bridge at QoS 1,
    so they are acknowledged only once spooled, and no warning is due."""
    ingest = running_ingest()
    sender = Publisher(broker, "qos0")
    with caplog.at_level(logging.WARNING):
        sender.publish("zigbee2mqtt/plug", plug_state(1.0, 1.0), qos=0)
        sender.close()
        ingest.wait_for_messages(1)
    assert ingest.state.counters.qos0_messages == 0
    assert "QoS 0" not in caplog.text


def test_receipts_are_readable_by_the_bridge_only(tmp_path: Path) -> None:
    """Packet ids and times of the home's messages are nobody else's business: 0600."""
    receipts = ReceiptTimes(tmp_path / "mqtt-receipts", capacity=2)
    receipts.remember({1: (111, 10)})
    assert (tmp_path / "mqtt-receipts").stat().st_mode & 0o777 == 0o600
    for n in range(2, 8):  # past twice the capacity: the file is rewritten
        receipts.remember({n: (n, n)})
    receipts.close()
    assert (tmp_path / "mqtt-receipts").stat().st_mode & 0o777 == 0o600
