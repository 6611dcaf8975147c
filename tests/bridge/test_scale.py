"""Many bridges on one broker: instances sharing the readings through an MQTT 5 shared
subscription (Mosquitto's `$share/<group>/...`), each on its own spool."""

import json
from pathlib import Path
import subprocess
import sys
import threading
import time

import httpx
from pydantic import ValidationError
import pytest

from energy_edge_bridge.ingest import reading_time_ns
from energy_edge_bridge.service import Bridge, HealthReporter
from energy_edge_bridge.settings import BridgeSettings
from energy_edge_bridge.spool import Spool, SpoolInUseError
from energy_edge_bridge.state import BridgeState
from tests.bridge.conftest import RunningIngest, make_settings
from tests.bridge.support import (
    BridgeProcess,
    Publisher,
    VictoriaMetrics,
    bridge_env,
    device_entry,
    devices_payload,
    iter_samples,
    parse_line,
    plug_state,
    wait_until,
)
from tests.helpers.mosquitto import Broker

READINGS = 300


def test_a_share_filter_as_base_topic_is_refused_with_the_setting_to_use() -> None:
    """`$share/g/zigbee2mqtt` would never match a topic messages arrive on: nothing would be
    recorded, silently. The refusal names the setting that shares the load."""
    with pytest.raises(ValidationError, match="MQTT_SHARE_GROUP"):
        BridgeSettings(_env_file=None, z2m_base_topic="$share/g/zigbee2mqtt")


@pytest.mark.parametrize("group", ["a/b", "a+", "#", ""])
def test_a_share_group_is_one_topic_level(group: str) -> None:
    """MQTT 5 (4.8.2): a ShareName is one level, without wildcards."""
    with pytest.raises(ValidationError):
        BridgeSettings(_env_file=None, mqtt_share_group=group)


def test_each_instance_of_a_group_has_its_own_client_id() -> None:
    """Two clients with one id knock each other off the broker; alone, the id stays as it was
    (the broker keeps the session queued under it)."""
    alone = BridgeSettings(_env_file=None, bridge_instance_id="a")
    first, second = (
        BridgeSettings(_env_file=None, mqtt_share_group="g", bridge_instance_id=name)
        for name in ("a", "b")
    )
    chosen = BridgeSettings(
        _env_file=None,
        mqtt_share_group="g",
        mqtt_client_id="mine",
    )
    assert alone.mqtt_client_id == "energy-edge-bridge"
    assert first.mqtt_client_id != second.mqtt_client_id
    assert chosen.mqtt_client_id == "mine"


def test_the_health_point_names_its_instance(tmp_path: Path) -> None:
    """Several bridges write one health measurement: each point says which one it is."""
    spool = Spool(tmp_path, 1 << 20)
    HealthReporter(spool, BridgeState(), clock=lambda: 1, instance="bridge b").report()
    batch = spool.read(10)
    assert batch is not None
    assert parse_line(batch.body.decode()).tags == {"instance": "bridge b"}


def test_a_second_bridge_on_a_spool_in_use_is_refused(broker: Broker, tmp_path: Path) -> None:
    """Two bridges on one spool would overwrite each other's segments and cursor."""
    first = Bridge(make_settings(broker, tmp_path / "spool"))
    with pytest.raises(SpoolInUseError, match="in use"):
        Bridge(make_settings(broker, tmp_path / "spool"))
    first.spool.close()


