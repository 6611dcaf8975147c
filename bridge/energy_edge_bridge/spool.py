"""The disk spool between MQTT and the database: append-only segments of checksummed frames.

The ingest writes each small batch of lines as one frame and fsyncs it before it acknowledges
the messages to the broker. The writer reads committed frames in order and acknowledges them
once the database has them; a segment is deleted only when all of it is in the database. When
the spool is full (its limit, or a full disk), it either evicts the oldest segments, counted
and logged loudly, or refuses the frame, so that the broker keeps the messages (`SpoolFull`).

A frame is a header (magic, payload length, CRC-32) and the payload: line protocol, one point
per line. A frame torn by a crash is incomplete and cut off at start-up; its messages were never
acknowledged, so the broker delivers them again. A damaged frame (a bad checksum) is skipped:
the reader finds the next intact frame, and the points lost are counted and logged.
"""

from collections.abc import Iterator, Sequence
import contextlib
from dataclasses import dataclass
import enum
import errno
import fcntl
import logging
import os
from pathlib import Path
import struct
import threading
from typing import BinaryIO
import zlib

_LOGGER = logging.getLogger(__name__)

_HEADER = struct.Struct("<4sII")
_MAGIC = b"EEsp"
_SUFFIX = ".seg"
_CURSOR = "cursor"
_SEGMENT_FRACTION = 16  # eviction frees about 1/16 of the spool at a time
_MIN_SEGMENT_BYTES = 4 * 1024
_MAX_SEGMENT_BYTES = 16 * 1024 * 1024
MEBIBYTE = 1024 * 1024


class SpoolError(OSError):
    """The spool could not store a batch (disk full, permissions...)."""


class SpoolFullError(SpoolError):
    """The spool is at its limit and refuses new frames until the writer frees room."""


