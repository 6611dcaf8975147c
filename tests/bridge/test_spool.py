"""The disk spool keeps every committed line until the database has it, across restarts."""

from collections.abc import Iterator
import contextlib
import logging
from pathlib import Path
import resource
import signal
import threading

from hypothesis import given, strategies as st
import pytest

from energy_edge_bridge.spool import Spool, SpoolError, SpoolFull, SpoolFullError
from tests.bridge.support import fill_disk, small_filesystem


def points(start: int, count: int) -> list[str]:
    """`count` distinct lines."""
    return [f"m,device=d{n % 7} value={n}.0 {n}" for n in range(start, start + count)]


def drain(spool: Spool, max_lines: int = 1_000_000) -> list[str]:
    """Read and acknowledge everything waiting."""
    lines: list[str] = []
    while (batch := spool.read(max_lines)) is not None:
        lines += batch.body.decode().splitlines()
        spool.acknowledge(batch)
    return lines


def segment_files(directory: Path) -> list[Path]:
    """The segment files, oldest first."""
    return sorted(directory.glob("*.seg"))


def test_lines_come_out_in_order_in_whole_frames(tmp_path: Path) -> None:
    """Batches never split a frame, stay under the line limit, and keep the order."""
    spool = Spool(tmp_path, 10 * 1024 * 1024)
    for start in range(0, 100, 10):
        spool.write(points(start, 10))
    assert spool.backlog_lines == 100
    batch = spool.read(25)
    assert batch is not None
    assert batch.lines == 20
    assert batch.body.decode().splitlines() == points(0, 20)
    spool.acknowledge(batch)
    assert spool.backlog_lines == 80
    assert drain(spool, 25) == points(20, 80)
    assert spool.read(25) is None
    assert spool.backlog_lines == spool.backlog_bytes == 0


def test_a_frame_bigger_than_a_batch_comes_alone(tmp_path: Path) -> None:
    """A batch holds at least one frame."""
    spool = Spool(tmp_path, 10 * 1024 * 1024)
    spool.write(points(0, 50))
    batch = spool.read(10)
    assert batch is not None
    assert batch.lines == 50


def test_nothing_to_write_writes_nothing(tmp_path: Path) -> None:
    """An empty batch leaves no trace."""
    spool = Spool(tmp_path, 1024 * 1024)
    spool.write([])
    assert segment_files(tmp_path) == []
    assert spool.read(10) is None


def half_sent(directory: Path) -> Spool:
    """A spool with 20 points, the first 10 in the database."""
    spool = Spool(directory, 10 * 1024 * 1024)
    spool.write(points(0, 10))
    spool.write(points(10, 10))
    batch = spool.read(10)
    assert batch is not None
    spool.acknowledge(batch)
    return spool


def test_what_is_not_acknowledged_survives_a_restart(tmp_path: Path) -> None:
    """Reopened, the spool gives what the database does not have, once."""
    spool = half_sent(tmp_path)
    spool.write(points(20, 5))
    reopened = Spool(tmp_path, 10 * 1024 * 1024)  # as after SIGKILL: never closed
    assert reopened.backlog_lines == 15
    assert drain(reopened) == points(10, 15)
    spool.close()


def test_a_lost_cursor_sends_again_rather_than_loses(tmp_path: Path) -> None:
    """Without its cursor file the spool starts over: InfluxDB overwrites the same points."""
    half_sent(tmp_path)
    (tmp_path / "cursor").write_text("garbage")
    assert drain(Spool(tmp_path, 10 * 1024 * 1024)) == points(0, 20)


def test_finished_segments_are_deleted_and_the_active_one_kept(tmp_path: Path) -> None:
    """A segment goes once the database has all of it and nothing more is appended to it."""
    spool = Spool(tmp_path, 1024 * 1024, segment_bytes=2048)
    for start in range(0, 200, 20):
        spool.write(points(start, 20))
    assert len(segment_files(tmp_path)) >= 3
    assert drain(spool, 30) == points(0, 200)
    assert len(segment_files(tmp_path)) == 1  # the active one
    spool.close()
    Spool(tmp_path, 1024 * 1024)
    assert segment_files(tmp_path) == []  # sealed and finished: deleted at start-up


