"""Chaos: the database goes away, the broker restarts, the bridge is killed, the spool fills,
the disk fills, the spool is damaged, and each of the bridge's loops meets an unexpected error.

Every reading carries a sequence number (`seq`), so that what the database holds can be
checked one message at a time: present, and recorded at a single time of receipt.
"""

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
import threading

from fastapi.testclient import TestClient
import pytest

from energy_edge_bridge.ingest import Ingest
from energy_edge_bridge.service import Bridge, HealthReporter
from energy_edge_bridge.writer import Writer
from tests.bridge.conftest import make_settings
from tests.bridge.support import (
    BridgeProcess,
    Publisher,
    VictoriaMetrics,
    bridge_env,
    iter_samples,
    plug_state,
    small_filesystem,
    wait_for_series,
    wait_until,
)
from tests.helpers.mosquitto import Broker

type MakeBridge = Callable[..., BridgeProcess]
SEQ = '{__name__="zigbee2mqtt_seq"}'


def publish(broker: Broker, first: int, count: int, client_id: str = "chaos", qos: int = 1) -> None:
    """Readings `first` to `first + count - 1`, over 20 devices."""
    publisher = Publisher(broker, client_id)
    for seq in range(first, first + count):
        publisher.publish(
            f"zigbee2mqtt/room_{seq % 20}/plug", plug_state(50.0, 1.0, seq=seq), qos=qos
        )
    publisher.close()


def times_by_seq(victoria: VictoriaMetrics) -> dict[int, set[int]]:
    """For each sequence number in the database, the times (ms) it was recorded at."""
    times: dict[int, set[int]] = defaultdict(set)
    for _, value, stamp in iter_samples(victoria.export(SEQ)):
        times[int(value)].add(stamp)
    return times


def assert_each_once(victoria: VictoriaMetrics, count: int) -> None:
    """Every reading present, none recorded at two different times (a real duplicate in
    InfluxDB; a same-time copy only overwrites itself)."""
    try:
        wait_until(lambda: len(times_by_seq(victoria)) >= count, 60, "readings missing", 0.5)
    except TimeoutError as error:
        missing = sorted(set(range(count)) - set(times_by_seq(victoria)))
        raise AssertionError(f"{error}: {len(missing)} missing, from {missing[:5]}") from None
    times = times_by_seq(victoria)
    assert sorted(times) == list(range(count))
    twice = {seq: stamps for seq, stamps in times.items() if len(stamps) > 1}
    assert twice == {}


def received(bridge: BridgeProcess) -> float:
    """Messages the bridge has received so far."""
    return bridge.metrics()["energy_edge_bridge_messages_received_total"]