class SpoolFull(enum.StrEnum):
    """What a full spool does (`BRIDGE_SPOOL_FULL`)."""

    EVICT = "evict"  # drop the oldest unsent points, counted: the newest are kept
    REFUSE = "refuse"  # take nothing more: the broker keeps what is not acknowledged


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
        self,
        directory: Path,
        max_bytes: int,
        *,
        segment_bytes: int | None = None,
        when_full: SpoolFull = SpoolFull.EVICT,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.when_full = when_full
        self.segment_bytes = segment_bytes or min(
            max(max_bytes // _SEGMENT_FRACTION, _MIN_SEGMENT_BYTES), _MAX_SEGMENT_BYTES
        )
        self.evicted_lines = 0  # unsent points dropped from a full spool
        self.damaged_lines = 0  # points lost to damaged frames
        self.refused_writes = 0  # frames the spool could not take (full, disk full...)
        self._damage_seen: set[tuple[int, int]] = set()  # (segment, offset) counted already
        self._cursor_failing = False
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._commit_lock = threading.Lock()  # one frame at a time, in order
        self._active: _Segment | None = None  # the segment frames are appended to
        self._active_fd = -1
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        damages: list[tuple[_Segment, _Damage]] = []
        self._segments = [self._recover(path, damages) for path in self._segment_paths()]
        self._next_number = self._segments[-1].number + 1 if self._segments else 1
        self._cursor = self._load_cursor()
        for segment, damage in damages:
            if Position(segment.number, damage.start, 0) < Position(
                self._cursor.segment, self._cursor.offset, 0
            ):
                self._damage_seen.add((segment.number, damage.start))  # already written
            else:
                self._count_damage(segment, damage)
        self._drop_consumed()

    # -- writing -------------------------------------------------------------------------

    def write(self, lines: Sequence[str]) -> None:
        """Store lines durably (written and fsynced) as one frame. Thread-safe.

        Raises `SpoolError` when the disk refuses them, `SpoolFullError` when the spool is full
        and set to refuse; the spool is then unchanged.
        """
        if not lines:
            return
        payload = ("\n".join(lines) + "\n").encode()
        header = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload))
        frame_bytes = len(header) + len(payload)
        with self._commit_lock:
            try:
                self._check_room(frame_bytes)
                self._append(header, payload)
            except SpoolFullError:
                self.refused_writes += 1
                raise
            except OSError as error:
                self.refused_writes += 1
                raise SpoolError(
                    f"cannot write to the spool in {self.directory}: {error}"
                ) from error
            with self._changed:
                segment = self._active
                assert segment is not None  # noqa: S101 - _append leaves one active
                segment.size += frame_bytes
                segment.lines += len(lines)
                if self.when_full is SpoolFull.EVICT:
                    self._evict_overflow()
                self._changed.notify_all()

    def _append(self, header: bytes, payload: bytes) -> None:
        """Write and fsync one frame (commit lock held); on a full disk, with eviction, make
        room and try once more."""
        try:
            self._append_once(header, payload)
        except OSError as error:
            if error.errno != errno.ENOSPC or not (
                self._reclaim_active() or self._evict_for_disk()
            ):
                raise
            self._append_once(header, payload)

    def _reclaim_active(self) -> bool:
        """The disk is full: if the database has all of the active segment, delete it rather
        than wait for it to fill up (commit lock held)."""
        with self._lock:
            active = self._active
            done = (
                active is not None
                and active.size > 0
                and self._cursor.segment == active.number
                and self._cursor.offset >= active.size
            )
        if done:
            self._seal()  # deletes it: it is consumed
        return done

    def _append_once(self, header: bytes, payload: bytes) -> None:
        """Write and fsync one frame at the end of the active segment (commit lock held).

        On failure the segment is cut back to its committed frames and stays the active one:
        retrying creates no new, empty segment."""
        segment = self._segment_for(len(header) + len(payload))
        try:
            _write_all(self._active_fd, header, payload)
            os.fdatasync(self._active_fd)
        except OSError:
            try:
                os.ftruncate(self._active_fd, segment.size)  # the torn frame goes
            except OSError:
                self._seal()  # a fresh segment next time; the committed frames stay intact
            raise

    def _check_room(self, frame_bytes: int) -> None:
        """Refuse a frame that would take the spool past its limit, when set to refuse (an
        empty spool takes any frame)."""
        if self.when_full is not SpoolFull.REFUSE:
            return
        with self._lock:
            size = self._size_bytes()
        if size > 0 and size + frame_bytes > self.max_bytes:
            raise SpoolFullError(
                f"the spool is full (limit {self.max_bytes / MEBIBYTE:.1f} MB): "
                "waiting for the database to take its backlog"
            )

    def _evict_for_disk(self) -> bool:
        """The disk is full: evict the oldest sealed segment, if any (commit lock held)."""
        if self.when_full is not SpoolFull.EVICT:
            return False
        with self._changed:
            if len(self._segments) < 2 or self._segments[0] is self._active:
                return False
            self._evict_oldest("the disk is full")
            return True

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
            self._evict_oldest(f"limit {self.max_bytes / MEBIBYTE:.1f} MB")

    def _evict_oldest(self, why: str) -> None:
        """Delete the oldest segment, counting its unsent points (lock held)."""
        oldest = self._segments.pop(0)
        sent = self._cursor.lines if self._cursor.segment == oldest.number else 0
        unsent = oldest.lines - sent if self._cursor.segment <= oldest.number else 0
        if self._cursor.segment <= oldest.number:
            self._cursor = Position(self._segments[0].number, 0, 0)
        oldest.path.unlink(missing_ok=True)
        self.evicted_lines += unsent
        _LOGGER.error(
            "spool full (%s): evicted %d unsent points, the oldest; "
            "%d evicted since start. Is the database reachable?",
            why,
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
        frame alone is bigger; None when nothing is waiting. Damaged frames are skipped."""
        with self._lock:
            position = self._cursor
            segments = [
                (s, s.number, s.path, s.size)
                for s in self._segments
                if s.number >= position.segment
            ]
        parts: list[bytes] = []
        lines = 0
        end = position
        for segment, number, path, size in segments:
            offset, before = (end.offset, end.lines) if number == end.segment else (0, 0)
            if offset >= size:
                continue
            try:
                for frame in _frames(path, offset, size):
                    if isinstance(frame, _Damage):
                        self._count_damage(segment, frame, in_backlog=True)
                        end = Position(number, frame.end, before)
                        continue
                    count = frame.payload.count(b"\n")
                    if parts and lines + count > max_lines:
                        return Batch(tuple(parts), lines, end)
                    parts.append(frame.payload)
                    lines += count
                    before += count
                    end = Position(number, frame.end, before)
            except FileNotFoundError:
                continue  # evicted while we read it
        if not parts:
            if end != position:  # only damage was left: move past it
                with self._changed:
                    self._cursor = max(self._cursor, end)
                    self._drop_consumed()
            return None
        return Batch(tuple(parts), lines, end)

    def acknowledge(self, batch: Batch) -> None:
        """The database has this batch: move past it and delete finished segments."""
        with self._changed:
            if batch.end <= self._cursor:
                return  # evicted meanwhile
            self._cursor = batch.end
            self._drop_consumed()
            self._changed.notify_all()
        try:
            self._save_cursor()
        except OSError as error:
            # Only a restart reads it: the points since the last saved cursor are then sent
            # again, with their times, and InfluxDB overwrites them.
            if not self._cursor_failing:
                _LOGGER.warning("cannot save the spool's cursor (%s): retrying", error)
            self._cursor_failing = True
        else:
            self._cursor_failing = False

    def _count_damage(
        self, segment: _Segment, damage: _Damage, *, in_backlog: bool = False
    ) -> None:
        """Count and log a damaged stretch once (found at start-up or while reading)."""
        with self._lock:
            if (segment.number, damage.start) in self._damage_seen:
                return
            self._damage_seen.add((segment.number, damage.start))
            self.damaged_lines += damage.lines
            if in_backlog:  # counted in the segment's lines until now
                segment.lines = max(0, segment.lines - damage.lines)
        _LOGGER.error(
            "spool segment %s is damaged (%s) at bytes %d to %d: about %d points lost; "
            "the intact frames after it are kept",
            segment.path,
            damage.reason,
            damage.start,
            damage.end,
            damage.lines,
        )

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
    def lost_lines(self) -> int:
        """Points the spool lost: evicted when full, or in damaged frames."""
        return self.evicted_lines + self.damaged_lines

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

    def _recover(self, path: Path, damages: list[tuple[_Segment, _Damage]]) -> _Segment:
        """Measure a segment left by a previous run: count its intact frames, note its damaged
        stretches in `damages`, cut off a frame torn by a crash at its end."""
        segment = _Segment(int(path.stem), path)
        size = path.stat().st_size
        found: list[_Damage] = []
        for frame in _frames(path, 0, size):
            if isinstance(frame, _Damage):
                found.append(frame)
            else:
                segment.lines += frame.payload.count(b"\n")
        segment.size = size
        if found and found[-1].torn:
            torn = found.pop()
            _LOGGER.warning(
                "spool segment %s: cut %d bytes after its last complete frame (%s); "
                "their messages were never acknowledged and the broker delivers them again",
                path,
                size - torn.start,
                torn.reason,
            )
            with path.open("r+b") as file:
                file.truncate(torn.start)
            segment.size = torn.start
        damages += [(segment, damage) for damage in found]
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
        write_private(
            self.directory / _CURSOR, f"{cursor.segment} {cursor.offset} {cursor.lines}\n".encode()
        )


class SpoolInUseError(SpoolError):
    """Another process holds the spool directory."""


def lock_directory(directory: Path) -> int:
    """Hold the spool directory for this process (until it exits) and return the lock's
    descriptor: two bridges on one spool would overwrite each other's segments and cursor."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SpoolInUseError(
            f"{directory} is in use by another bridge: give each instance its own spool"
        ) from None
    return fd


