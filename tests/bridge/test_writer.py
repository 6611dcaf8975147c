"""The writer drains the spool into the database and never drops a point silently."""

from collections.abc import Callable, Iterator
import itertools
import json
from pathlib import Path
import secrets
import threading

import pytest

from energy_edge_bridge.influxdb import InfluxDB
from energy_edge_bridge.spool import Spool
from energy_edge_bridge.state import BridgeState
from energy_edge_bridge.writer import MAX_LINES, DeadLetters, Writer
from tests.bridge.recorded_influxdb import (
    BAD_LINE,
    BEYOND_RETENTION,
    INTERNAL,
    NO_BUCKET,
    TOO_LARGE,
    TOO_MANY,
    UNAUTHORIZED,
    UNAVAILABLE,
    WRITTEN,
    RecordedInfluxDB,
    Response,
)
from tests.bridge.support import VictoriaMetrics, wait_for_series, wait_until
from tests.helpers.mosquitto import free_port

TOKEN = secrets.token_urlsafe(24)


def points(start: int, count: int) -> list[str]:
    """Plug readings, one per line, each its own timestamp."""
    return [
        f"zigbee2mqtt,device=plug_{n % 5},ieee=0x{n % 5:016x} power={n}.5,energy={n / 1000} "
        f"{1_764_000_000_000_000_000 + n * 1_000_000}"
        for n in range(start, start + count)
    ]


class RunningWriter:
    """A writer thread over a spool; stopped at the end."""

    def __init__(self, spool: Spool, url: str, backoff_min_s: float = 0.05) -> None:
        self.spool = spool
        self.state = BridgeState()
        database = InfluxDB(url, TOKEN, "energy-edge", "energy")
        self.writer = Writer(
            spool, database, self.state, linger_s=0.05, backoff_min_s=backoff_min_s
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.writer.run, args=(self._stop,), daemon=True)

    def start(self) -> RunningWriter:
        """Run in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        self._thread.join(5)

    def wait_empty(self, timeout: float = 30) -> None:
        """Until the spool has nothing unsent."""
        wait_until(lambda: self.spool.backlog_lines == 0, timeout, "the spool did not empty")


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    """An empty spool."""
    return Spool(tmp_path / "spool", 64 * 1024 * 1024)


@pytest.fixture
def start_writer(spool: Spool) -> Iterator[Callable[..., RunningWriter]]:
    """Start writers on the spool towards a URL."""
    running: list[RunningWriter] = []

    def start(url: str, backoff_min_s: float = 0.05) -> RunningWriter:
        running.append(RunningWriter(spool, url, backoff_min_s).start())
        return running[-1]

    yield start
    for writer in running:
        writer.stop()


def dead_letters(spool: Spool) -> list[dict[str, object]]:
    """The dead-letter file's records."""
    path = spool.directory / "dead-letters.jsonl"
    return [json.loads(text) for text in path.read_text().splitlines()] if path.exists() else []


def test_every_point_reaches_the_database(
    spool: Spool, victoria: VictoriaMetrics, start_writer: Callable[..., RunningWriter]
) -> None:
    """12,000 spooled points are readable in the database; the spool ends empty."""
    for start in range(0, 12_000, 1000):
        spool.write(points(start, 1000))
    writer = start_writer(victoria.url)
    writer.wait_empty()
    assert writer.state.counters.points_written == 12_000
    assert writer.state.links.database_reachable
    series = wait_for_series(victoria, '{__name__="zigbee2mqtt_power"}', 12_000)
    assert sum(len(s["values"]) for s in series) == 12_000
    assert {s["metric"]["device"] for s in series} == {f"plug_{n}" for n in range(5)}


def test_requests_are_gzip_batches_of_at_most_5000_lines_with_the_token(
    spool: Spool,
    recorded_influxdb: RecordedInfluxDB,
    start_writer: Callable[..., RunningWriter],
) -> None:
    """InfluxDB's write API: organisation, bucket, ns precision, Token header, gzip body."""
    for start in range(0, 12_000, 500):
        spool.write(points(start, 500))
    start_writer(recorded_influxdb.url).wait_empty()
    writes = recorded_influxdb.requests
    assert all(r.path == "/api/v2/write" for r in writes)
    assert writes[0].query == {"org": ["energy-edge"], "bucket": ["energy"], "precision": ["ns"]}
    assert writes[0].headers["Authorization"] == f"Token {TOKEN}"
    assert writes[0].headers["Content-Encoding"] == "gzip"
    assert max(len(r.body.splitlines()) for r in writes) <= MAX_LINES
    assert recorded_influxdb.written_lines() == points(0, 12_000)


def test_a_refused_line_goes_to_the_dead_letters_and_the_rest_is_written(
    spool: Spool, victoria: VictoriaMetrics, start_writer: Callable[..., RunningWriter]
) -> None:
    """VictoriaMetrics, like InfluxDB, refuses a whole batch for one bad line (400): the batch
    is split until the bad line is alone; it is kept with the reason, the others written."""
    spool.write([*points(0, 300), "not line protocol", *points(300, 300)])
    writer = start_writer(victoria.url)
    writer.wait_empty()
    assert writer.state.counters.dead_letters == 1
    assert writer.state.counters.points_written == 600
    [letter] = dead_letters(spool)
    assert letter["status"] == 400
    assert letter["lines"] == ["not line protocol"]
    assert "cannot parse" in str(letter["reason"])
    wait_for_series(victoria, '{__name__="zigbee2mqtt_power"}', 600)