def test_the_database_down_for_a_while_loses_nothing(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """Readings wait in the spool while the database is away; all arrive once it is back."""
    bridge = bridge_process()
    bridge.start()
    publish(broker, 0, 2000)
    wait_for_series(victoria, SEQ, 2000)
    victoria.stop()
    publish(broker, 2000, 2000)
    wait_until(lambda: received(bridge) >= 4000, 30, "not received")
    wait_until(lambda: bridge.health().get("database", {}).get("ok") is False, 30, "no outage")
    health = bridge.health()
    assert health["status"] == "degraded"
    assert "cannot reach InfluxDB" in health["database"]["problem"]
    assert health["spool"]["backlog_points"] >= 2000
    victoria.start()
    assert_each_once(victoria, 4000)
    wait_until(lambda: bridge.health().get("status") == "ok", 30, "health did not recover")
    bridge.terminate()


def test_a_broker_restart_loses_nothing_the_broker_kept(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """The bridge reconnects and subscribes again; what the broker queued for its persistent
    session while it was away (bridge stopped, or broker restarted) is delivered."""
    bridge = bridge_process()
    bridge.start()
    publish(broker, 0, 1000)
    broker.restart(downtime=1.0)
    publish(broker, 1000, 1000, "after-broker-restart")  # maybe before the bridge is back
    wait_until(lambda: bridge.health().get("mqtt", {}).get("ok") is True, 30, "no reconnect")
    bridge.terminate()
    publish(broker, 2000, 1000, "while-bridge-stopped")  # queued for the bridge's session
    bridge_process().start()
    assert_each_once(victoria, 3000)


def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """Killed twice while 20,000 readings stream in, and started again each time."""
    bridge = bridge_process()
    bridge.start()
    stream = threading.Thread(target=publish, args=(broker, 0, 20_000, "stream"))
    stream.start()
    try:
        for when in (4000, 9000):
            running = bridge
            wait_until(lambda: received(running) >= when, 60, "not received", 0.02)  # noqa: B023
            bridge.kill()
            bridge = bridge_process()
            bridge.start()
    finally:
        stream.join(120)
    assert_each_once(victoria, 20_000)
    assert bridge.terminate()[0] == 0


def test_a_full_spool_evicts_the_oldest_readings_and_says_so(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """BRIDGE_SPOOL_MAX_MB reached while the database is away: the oldest readings are
    dropped, counted and logged; the newest are written when the database is back."""
    bridge = bridge_process(BRIDGE_SPOOL_MAX_MB="1")
    bridge.start()
    victoria.stop()
    total = 12_000  # about 3 MB of line protocol
    publish(broker, 0, total)
    wait_until(lambda: received(bridge) >= total, 60, "not received")
    metrics = bridge.metrics()
    evicted = metrics["energy_edge_bridge_evicted_points_total"]
    assert evicted > 0
    assert metrics["energy_edge_bridge_spool_bytes"] <= 1024 * 1024
    assert "spool full (limit 1.0 MB): evicted" in bridge.log()
    victoria.start()
    wait_until(lambda: bridge.health().get("spool", {}).get("backlog_points") == 0, 60, "stuck")
    kept = sorted(times_by_seq(victoria))
    assert kept[-1] == total - 1  # the newest are there...
    assert kept == list(range(kept[0], total))  # ...without a gap
    assert kept[0] > 0  # the oldest went
    evicted = bridge.metrics()["energy_edge_bridge_evicted_points_total"]
    assert total - len(kept) <= evicted  # and every missing one was counted
    bridge.terminate()


def test_qos_0_readings_survive_sigkill_with_the_stacks_broker_settings(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """Zigbee2MQTT publishes at QoS 0. With `upgrade_outgoing_qos true` (the stacks' brokers,
    and the test broker) they reach the bridge at QoS 1 and are acknowledged only once
    spooled: killed mid-stream, the bridge loses none of them."""
    bridge = bridge_process()
    bridge.start()
    stream = threading.Thread(target=publish, args=(broker, 0, 10_000, "stream-qos0", 0))
    stream.start()
    try:
        wait_until(lambda: received(bridge) >= 3000, 60, "not received", 0.02)
        bridge.kill()
        bridge = bridge_process()
        bridge.start()
    finally:
        stream.join(120)
    assert_each_once(victoria, 10_000)
    assert bridge.metrics()["energy_edge_bridge_qos0_messages_total"] == 0
    assert bridge.terminate()[0] == 0


def test_qos_0_readings_queued_through_a_broker_restart_arrive(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics
) -> None:
    """Published at QoS 0 while the bridge is stopped, kept by the broker for the bridge's
    session across a broker restart, delivered when the bridge comes back."""
    bridge = bridge_process()
    bridge.start()
    bridge.terminate()
    publish(broker, 0, 2000, "queued-qos0", qos=0)
    broker.restart(downtime=0.5)
    bridge = bridge_process()
    bridge.start()
    assert_each_once(victoria, 2000)
    bridge.terminate()


def test_a_full_disk_with_refuse_loses_nothing_and_says_so(
    broker: Broker, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    """A 2 MiB disk fills while the database is away (BRIDGE_SPOOL_FULL=refuse): the bridge
    stops acknowledging, the broker keeps the rest, /health names the problem; once the
    database is back the spool drains, the disk frees up and every reading arrives once."""
    with small_filesystem(tmp_path / "disk", 2 * 1024 * 1024) as disk:
        env = bridge_env(broker, victoria.url, disk / "spool", BRIDGE_SPOOL_FULL="refuse")
        bridge = BridgeProcess(env, tmp_path / "bridge.log")
        bridge.start()
        try:
            victoria.stop()
            total = 15_000  # about 4 MB of line protocol
            publish(broker, 0, total)
            wait_until(
                lambda: bridge.health().get("spool", {}).get("ok") is False, 60, "never full"
            )
            health = bridge.health()
            assert "No space left" in health["spool"]["problem"]
            assert all(loop["ok"] for loop in health["loops"].values())
            victoria.start()
            assert_each_once(victoria, total)
            try:
                wait_until(lambda: bridge.health().get("status") == "ok", 30, "not healthy")
            except TimeoutError as error:
                log = bridge.log()[-3000:]
                raise AssertionError(f"{error}: {bridge.health()}\n{log}") from None
            metrics = bridge.metrics()
            assert metrics["energy_edge_bridge_evicted_points_total"] == 0
            assert metrics["energy_edge_bridge_spool_refusals_total"] > 0
            assert bridge.terminate()[0] == 0
        finally:
            bridge.kill()


def test_a_spool_damaged_mid_segment_loses_only_the_damaged_frame(
    bridge_process: MakeBridge, broker: Broker, victoria: VictoriaMetrics, tmp_path: Path
) -> None:
    """Readings spooled while the database is away, a byte flipped in the middle of the
    spool, the bridge started again: every reading outside the damaged frame arrives, and
    the ones missing are exactly the ones counted as damaged."""
    bridge = bridge_process()
    bridge.start()
    victoria.stop()
    total = 5000
    publish(broker, 0, total)
    wait_until(lambda: received(bridge) >= total, 60, "not received")
    assert bridge.terminate()[0] == 0
    segment = max((tmp_path / "spool").glob("*.seg"), key=lambda path: path.stat().st_size)
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x01
    segment.write_bytes(bytes(data))
    victoria.start()
    bridge = bridge_process()
    bridge.start()
    wait_until(lambda: bridge.health().get("spool", {}).get("backlog_points") == 0, 60, "stuck")
    damaged = bridge.metrics()["energy_edge_bridge_damaged_points_total"]
    kept = times_by_seq(victoria)
    assert 0 < damaged < 2000  # one frame, not the rest of the segment
    missing = set(range(total)) - set(kept)
    wait_until(lambda: len(times_by_seq(victoria)) >= total - damaged, 30, "readings missing")
    missing = set(range(total)) - set(times_by_seq(victoria))
    assert len(missing) <= damaged  # health points may share the damaged frame
    assert missing == set(range(min(missing), max(missing) + 1))  # one stretch
    assert "about" in bridge.log()
    bridge.terminate()


def test_an_error_injected_into_each_loop_loses_nothing(
    broker: Broker,
    victoria: VictoriaMetrics,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The ingest, the writer and the health reporter each raise once, as a bug would: each
    is logged with its traceback, counted, restarted; every reading arrives once, and
    /health is back to ok with the failures counted."""
    for part, method, call in (
        (Ingest, "_publish_commands", 1),
        (Writer, "_send", 1),
        (HealthReporter, "report", 2),  # the first is the start's, outside the loop
    ):
        monkeypatch.setattr(part, method, raising_at(getattr(part, method), call))
    settings = make_settings(
        broker,
        tmp_path / "spool",
        influxdb_url=victoria.url,
        bridge_health_interval_s=0.2,
    )
    bridge = Bridge(settings)
    bridge.start()
    try:
        # Subscribed first: a fresh broker keeps nothing for a session it does not know yet.
        wait_until(lambda: bridge.state.links.mqtt_connected, 30, "not subscribed")
        publish(broker, 0, 2000)
        assert_each_once(victoria, 2000)
        api = TestClient(bridge.app)
        wait_until(lambda: api.get("/health").status_code == 200, 30, "not healthy")
        loops = api.get("/health").json()["loops"]
        assert {name: loop["failures"] for name, loop in loops.items()} == {
            "ingest": 1,
            "writer": 1,
            "health": 1,
        }
        assert all(loop["last_progress"] is not None for loop in loops.values())
        assert bridge.failure() is None
        assert caplog.text.count("Traceback") >= 3
    finally:
        bridge.stop()


def raising_at[**P, R](method: Callable[P, R], call: int) -> Callable[P, R]:
    """`method`, but raising RuntimeError at its `call`-th call."""
    calls: list[int] = []

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        calls.append(1)
        if len(calls) == call:
            raise RuntimeError(f"injected into {method.__qualname__}")
        return method(*args, **kwargs)

    return wrapper