def test_a_second_bridge_process_on_a_spool_in_use_exits_non_zero(
    broker: Broker, tmp_path: Path
) -> None:
    """The process says why and exits, rather than corrupting the first bridge's spool."""
    first = Bridge(make_settings(broker, tmp_path / "spool"))
    env = bridge_env(broker, "http://127.0.0.1:9", tmp_path / "spool")
    second = subprocess.run(
        [sys.executable, "-m", "energy_edge_bridge"],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    first.spool.close()
    assert second.returncode != 0
    assert b"in use by another bridge" in second.stderr


def test_instances_in_a_group_record_each_reading_once_and_all_know_the_devices(
    broker: Broker, tmp_path: Path
) -> None:
    """Readings are shared out, each recorded by one instance; `bridge/devices`, retained, is
    known to every instance (a `$share/` subscription gets no retained message), so every
    point carries the device's IEEE address and model whichever instance recorded it."""
    publisher = Publisher(broker)
    publisher.publish(
        "zigbee2mqtt/bridge/devices",
        devices_payload(device_entry("kettle", "0xa4c1380000000001")),
        retain=True,
    )
    publisher.flush()
    instances = [
        RunningIngest(
            make_settings(
                broker,
                tmp_path / f"spool-{name}",
                mqtt_share_group="bridges",
                bridge_instance_id=name,
            )
        )
        for name in ("a", "b")
    ]
    for instance in instances:
        instance.start()
    try:
        for seq in range(READINGS):
            publisher.publish("zigbee2mqtt/kettle", plug_state(100.0, 1.0, seq=seq))
        publisher.publish("zigbee2mqtt/kettle/availability", json.dumps({"state": "online"}))
        publisher.flush()
        wait_until(
            lambda: sum(i.state.counters.messages_received for i in instances) >= READINGS + 1,
            20,
            "readings not received",
        )
        for instance in instances:
            instance.wait_committed()
        points = {
            i.settings.bridge_instance_id: [parse_line(t) for t in i.lines()] for i in instances
        }
    finally:
        for instance in instances:
            instance.stop()
        publisher.close()
    readings = [p for ps in points.values() for p in ps if p.measurement == "zigbee2mqtt"]
    assert sorted(int(p.fields["seq"]) for p in readings) == list(range(READINGS))
    assert all(
        p.tags == {"device": "kettle", "ieee": "0xa4c1380000000001", "model": "TS011F_plug_1"}
        for p in readings
    )
    assert all(any(p.measurement == "zigbee2mqtt" for p in ps) for ps in points.values())
    availability = [
        p for ps in points.values() for p in ps if p.measurement == "zigbee2mqtt_availability"
    ]
    assert len(availability) == 1


# 2026-12-03 10:05:32.123 UTC (`date -u -d 2026-12-03T10:05:32.123Z +%s%3N`), as Zigbee2MQTT's
# `advanced.last_seen: epoch` sends it.
SEEN_MS = 1_796_292_332_123


@pytest.mark.parametrize("last_seen", [None, "yesterday", "2026-12-03T10:05:32", True, -1, [1]])
def test_an_unreadable_last_seen_leaves_the_time_of_receipt(last_seen: object) -> None:
    """No offset, no date, no number: the reading is stamped when received."""
    assert reading_time_ns({"last_seen": last_seen}, b"{}") is None


def test_one_reading_received_by_two_instances_is_one_point_and_two_readings_two(
    broker: Broker, tmp_path: Path
) -> None:
    """The time comes from the reading, not from who received it or when: a reading that
    reaches two instances (a redelivery after a crash, to another member of the group) is
    the same point, and two different readings seen within one millisecond stay two."""
    instances = [
        RunningIngest(make_settings(broker, tmp_path / f"spool-{name}", mqtt_client_id=name))
        for name in ("a", "b")
    ]
    for instance in instances:
        instance.start()
    publisher = Publisher(broker)
    try:
        for power in (100.0, 101.0):
            publisher.publish(
                "zigbee2mqtt/kettle",
                plug_state(power, 1.0, last_seen="2026-12-03T10:05:32.123Z"),
            )
        publisher.flush()
        for instance in instances:
            instance.wait_for_messages(2)
        points = [[parse_line(text) for text in i.lines()] for i in instances]
    finally:
        for instance in instances:
            instance.stop()
        publisher.close()
    first, second = ({p.fields["power"]: p.time_ns for p in ps} for ps in points)
    assert first == second
    assert first[100.0] != first[101.0]
    assert {time_ns // 1_000_000 for time_ns in first.values()} == {SEEN_MS}


# The run: three homes, 30,000 readings, the first instance killed after 5,000
# (about 20 s here).
GROUP_READINGS = 30_000
KILL_AFTER = 5_000
HOMES = ("h0", "h1", "h2")
PLUGS = 20


def _plug_ieee(home: str, plug: int) -> str:
    """Each home's plugs have their own addresses (the home's number in the middle)."""
    return f"0xa4c1380000{int(home[1:]):02x}00{plug:02x}"


def test_three_instances_in_a_group_store_every_reading_of_three_homes_once_across_a_sigkill(
    broker: Broker, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    """Three homes publish under `homes/<home>/zigbee2mqtt`, each after its retained device
    list; three bridge processes share one group, each with its own spool and identity. The
    first is SIGKILLed mid-stream and started again 5 s later as itself: every reading of
    every home is stored once (one timestamp), tagged with its home and with its device's
    IEEE address and model from that home's list, every instance took a share, nothing was
    evicted and nothing went to the dead letters."""
    publisher = Publisher(broker, "home")
    for home in HOMES:
        publisher.publish(
            f"homes/{home}/zigbee2mqtt/bridge/devices",
            devices_payload(
                *(device_entry(f"plug_{n}", _plug_ieee(home, n)) for n in range(PLUGS))
            ),
            retain=True,
        )
    publisher.close()

    def instance(name: str) -> BridgeProcess:
        env = bridge_env(
            broker,
            victoria.url,
            tmp_path / f"spool-{name}",
            Z2M_BASE_TOPIC="homes/+/zigbee2mqtt",
            MQTT_SHARE_GROUP="bridges",
            BRIDGE_INSTANCE_ID=name,
        )
        return BridgeProcess(env, tmp_path / f"bridge-{name}.log")

    bridges = [instance(name) for name in ("a", "b", "c")]
    for bridge in bridges:
        bridge.start()
    per_home = GROUP_READINGS // len(HOMES)
    streams = [
        threading.Thread(target=_publish_seen, args=(broker, home, per_home)) for home in HOMES
    ]
    for stream in streams:
        stream.start()
    try:
        first = bridges[0]
        wait_until(lambda: _received(first) >= KILL_AFTER, 60, "not received", 0.02)
        first.kill()
        time.sleep(5)
        bridges[0] = instance("a")
        bridges[0].env.update(
            BRIDGE_API_PORT=first.env["BRIDGE_API_PORT"], BRIDGE_API_TOKEN=first.token
        )
        bridges[0].start()
        for stream in streams:
            stream.join()
        stored = _wait_for_readings(victoria, GROUP_READINGS)
        metrics = [bridge.metrics() for bridge in bridges]
    finally:
        for stream in streams:
            stream.join()
        for bridge in bridges:
            bridge.kill()
    assert sorted(stored) == sorted((home, seq) for home in HOMES for seq in range(per_home))
    assert {key: stamps for key, (stamps, _) in stored.items() if len(stamps) > 1} == {}
    assert {
        key: labels
        for key, (_, labels) in stored.items()
        if (labels["ieee"], labels["model"])
        != (_plug_ieee(key[0], key[1] % PLUGS), "TS011F_plug_1")
    } == {}
    assert all(m["energy_edge_bridge_messages_received_total"] > 0 for m in metrics)
    assert all(m["energy_edge_bridge_evicted_points_total"] == 0 for m in metrics)
    assert all(m["energy_edge_bridge_dead_letters_total"] == 0 for m in metrics)


def _publish_seen(broker: Broker, home: str, count: int) -> None:
    """A home's numbered readings over its plugs, each with Zigbee2MQTT's `last_seen: epoch`."""
    publisher = Publisher(broker, f"stream-{home}")
    for seq in range(count):
        publisher.publish(
            f"homes/{home}/zigbee2mqtt/plug_{seq % PLUGS}",
            plug_state(50.0, 1.0, seq=seq, last_seen=SEEN_MS + seq),
        )
    publisher.close()


def _received(bridge: BridgeProcess) -> float:
    try:
        return bridge.metrics()["energy_edge_bridge_messages_received_total"]
    except httpx.TransportError:
        return 0


type Stored = dict[tuple[str, int], tuple[set[int], dict[str, str]]]


def _wait_for_readings(victoria: VictoriaMetrics, count: int) -> Stored:
    """Each stored (home, reading)'s timestamps (ms) and labels, once all `count` are there;
    a point without its home is a failure at once."""

    def stored() -> Stored:
        found: Stored = {}
        for labels, value, stamp in iter_samples(victoria.export('{__name__="zigbee2mqtt_seq"}')):
            assert "site" in labels, labels
            found.setdefault((labels["site"], int(value)), (set(), labels))[0].add(stamp)
        return found

    try:
        wait_until(lambda: len(stored()) >= count, 90, "readings missing", 0.5)
    except TimeoutError as error:
        raise AssertionError(f"{error}: {count - len(stored())} missing") from None
    return stored()


def test_the_device_list_is_kept_for_readings_queued_before_it_on_the_next_start(
    broker: Broker, tmp_path: Path
) -> None:
    """On reconnecting, the broker sends what it queued for the session before the retained
    `bridge/devices`: the list kept from the last run tags those readings."""
    publisher = Publisher(broker)
    settings = make_settings(broker, tmp_path / "spool", mqtt_share_group="g")
    first = RunningIngest(settings)
    first.start()
    publisher.publish(
        "zigbee2mqtt/bridge/devices", devices_payload(device_entry("kettle", "0xa4c1380000000001"))
    )
    publisher.flush()
    wait_until(lambda: first.state.registry.device("kettle"), 10, "devices not received")
    first.stop()
    publisher.publish("zigbee2mqtt/kettle", plug_state(100.0, 1.0))  # queued, no list retained
    publisher.close()
    second = RunningIngest(settings)
    second.start()
    try:
        second.wait_for_messages(1)
        points = [parse_line(text) for text in second.lines()]
    finally:
        second.stop()
    assert [p.tags for p in points if p.measurement == "zigbee2mqtt"] == [
        {"device": "kettle", "ieee": "0xa4c1380000000001", "model": "TS011F_plug_1"}
    ]


def test_a_damaged_or_unwritable_kept_device_list_is_said_and_skipped(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A kept list that is not Zigbee2MQTT's, or a disk that refuses it, is logged; the
    bridge goes on with the list the broker sends."""
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    (spool_dir / "bridge-devices.json").write_text("[{")
    (spool_dir / "bridge-devices.json.tmp").mkdir()  # the replacement cannot be written
    running = RunningIngest(make_settings(broker, spool_dir))
    running.start()
    publisher = Publisher(broker)
    publisher.publish(
        "zigbee2mqtt/bridge/devices", devices_payload(device_entry("kettle", "0xa4c1380000000001"))
    )
    publisher.close()
    try:
        wait_until(lambda: running.state.registry.device("kettle"), 10, "devices not received")
    finally:
        running.stop()
    assert "ignored the kept device list" in caplog.text
    assert "cannot keep the device list" in caplog.text
