"""The database writer: drains the spool into InfluxDB and never drops a point silently.

Batches of up to 5000 lines, gzip-compressed. A segment of the spool goes only after a 2xx.
When InfluxDB refuses the data itself (400, 413, 422...), the batch is split until the refused
lines are isolated; those go to a dead-letter file with the reason, the rest is written. When
it cannot be reached, answers 5xx, or refuses the token or the bucket, the writer backs off
exponentially and the points wait in the spool.
"""

from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import logging
import os
from pathlib import Path
import threading
import time

from .influxdb import DatabaseUnreachableError, InfluxDB, WriteOutcome
from .spool import Batch, Spool
from .state import BridgeState

_LOGGER = logging.getLogger(__name__)

MAX_LINES = 5000
LINGER_S = 1.0  # a batch waits this long to fill up while the home is quiet
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 60.0
REQUEST_MAX_S = 35.0  # InfluxDB's connect and read timeouts for a write
DEAD_LETTERS_MAX_BYTES = 16 * 1024 * 1024


class DeadLetters:
    """Points the database refused, one JSON object per refusal, with the reason; readable by
    the bridge's user only. Past `max_bytes` the file is rotated: one older file is kept
    (`.1`), so that refusals never fill the disk."""

    def __init__(self, path: Path, max_bytes: int = DEAD_LETTERS_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes

    def add(self, lines: bytes, status: int, reason: str) -> None:
        """Keep refused lines (appended and fsynced)."""
        record = {
            "time": datetime.now(UTC).isoformat(),
            "status": status,
            "reason": reason,
            "lines": lines.decode(errors="replace").splitlines(),
        }
        data = (json.dumps(record) + "\n").encode()
        with contextlib.suppress(FileNotFoundError):
            if self.path.stat().st_size + len(data) > self.max_bytes:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True, slots=True)
class _Failure:
    problem: str
    retry_after_s: float | None = None


class Writer:
    """Moves batches from the spool to the database, one at a time."""

    def __init__(
        self,
        spool: Spool,
        database: InfluxDB,
        state: BridgeState,
        *,
        max_lines: int = MAX_LINES,
        linger_s: float = LINGER_S,
        backoff_min_s: float = BACKOFF_MIN_S,
    ) -> None:
        self._spool = spool
        self._database = database
        self._counters = state.counters
        self._links = state.links
        self._heartbeat = state.loops.writer
        self._dead_letters = DeadLetters(spool.directory / "dead-letters.jsonl")
        self._max_lines = max_lines
        self._linger_s = linger_s
        self._backoff_min_s = self._backoff_s = backoff_min_s

    def run(self, stop: threading.Event) -> None:
        """Write until `stop` is set."""
        while not stop.is_set():
            self._heartbeat.beat(self._linger_s + REQUEST_MAX_S)
            if not self._spool.wait(1, timeout=0.2):
                continue
            self._spool.wait(self._max_lines, timeout=self._linger_s)
            batch = self._spool.read(self._max_lines)
            if batch is None:
                continue
            failure = self._send(batch)
            if failure is not None:
                pause = self._pause(failure)
                self._heartbeat.beat(pause)
                stop.wait(pause)

    def drain(self, timeout_s: float) -> bool:
        """Write what the spool holds, for at most `timeout_s`; True when it is empty."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = self._spool.read(self._max_lines)
            if batch is None:
                return True
            if self._send(batch) is not None:
                return False
        return self._spool.backlog_lines == 0

    def _send(self, batch: Batch) -> _Failure | None:
        try:
            failure = self._deliver(batch.frames, batch.lines)
        except DatabaseUnreachableError as error:
            failure = _Failure(f"cannot reach InfluxDB at {error}")
        if failure is not None:
            self._counters.write_errors += 1
            if self._links.database_problem != failure.problem:
                _LOGGER.warning(
                    "cannot write to InfluxDB: %s; %d points wait in the spool",
                    failure.problem,
                    self._spool.backlog_lines,
                )
            self._links.database_reachable = False
            self._links.database_problem = failure.problem
            return failure
        if not self._links.database_reachable:
            _LOGGER.info("writing to InfluxDB at %s", self._database.url)
        self._links.database_reachable = True
        self._links.database_problem = None
        self._backoff_s = self._backoff_min_s
        self._spool.acknowledge(batch)
        self._heartbeat.progressed()
        return None

    def _deliver(self, parts: Sequence[bytes], lines: int) -> _Failure | None:
        """Write lines, isolating the ones InfluxDB refuses; a failure stops the delivery."""
        self._heartbeat.beat(REQUEST_MAX_S)
        outcome = self._database.write(parts)
        if outcome.written:
            self._counters.points_written += lines
            return None
        if not outcome.data_refused:
            return _Failure(f"HTTP {outcome.status}: {outcome.message}", outcome.retry_after_s)
        if lines <= 1:
            self._refuse(b"".join(parts), outcome)
            return None
        every = b"".join(parts).splitlines(keepends=True)
        half = len(every) // 2
        return self._deliver(every[:half], half) or self._deliver(every[half:], len(every) - half)

    def _refuse(self, line: bytes, outcome: WriteOutcome) -> None:
        self._dead_letters.add(line, outcome.status, outcome.message)
        self._counters.dead_letters += 1
        _LOGGER.warning(
            "InfluxDB refused a point (HTTP %d: %s); kept in %s",
            outcome.status,
            outcome.message,
            self._dead_letters.path,
        )

    def _pause(self, failure: _Failure) -> float:
        """How long to wait before trying again: the server's Retry-After, else a backoff."""
        if failure.retry_after_s is not None:
            return min(failure.retry_after_s, BACKOFF_MAX_S)
        pause = self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, BACKOFF_MAX_S)
        return pause