def test_a_frame_torn_by_a_crash_is_cut_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A half-written frame (never fsynced, never acknowledged) is cut; the rest is intact."""
    spool = Spool(tmp_path, 1024 * 1024)
    spool.write(points(0, 10))
    spool.write(points(10, 10))
    [segment] = segment_files(tmp_path)
    whole = segment.read_bytes()
    segment.write_bytes(whole + whole[: len(whole) // 3])  # a third of a copy: torn
    with caplog.at_level(logging.WARNING):
        reopened = Spool(tmp_path, 1024 * 1024)
    assert "cut" in caplog.text
    assert segment.read_bytes() == whole
    assert drain(reopened) == points(0, 20)


@pytest.mark.parametrize("damage", ["header", "payload"])
def test_a_damaged_frame_is_skipped_at_start_up_and_the_frames_after_it_kept(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The frames after a damaged one were acknowledged to the broker, which will not send
    them again: the reader finds the next intact frame, and only the damaged one is lost,
    counted and logged as lost (not as redelivered)."""
    spool = Spool(tmp_path, 1024 * 1024)
    spool.write(points(0, 10))
    first = segment_files(tmp_path)[0].stat().st_size
    spool.write(points(10, 10))
    spool.write(points(20, 10))
    spool.close()
    [segment] = segment_files(tmp_path)
    data = bytearray(segment.read_bytes())
    data[first + (0 if damage == "header" else 20)] ^= 0xFF
    segment.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        reopened = Spool(tmp_path, 1024 * 1024)
    assert reopened.backlog_lines == 20
    assert drain(reopened) == points(0, 10) + points(20, 10)
    assert reopened.damaged_lines == 10
    assert "about 10 points lost" in caplog.text
    assert "delivers them again" not in caplog.text


