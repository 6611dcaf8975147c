"""Chaos: the database goes away, the broker restarts, the bridge is killed, the spool fills.

Every reading carries a sequence number (`seq`), so that what the database holds can be
checked one message at a time: present, and recorded at a single time of receipt.
"""

from collections import defaultdict
from collections.abc import Callable
import threading

from tests.bridge.support import (
    BridgeProcess,
    Publisher,
    VictoriaMetrics,
    iter_samples,
    plug_state,
    wait_for_series,
    wait_until,
)
from tests.helpers.mosquitto import Broker

type MakeBridge = Callable[..., BridgeProcess]
SEQ = '{__name__="zigbee2mqtt_seq"}'


def publish(broker: Broker, first: int, count: int, client_id: str = "chaos") -> None:
    """Readings `first` to `first + count - 1`, at QoS 1, over 20 devices."""
    publisher = Publisher(broker, client_id)
    for seq in range(first, first + count):
        publisher.publish(f"zigbee2mqtt/room_{seq % 20}/plug", plug_state(50.0, 1.0, seq=seq))
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
    wait_until(lambda: len(times_by_seq(victoria)) >= count, 60, "readings missing", 0.5)
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
