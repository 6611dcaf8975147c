"""Supervised loops: nothing that runs for the bridge's lifetime may die or stall unnoticed.

Each long-running loop (ingest, writer, health) beats a `Heartbeat` at least as often as it
promises, and marks its progress when it has done its work. Its thread is run by `supervise`:
an unexpected exception is logged with its traceback, counted, and the loop starts again after
a backoff. A loop that keeps failing, or stops beating, cannot be helped from inside the
process: the service then exits non-zero, so that Docker or the add-on's watchdog restarts it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
import logging
import threading
import time

_LOGGER = logging.getLogger(__name__)

RESTART_MIN_S = 0.5
RESTART_MAX_S = 30.0
# Failures in a row (each within RESTART_MAX_S of its restart) after which the loop gives up.
MAX_FAILURES_IN_A_ROW = 5
# Slack on top of the time a loop promised to beat again, before it counts as stuck.
STUCK_MARGIN_S = 30.0


@dataclass(slots=True)
class Heartbeat:
    """One loop's liveness, written by its thread and read by /health and the service."""

    name: str
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], int] = time.time_ns
    running: bool = False
    gave_up: bool = False
    failures: int = 0  # unexpected errors since start, each followed by a restart
    last_error: str | None = None
    last_progress_ns: int | None = None  # wall time of the loop's last completed work
    _deadline: float = field(default=0.0, repr=False)

    def beat(self, next_within_s: float) -> None:
        """Alive now, and promising to beat again within `next_within_s`."""
        self._deadline = self.clock() + next_within_s + STUCK_MARGIN_S

    def progressed(self) -> None:
        """The loop has just done its work (a batch spooled, written, a health point...)."""
        self.last_progress_ns = self.wall_clock()

    @property
    def stuck(self) -> bool:
        """Running, but past the time it promised to beat again."""
        return self.running and self.clock() > self._deadline

    @property
    def problem(self) -> str | None:
        """Why this loop is not doing its job, or None."""
        if self.gave_up:
            return f"gave up after {self.failures} failures: {self.last_error}"
        if self.stuck:
            return "stuck: it has not reported for too long"
        if not self.running:
            return "not running" if self.last_error is None else f"restarting: {self.last_error}"
        return None


def supervise(
    target: Callable[[threading.Event], object], stop: threading.Event, heartbeat: Heartbeat
) -> threading.Thread:
    """Run `target(stop)` in a daemon thread, restarting it with backoff when it raises."""

    def run() -> None:
        delay = RESTART_MIN_S
        in_a_row = 0
        while not stop.is_set():
            began = heartbeat.clock()
            heartbeat.running = True
            heartbeat.beat(0.0)
            try:
                target(stop)
            except Exception as error:
                heartbeat.failures += 1
                heartbeat.last_error = f"{type(error).__name__}: {error}"
                _LOGGER.exception("the %s loop failed", heartbeat.name)
            else:
                return  # asked to stop
            finally:
                heartbeat.running = False
            if heartbeat.clock() - began > RESTART_MAX_S:  # it ran fine for a while
                delay, in_a_row = RESTART_MIN_S, 0
            in_a_row += 1
            if in_a_row >= MAX_FAILURES_IN_A_ROW:
                heartbeat.gave_up = True
                _LOGGER.critical(
                    "the %s loop failed %d times in a row: giving up", heartbeat.name, in_a_row
                )
                return
            _LOGGER.error("restarting the %s loop in %.1f s", heartbeat.name, delay)
            stop.wait(delay)
            delay = min(delay * 2, RESTART_MAX_S)

    # Daemon: a request stuck past the stopping budget must not keep the process alive.
    thread = threading.Thread(target=run, name=heartbeat.name, daemon=True)
    thread.start()
    return thread
