"""Supervised loops: an unexpected error is logged with its traceback, counted, and the loop
restarts with backoff; a loop that keeps failing gives up, and the bridge exits to be restarted."""

import logging
import threading

import pytest

from energy_edge_bridge import supervision
from energy_edge_bridge.supervision import Heartbeat, supervise
from tests.bridge.support import wait_until


def test_a_loop_that_raises_is_logged_counted_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The second run goes on after the first one's error."""
    stop = threading.Event()
    heartbeat = Heartbeat("writer")
    runs: list[int] = []

    def loop(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise OSError(28, "No space left on device")
        stop.wait()

    with caplog.at_level(logging.ERROR):
        thread = supervise(loop, stop, heartbeat)
        wait_until(lambda: len(runs) == 2, 5, "not restarted")
    assert heartbeat.failures == 1
    assert heartbeat.running
    assert heartbeat.problem is None
    assert heartbeat.last_error == "OSError: [Errno 28] No space left on device"
    assert "Traceback" in caplog.text
    assert "restarting the writer loop in 0.5 s" in caplog.text
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert not heartbeat.running


def test_a_loop_that_keeps_failing_gives_up(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five failures in a row, each right after its restart: the loop gives up, says so, and
    its problem is what /health and the service report."""
    monkeypatch.setattr(supervision, "RESTART_MIN_S", 0.01)
    heartbeat = Heartbeat("ingest")

    def loop(stop: threading.Event) -> None:
        raise RuntimeError("broken")

    with caplog.at_level(logging.ERROR):
        supervise(loop, threading.Event(), heartbeat).join(10)
    assert heartbeat.gave_up
    assert heartbeat.failures == supervision.MAX_FAILURES_IN_A_ROW
    assert heartbeat.problem == "gave up after 5 failures: RuntimeError: broken"
    assert "the ingest loop failed 5 times in a row: giving up" in caplog.text


def test_a_loop_that_stops_beating_is_stuck() -> None:
    """Past the time it promised, plus a margin."""
    now = [0.0]
    heartbeat = Heartbeat("health", clock=lambda: now[0])
    heartbeat.running = True
    heartbeat.beat(10)
    now[0] = 10 + supervision.STUCK_MARGIN_S
    assert not heartbeat.stuck
    now[0] += 1
    assert heartbeat.stuck
    assert heartbeat.problem == "stuck: it has not reported for too long"