def test_damage_the_database_already_has_is_not_counted_again(tmp_path: Path) -> None:
    """A damaged frame before the cursor was written before it was damaged: nothing lost."""
    spool = Spool(tmp_path, 1024 * 1024)
    spool.write(points(0, 10))
    first = segment_files(tmp_path)[0].stat().st_size
    assert drain(spool) == points(0, 10)
    spool.write(points(10, 10))
    spool.close()
    [segment] = segment_files(tmp_path)
    data = bytearray(segment.read_bytes())
    data[first // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    reopened = Spool(tmp_path, 1024 * 1024)
    assert reopened.damaged_lines == 0
    assert drain(reopened) == points(10, 10)


def test_a_frame_damaged_on_disk_later_is_skipped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Damage found while reading: good frames before it are delivered, the rest of that
    segment is counted as lost, loudly, and the next segments follow."""
    spool = Spool(tmp_path, 1024 * 1024, segment_bytes=600)
    for start in range(0, 40, 10):
        spool.write(points(start, 10))  # two frames per segment
    first, *_ = segment_files(tmp_path)
    data = bytearray(first.read_bytes())
    data[-5] ^= 0xFF  # in the second frame
    first.write_bytes(bytes(data))
    with caplog.at_level(logging.ERROR):
        assert drain(spool) == points(0, 10) + points(20, 20)
    assert "damaged" in caplog.text
    assert spool.damaged_lines == 10
    assert spool.backlog_lines == 0


def test_a_full_spool_evicts_the_oldest_points_counted_and_loud(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Past its limit, the spool drops its oldest segments: the newest data is kept."""
    limit = 32 * 1024
    spool = Spool(tmp_path, limit, segment_bytes=4096)
    with caplog.at_level(logging.ERROR):
        for start in range(0, 3000, 50):
            spool.write(points(start, 50))
    assert spool.size_bytes <= limit
    assert sum(p.stat().st_size for p in segment_files(tmp_path)) == spool.size_bytes
    assert "spool full" in caplog.text
    kept = drain(spool)
    assert spool.evicted_lines + len(kept) == 3000
    assert kept == points(3000 - len(kept), len(kept))  # the newest, in order, none missing


def test_eviction_during_a_write_request_drops_only_the_unsent(tmp_path: Path) -> None:
    """A batch read before its segment was evicted is still acknowledged harmlessly."""
    spool = Spool(tmp_path, 16 * 1024, segment_bytes=2048)
    spool.write(points(0, 20))
    in_flight = spool.read(10)
    assert in_flight is not None
    for start in range(20, 600, 20):
        spool.write(points(start, 20))
    evicted = spool.evicted_lines
    assert evicted > 0
    spool.acknowledge(in_flight)  # the database had it; the cursor already moved past
    assert spool.evicted_lines == evicted
    kept = drain(spool)
    assert kept == points(600 - len(kept), len(kept))


def test_the_reader_waits_for_lines(tmp_path: Path) -> None:
    """`wait` returns when enough lines are committed, or at its timeout."""
    spool = Spool(tmp_path, 1024 * 1024)
    assert spool.wait(1, timeout=0.05) is False
    writer = threading.Timer(0.1, spool.write, [points(0, 3)])
    writer.start()
    assert spool.wait(3, timeout=10) is True
    writer.join()


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    """The ingest and the health reporter write from different threads."""
    spool = Spool(tmp_path, 100 * 1024 * 1024, segment_bytes=8192)

    def write(first: int) -> None:
        for start in range(first, first + 1000, 10):
            spool.write(points(start, 10))

    threads = [threading.Thread(target=write, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(drain(spool)) == sorted(points(0, 4000))


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Make the kernel refuse writes past `limit` bytes (EFBIG), as a full disk would."""
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    previous = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, previous[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous)
        signal.signal(signal.SIGXFSZ, previous_handler)


def test_a_refused_write_raises_and_leaves_the_spool_intact(tmp_path: Path) -> None:
    """The caller learns it (and does not acknowledge); committed lines stay readable."""
    spool = Spool(tmp_path, 10 * 1024 * 1024)
    spool.write(points(0, 10))
    size = segment_files(tmp_path)[0].stat().st_size
    with file_size_limit(size + 100), pytest.raises(SpoolError, match="cannot write"):
        spool.write(points(10, 50))
    assert segment_files(tmp_path)[0].stat().st_size == size
    assert spool.refused_writes == 1
    spool.write(points(60, 5))
    assert drain(spool) == points(0, 10) + points(60, 5)


def test_a_full_disk_refuses_writes_without_making_empty_segments(tmp_path: Path) -> None:
    """Retrying on a full disk (the ingest does, until space comes back) leaves one segment
    file, not one more per retry; once space is back, nothing committed is missing."""
    with small_filesystem(tmp_path / "disk", 512 * 1024) as disk:
        spool = Spool(disk / "spool", 10 * 1024 * 1024)
        spool.write(points(0, 10))
        filler = fill_disk(disk, 0)
        for _ in range(50):
            with pytest.raises(SpoolError, match="No space left"):
                spool.write(points(10, 1000))
        assert len(segment_files(disk / "spool")) == 1
        assert spool.refused_writes == 50
        filler.unlink()
        spool.write(points(10, 1000))
        assert drain(spool) == points(0, 1010)
        spool.close()


def test_a_full_disk_evicts_the_oldest_when_set_to_evict(tmp_path: Path) -> None:
    """With BRIDGE_SPOOL_FULL=evict, a disk smaller than the spool's limit fills up and the
    oldest segments make room: every write succeeds, every missing point is counted."""
    with small_filesystem(tmp_path / "disk", 256 * 1024) as disk:
        spool = Spool(disk / "spool", 10 * 1024 * 1024, segment_bytes=16 * 1024)
        total = 20_000  # about 30 bytes a point: more than twice the disk
        for start in range(0, total, 50):
            spool.write(points(start, 50))
        kept = drain(spool)
        assert spool.evicted_lines > 0
        assert spool.evicted_lines + len(kept) == total
        assert kept == points(total - len(kept), len(kept))
        spool.close()


def test_a_full_spool_set_to_refuse_keeps_what_it_has_and_takes_nothing_more(
    tmp_path: Path,
) -> None:
    """With BRIDGE_SPOOL_FULL=refuse nothing is evicted: new frames are refused (the broker
    keeps their messages) until the writer has freed room."""
    limit = 32 * 1024
    spool = Spool(tmp_path, limit, segment_bytes=4096, when_full=SpoolFull.REFUSE)
    written = 0
    while True:
        try:
            spool.write(points(written, 50))
        except SpoolFullError as error:
            assert "the spool is full" in str(error)  # noqa: PT017 - the loop ends on it
            break
        written += 50
    assert spool.size_bytes <= limit
    assert spool.evicted_lines == 0
    assert spool.refused_writes == 1
    assert drain(spool) == points(0, written)
    spool.write(points(written, 50))
    assert drain(spool) == points(written, 50)


@given(
    frame_sizes=st.lists(st.integers(1, 30), min_size=1, max_size=12),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)), max_size=4),
    keep=st.floats(0, 1),
)
def test_every_intact_frame_survives_bit_flips_and_truncation(
    tmp_path_factory: pytest.TempPathFactory,
    frame_sizes: list[int],
    flips: list[tuple[float, int]],
    keep: float,
) -> None:
    """Whatever happens to a segment on disk (bits flipped anywhere, the end cut anywhere),
    every frame whose bytes are untouched comes out, in order, and nothing else does."""
    directory = tmp_path_factory.mktemp("spool")
    spool = Spool(directory, 10 * 1024 * 1024)
    frames: list[tuple[int, int, list[str]]] = []  # start, end, lines
    written = 0
    for size in frame_sizes:
        start = segment_files(directory)[0].stat().st_size if frames else 0
        lines = points(written, size)
        spool.write(lines)
        written += size
        frames.append((start, segment_files(directory)[0].stat().st_size, lines))
    spool.close()
    [segment] = segment_files(directory)
    data = bytearray(segment.read_bytes())
    cut = round(len(data) * keep)
    touched = {int(where * len(data)) for where, _ in flips}
    for where, bit in flips:
        data[int(where * len(data))] ^= 1 << bit
    segment.write_bytes(bytes(data[:cut]))
    recovered = drain(Spool(directory, 10 * 1024 * 1024))
    intact = [
        line
        for start, end, lines in frames
        if end <= cut and not any(start <= byte < end for byte in touched)
        for line in lines
    ]
    every = points(0, written)
    assert set(intact) <= set(recovered)
    assert recovered == [line for line in every if line in set(recovered)]  # in order, no junk


def test_the_spool_is_readable_by_the_bridge_only(tmp_path: Path) -> None:
    """Segments and cursor hold the home's readings: 0600, in a 0700 directory."""
    spool = Spool(tmp_path / "spool", 1024 * 1024)
    spool.write(points(0, 10))
    drain(spool)
    spool.write(points(10, 10))
    assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700
    files = list((tmp_path / "spool").iterdir())
    assert {path.name for path in files} >= {"cursor", "000000000001.seg"}
    assert {path.stat().st_mode & 0o777 for path in files} == {0o600}


def test_a_full_disk_frees_the_segment_the_database_has_all_of(tmp_path: Path) -> None:
    """The segment being appended to is deleted only once sealed: on a disk smaller than a
    segment, the one the database has all of goes when the disk is full, losing nothing."""
    with small_filesystem(tmp_path / "disk", 256 * 1024) as disk:
        spool = Spool(disk / "spool", 10 * 1024 * 1024, when_full=SpoolFull.REFUSE)
        total = 20_000  # about 30 bytes a point: more than twice the disk
        written: list[str] = []
        for start in range(0, total, 500):
            spool.write(points(start, 500))
            written += drain(spool)
        assert written == points(0, total)
        assert spool.evicted_lines == 0
        spool.close()


def test_a_cursor_the_full_disk_refuses_does_not_stop_the_writer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Acknowledging a batch saves the cursor; on a full disk that fails (found by the chaos
    test: the writer died of it). The batch is acknowledged all the same, logged once."""
    with small_filesystem(tmp_path / "disk", 512 * 1024) as disk:
        spool = Spool(disk / "spool", 10 * 1024 * 1024)
        spool.write(points(0, 10))
        spool.write(points(10, 10))
        (disk / "spool" / "cursor").unlink(missing_ok=True)
        filler = fill_disk(disk, 0)
        with caplog.at_level(logging.WARNING):
            assert drain(spool, 10) == points(0, 20)
        assert spool.backlog_lines == 0
        assert caplog.text.count("cannot save the spool's cursor") == 1
        filler.unlink()
        spool.write(points(20, 10))
        assert drain(spool) == points(20, 10)
        assert (disk / "spool" / "cursor").exists()
        spool.close()
