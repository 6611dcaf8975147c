"""The disk spool between MQTT and the database: append-only segments of checksummed frames.

The ingest writes each small batch of lines as one frame and fsyncs it before it acknowledges
the messages to the broker. The writer reads committed frames in order and acknowledges them
once the database has them; a segment is deleted only when all of it is in the database. When
the spool grows past its limit, the oldest segments are evicted: counted and logged loudly.

A frame is a header (magic, payload length, CRC-32) and the payload: line protocol, one point
per line. A frame torn by a crash fails its checksum and is cut off at start-up; its messages
were never acknowledged, so the broker delivers them again.
"""

from collections.abc import Iterator, Sequence
import contextlib
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import struct
import threading
import zlib

_LOGGER = logging.getLogger(__name__)

_HEADER = struct.Struct("<4sII")
_MAGIC = b"EEsp"
_SUFFIX = ".seg"
_CURSOR = "cursor"
_SEGMENT_FRACTION = 16  # eviction frees about 1/16 of the spool at a time
_MIN_SEGMENT_BYTES = 4 * 1024
_MAX_SEGMENT_BYTES = 16 * 1024 * 1024


class SpoolError(OSError):
    """The spool could not store a batch (disk full, permissions...)."""


@dataclass(slots=True)
class _Segment:
    number: int
    path: Path
    size: int = 0  # committed bytes
    lines: int = 0  # committed lines


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in the spool: a segment, a byte offset in it and the lines before that offset."""

    segment: int
    offset: int
    lines: int


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive committed lines, ready for a write request."""

    frames: tuple[bytes, ...]  # line protocol, every line ending with a newline
    lines: int
    end: Position

    @property
    def body(self) -> bytes:
        """All the lines in one piece."""
        return b"".join(self.frames)


