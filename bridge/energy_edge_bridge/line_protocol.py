"""InfluxDB line protocol for the points the bridge writes: float fields, nanosecond timestamps.

Escaping follows InfluxDB 2's rules: commas and spaces in measurements; commas, equals signs
and spaces in tag keys, tag values and field keys; a backslash is doubled so that a name
ending in one cannot swallow the separator after it. Newlines cannot appear in a line and are
written as the two characters `\\n`.
"""

from collections.abc import Iterable, Mapping

_CONTROL = {"\n": r"\n", "\r": r"\r", "\t": r"\t"}
_MEASUREMENT = str.maketrans({"\\": r"\\", ",": r"\,", " ": r"\ ", **_CONTROL})
_KEY = str.maketrans({"\\": r"\\", ",": r"\,", "=": r"\=", " ": r"\ ", **_CONTROL})


def escape_measurement(name: str) -> str:
    """Escape a measurement name."""
    return name.translate(_MEASUREMENT)


def escape_key(name: str) -> str:
    """Escape a tag key, a tag value or a field key."""
    return name.translate(_KEY)


def tag_set(tags: Mapping[str, str | None]) -> str:
    """The `,key=value` part of a line, sorted by key as InfluxDB prefers; empty tags omitted."""
    return "".join(
        f",{escape_key(key)}={escape_key(value)}" for key, value in sorted(tags.items()) if value
    )


def line(series: str, fields: Mapping[str, float], timestamp_ns: int) -> str:
    """One point: `series` is the escaped measurement followed by its tag set.

    Fields must be finite floats (the caller parses and rejects the others).
    """
    field_set = ",".join([f"{key.translate(_KEY)}={value!r}" for key, value in fields.items()])
    return f"{series} {field_set} {timestamp_ns}"


class LineEncoder:
    """`line()` for the hot path: field names repeat from message to message, so each is
    escaped once (up to a bound, in case they do not repeat)."""

    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def line(self, series: str, fields: Mapping[str, float], timestamp_ns: int) -> str:
        """As `line()`."""
        keys = self._keys
        field_set = ",".join(
            [f"{keys.get(key) or self._escape(key)}={value!r}" for key, value in fields.items()]
        )
        return f"{series} {field_set} {timestamp_ns}"

    def _escape(self, key: str) -> str:
        if len(self._keys) >= self.MAX_KEYS:
            self._keys.clear()
        escaped = self._keys[key] = key.translate(_KEY)
        return escaped


def join_lines(lines: Iterable[str]) -> bytes:
    """The body of a write request: one line per point, each ending with a newline."""
    return "".join(f"{text}\n" for text in lines).encode()