def write_private(path: Path, data: bytes) -> None:
    """Replace a file atomically with `data`, readable by its owner only."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _write_all(fd, data)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    temporary.replace(path)


@dataclass(frozen=True, slots=True)
class _Frame:
    payload: bytes
    end: int  # offset after the frame


@dataclass(frozen=True, slots=True)
class _Damage:
    """Bytes between two intact frames (or an intact frame and the end) that hold none."""

    start: int
    end: int
    reason: str
    torn: bool  # an incomplete frame at the end: a crash mid-write, never acknowledged
    lines: int  # points that were in it, as far as can be told


def _frames(path: Path, offset: int, size: int) -> Iterator[_Frame | _Damage]:
    """The frames between `offset` and `size`, and the damaged stretches between them."""
    with path.open("rb") as file:
        file.seek(offset)
        position = offset
        while position < size:
            header = file.read(_HEADER.size)
            if len(header) < _HEADER.size:
                yield _damage(file, position, size, "incomplete frame header", torn=True)
                return
            magic, length, checksum = _HEADER.unpack(header)
            end = position + _HEADER.size + length
            if magic != _MAGIC:
                damage = _damage(file, position, size, "bad frame header", torn=False)
            elif end > size:
                damage = _damage(file, position, size, "incomplete frame", torn=True)
            else:
                payload = file.read(length)
                if zlib.crc32(payload) == checksum:
                    position = end
                    yield _Frame(payload, end)
                    continue
                damage = _damage(file, position, size, "frame checksum mismatch", torn=False)
            yield damage
            position = damage.end
            file.seek(position)


def _damage(file: BinaryIO, start: int, size: int, reason: str, *, torn: bool) -> _Damage:
    """The damaged stretch from `start` to the next intact frame (or `size`)."""
    file.seek(start)
    rest = file.read(size - start)
    found = rest.find(_MAGIC, 1)
    while found >= 0:
        if _intact_at(rest, found):
            break
        found = rest.find(_MAGIC, found + 1)
    end = start + found if found >= 0 else size
    # Torn only when nothing intact follows: otherwise acknowledged frames were damaged.
    lines = rest[_HEADER.size : end - start].count(b"\n")
    return _Damage(start, end, reason, torn=torn and found < 0, lines=lines)


def _intact_at(data: bytes, offset: int) -> bool:
    """Whether a whole frame with a good checksum starts at `offset`."""
    if offset + _HEADER.size > len(data):
        return False
    magic, length, checksum = _HEADER.unpack_from(data, offset)
    payload_start = offset + _HEADER.size
    payload = data[payload_start : payload_start + length]
    return bool(magic == _MAGIC and len(payload) == length and zlib.crc32(payload) == checksum)


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