class Spool:
    """Append-only segments in one directory, shared by one or more writers and one reader."""

    def __init__(
        self, directory: Path, max_bytes: int, *, segment_bytes: int | None = None
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or min(
            max(max_bytes // _SEGMENT_FRACTION, _MIN_SEGMENT_BYTES), _MAX_SEGMENT_BYTES
        )
        self.evicted_lines = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._commit_lock = threading.Lock()  # one frame at a time, in order
        self._active: _Segment | None = None  # the segment frames are appended to
        self._active_fd = -1
        directory.mkdir(parents=True, exist_ok=True)
        self._segments = [self._recover(path) for path in self._segment_paths()]
        self._next_number = self._segments[-1].number + 1 if self._segments else 1
        self._cursor = self._load_cursor()
        self._drop_consumed()

    # -- writing -------------------------------------------------------------------------

    def write(self, lines: Sequence[str]) -> None:
        """Store lines durably (written and fsynced) as one frame. Thread-safe.

        Raises `SpoolError` when the disk refuses them; the spool is then unchanged.
        """
        if not lines:
            return
        payload = ("\n".join(lines) + "\n").encode()
        header = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload))
        frame_bytes = len(header) + len(payload)
        with self._commit_lock:
            try:
                segment = self._segment_for(frame_bytes)
                _write_all(self._active_fd, header, payload)
                os.fdatasync(self._active_fd)
            except OSError as error:
                self._seal()  # a fresh segment next time; the committed frames stay intact
                raise SpoolError(
                    f"cannot write to the spool in {self.directory}: {error}"
                ) from error
            with self._changed:
                segment.size += frame_bytes
                segment.lines += len(lines)
                self._evict_overflow()
                self._changed.notify_all()

    def _segment_for(self, frame_bytes: int) -> _Segment:
        """The active segment, or a new one when this frame would overflow it (commit lock)."""
        active = self._active
        if active is not None and (
            active.size == 0 or active.size + frame_bytes <= self.segment_bytes
        ):
            return active
        self._seal()
        segment = _Segment(self._next_number, self.directory / f"{self._next_number:012d}{_SUFFIX}")
        self._active_fd = os.open(
            segment.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600
        )
        self._next_number += 1
        _fsync_directory(self.directory)  # the new file's name survives a power cut
        with self._lock:
            self._segments.append(segment)
            self._active = segment
        return segment

    def _seal(self) -> None:
        """Stop appending to the active segment (commit lock held)."""
        if self._active_fd >= 0:
            os.close(self._active_fd)
            self._active_fd = -1
        with self._lock:
            if self._active is not None:
                # A torn frame from a failed write is cut off, as at start-up.
                with contextlib.suppress(OSError):
                    os.truncate(self._active.path, self._active.size)
            self._active = None
            self._drop_consumed()

    def _evict_overflow(self) -> None:
        """Drop the oldest sealed segments while the spool is over its limit (lock held)."""
        while len(self._segments) > 1 and self._size_bytes() > self.max_bytes:
            oldest = self._segments.pop(0)
            sent = self._cursor.lines if self._cursor.segment == oldest.number else 0
            unsent = oldest.lines - sent if self._cursor.segment <= oldest.number else 0
            if self._cursor.segment <= oldest.number:
                self._cursor = Position(self._segments[0].number, 0, 0)
            oldest.path.unlink(missing_ok=True)
            self.evicted_lines += unsent
            _LOGGER.error(
                "spool full (limit %.1f MB): evicted %d unsent points, the oldest; "
                "%d evicted since start. Is the database reachable?",
                self.max_bytes / (1024 * 1024),
                unsent,
                self.evicted_lines,
            )

    # -- reading -------------------------------------------------------------------------

    def wait(self, min_lines: int, timeout: float) -> bool:
        """Wait until at least `min_lines` committed lines are unsent, or the timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._backlog_lines() >= min_lines, timeout)

    def read(self, max_lines: int) -> Batch | None:
        """The oldest unsent committed lines, whole frames, at most `max_lines` unless one
        frame alone is bigger; None when nothing is waiting."""
        with self._lock:
            position = self._cursor
            segments = [
                (s.number, s.path, s.size) for s in self._segments if s.number >= position.segment
            ]
        parts: list[bytes] = []
        lines = 0
        end = position
        for number, path, size in segments:
            offset, before = (end.offset, end.lines) if number == end.segment else (0, 0)
            if offset >= size:
                continue
            try:
                for frame, frame_end in _frames(path, offset, size):
                    count = frame.count(b"\n")
                    if parts and lines + count > max_lines:
                        return Batch(tuple(parts), lines, end)
                    parts.append(frame)
                    lines += count
                    before += count
                    end = Position(number, frame_end, before)
            except FileNotFoundError:
                continue  # evicted while we read it
            except _CorruptFrameError as error:
                if parts:
                    break  # deliver the good frames first; the damage is met again next time
                self._skip_corrupt(number, error)
                return self.read(max_lines)
        return Batch(tuple(parts), lines, end) if parts else None

    def acknowledge(self, batch: Batch) -> None:
        """The database has this batch: move past it and delete finished segments."""
        with self._changed:
            if batch.end <= self._cursor:
                return  # evicted meanwhile
            self._cursor = batch.end
            self._drop_consumed()
            self._changed.notify_all()
        self._save_cursor()

    def _skip_corrupt(self, number: int, error: Exception) -> None:
        """Give up the rest of a damaged segment, counting its unsent points as lost."""
        with self._changed:
            segment = next((s for s in self._segments if s.number == number), None)
            if segment is None or self._cursor.segment > number:
                return  # evicted meanwhile
            sent = self._cursor.lines if self._cursor.segment == number else 0
            lost = segment.lines - sent
            self._cursor = Position(number, segment.size, segment.lines)
            self.evicted_lines += lost
            self._drop_consumed()
        _LOGGER.error("spool segment %s is damaged (%s): %d points lost", segment.path, error, lost)

    # -- state ---------------------------------------------------------------------------

    @property
    def size_bytes(self) -> int:
        """Bytes of all segments on disk."""
        with self._lock:
            return self._size_bytes()

    @property
    def backlog_lines(self) -> int:
        """Committed points not yet in the database."""
        with self._lock:
            return self._backlog_lines()

    @property
    def backlog_bytes(self) -> int:
        """Committed bytes not yet in the database."""
        with self._lock:
            return sum(
                s.size - (self._cursor.offset if s.number == self._cursor.segment else 0)
                for s in self._segments
                if s.number >= self._cursor.segment
            )

    def close(self) -> None:
        """Close the active segment; the spool stays on disk for the next start."""
        with self._commit_lock:
            self._seal()

    def _size_bytes(self) -> int:
        return sum(s.size for s in self._segments)

    def _backlog_lines(self) -> int:
        return sum(
            s.lines - (self._cursor.lines if s.number == self._cursor.segment else 0)
            for s in self._segments
            if s.number >= self._cursor.segment
        )

    def _drop_consumed(self) -> None:
        """Delete the sealed segments the database has all of (lock held, or at start-up)."""
        while self._segments and self._segments[0] is not self._active:
            first = self._segments[0]
            behind = self._cursor.segment > first.number
            finished = self._cursor.segment == first.number and self._cursor.offset >= first.size
            if not (behind or finished):
                return
            self._segments.pop(0)
            first.path.unlink(missing_ok=True)

    # -- recovery ------------------------------------------------------------------------

    def _segment_paths(self) -> list[Path]:
        paths = [p for p in self.directory.glob(f"*{_SUFFIX}") if p.stem.isdigit()]
        return sorted(paths, key=lambda p: int(p.stem))

    def _recover(self, path: Path) -> _Segment:
        """Measure a segment left by a previous run, cutting off a torn last frame."""
        segment = _Segment(int(path.stem), path)
        size = path.stat().st_size
        try:
            for frame, frame_end in _frames(path, 0, size):
                segment.lines += frame.count(b"\n")
                segment.size = frame_end
        except _CorruptFrameError as error:
            _LOGGER.warning(
                "spool segment %s: cut %d bytes after its last complete frame (%s); "
                "their messages were never acknowledged and the broker delivers them again",
                path,
                size - segment.size,
                error,
            )
            with path.open("r+b") as file:
                file.truncate(segment.size)
        return segment

    def _load_cursor(self) -> Position:
        first = Position(self._segments[0].number, 0, 0) if self._segments else Position(1, 0, 0)
        try:
            number, offset, lines = (int(x) for x in (self.directory / _CURSOR).read_text().split())
        except OSError, ValueError:
            return first
        for segment in self._segments:
            if segment.number == number and offset <= segment.size and lines <= segment.lines:
                return Position(number, offset, lines)
        return first

    def _save_cursor(self) -> None:
        # Not fsynced: losing an update only sends some points again, which InfluxDB overwrites.
        with self._lock:
            cursor = self._cursor
        temporary = self.directory / f"{_CURSOR}.tmp"
        temporary.write_text(f"{cursor.segment} {cursor.offset} {cursor.lines}\n")
        temporary.replace(self.directory / _CURSOR)


class _CorruptFrameError(ValueError):
    pass


def _frames(path: Path, offset: int, size: int) -> Iterator[tuple[bytes, int]]:
    """The payloads of the frames between `offset` and `size`, with the offset after each."""
    with path.open("rb") as file:
        file.seek(offset)
        position = offset
        while position < size:
            header = file.read(_HEADER.size)
            if len(header) < _HEADER.size:
                raise _CorruptFrameError("incomplete frame header")
            magic, length, checksum = _HEADER.unpack(header)
            end = position + _HEADER.size + length
            if magic != _MAGIC or end > size:
                raise _CorruptFrameError("bad or incomplete frame")
            payload = file.read(length)
            if zlib.crc32(payload) != checksum:
                raise _CorruptFrameError("frame checksum mismatch")
            position = end
            yield payload, position


def _write_all(fd: int, *parts: bytes) -> None:
    """Write the parts in order, as one system call when the kernel takes them at once."""
    views = [memoryview(part) for part in parts]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views.pop(0))
        if views:
            views[0] = views[0][written:]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