@pytest.mark.parametrize(
    ("refusal", "status"), [(BAD_LINE, 400), (BEYOND_RETENTION, 422), (TOO_LARGE, 413)]
)
def test_influxdb_refusing_the_data_keeps_it_with_the_reason(
    spool: Spool,
    recorded_influxdb: RecordedInfluxDB,
    start_writer: Callable[..., RunningWriter],
    refusal: Response,
    status: int,
) -> None:
    """InfluxDB's own refusals: the batch is split, each refused line kept with its reason."""
    spool.write(points(0, 4))
    recorded_influxdb.answer(refusal, WRITTEN, refusal, refusal, WRITTEN)
    writer = start_writer(recorded_influxdb.url)
    writer.wait_empty()
    # Answers in turn: all 4 refused; halves [0, 1] written, [2, 3] refused; [2] refused
    # alone (a dead letter), [3] written.
    letters = dead_letters(spool)
    assert [letter["lines"] for letter in letters] == [[points(2, 1)[0]]]
    assert letters[0]["status"] == status
    assert letters[0]["reason"] == json.loads(refusal.body)["message"]
    assert writer.state.counters.points_written == 3
    assert writer.state.counters.write_errors == 0


@pytest.mark.parametrize(
    ("refusal", "problem"),
    [
        (UNAUTHORIZED, "HTTP 401: unauthorized access"),
        (NO_BUCKET, 'HTTP 404: bucket "energy" not found'),
        (INTERNAL, "HTTP 500: engine: cache-max-memory-size exceeded"),
        (UNAVAILABLE, "HTTP 503: service unavailable"),
        (Response(502, b"<html>Bad gateway</html>"), "HTTP 502: <html>Bad gateway</html>"),
    ],
)
def test_points_wait_in_the_spool_while_influxdb_cannot_take_them(
    spool: Spool,
    recorded_influxdb: RecordedInfluxDB,
    start_writer: Callable[..., RunningWriter],
    refusal: Response,
    problem: str,
) -> None:
    """A wrong token, a missing bucket, a server error: nothing is dropped or dead-lettered;
    health shows the problem; once InfluxDB takes them, everything is written."""
    spool.write(points(0, 100))
    recorded_influxdb.answer(refusal, refusal)
    writer = start_writer(recorded_influxdb.url)
    wait_until(lambda: writer.state.counters.write_errors >= 1, 10, "no failed write")
    links = writer.state.links
    assert spool.backlog_lines == 100
    assert (links.database_reachable, links.database_problem) == (False, problem)
    writer.wait_empty()
    assert (links.database_reachable, links.database_problem) == (True, None)
    assert writer.state.counters.write_errors == 2
    assert dead_letters(spool) == []
    assert recorded_influxdb.written_lines() == points(0, 100) * 3


def test_the_writer_backs_off_exponentially_and_honours_retry_after(
    spool: Spool, recorded_influxdb: RecordedInfluxDB, start_writer: Callable[..., RunningWriter]
) -> None:
    """Failures wait 0.5 s, then 1 s...; a 429 waits what its Retry-After says."""
    spool.write(points(0, 10))
    recorded_influxdb.answer(INTERNAL, INTERNAL, TOO_MANY)
    writer = start_writer(recorded_influxdb.url, backoff_min_s=0.5)
    writer.wait_empty()
    moments = [r.received for r in recorded_influxdb.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert gaps[0] >= 0.45
    assert gaps[1] >= 0.95
    assert gaps[2] >= 0.95  # Retry-After: 1


def test_an_unreachable_database_is_waited_for(tmp_path: Path, spool: Spool) -> None:
    """Nothing listens: the points wait; the database starts: they are written."""
    victoria = VictoriaMetrics(tmp_path / "late-victoria", port=free_port())
    spool.write(points(0, 50))
    writer = RunningWriter(spool, victoria.url).start()
    try:
        wait_until(lambda: writer.state.counters.write_errors >= 1, 10, "no failed write")
        assert "cannot reach InfluxDB" in str(writer.state.links.database_problem)
        assert spool.backlog_lines == 50
        victoria.start()
        writer.wait_empty(timeout=60)
        wait_for_series(victoria, '{__name__="zigbee2mqtt_power"}', 50)
    finally:
        writer.stop()
        victoria.stop()


def test_drain_writes_what_it_can_in_time(
    spool: Spool, recorded_influxdb: RecordedInfluxDB
) -> None:
    """At shutdown: True when everything is written, False at the first failure."""
    writer = RunningWriter(spool, recorded_influxdb.url).writer
    spool.write(points(0, 7000))
    assert writer.drain(5.0) is True
    spool.write(points(7000, 10))
    recorded_influxdb.answer(UNAVAILABLE)
    assert writer.drain(5.0) is False
    assert spool.backlog_lines == 10
    assert writer.drain(0.0) is False
    assert spool.backlog_lines == 10


def test_dead_letters_are_private_and_bounded(tmp_path: Path) -> None:
    """Refused points may name devices and values: 0600. A database that refuses everything
    must not fill the disk: past its limit the file is rotated, one older file kept."""
    letters = DeadLetters(tmp_path / "dead-letters.jsonl", max_bytes=2000)
    for n in range(100):
        letters.add(f"m,device=d{n} value={n}.0 {n}\n".encode(), 400, "unable to parse")
    current, older = tmp_path / "dead-letters.jsonl", tmp_path / "dead-letters.jsonl.1"
    assert current.stat().st_size <= 2000
    assert older.stat().st_size <= 2000
    assert {path.stat().st_mode & 0o777 for path in (current, older)} == {0o600}
    last = json.loads(current.read_text().splitlines()[-1])
    assert last["lines"] == ["m,device=d99 value=99.0 99"]
    assert last["status"] == 400
    assert sorted(path.name for path in tmp_path.iterdir()) == [current.name, older.name]
