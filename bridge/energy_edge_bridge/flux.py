"""Flux for the history API: the query the bridge sends and the annotated CSV InfluxDB returns.

InfluxDB 2 OSS has no query parameters, so every value placed in a query is either validated
(durations, aggregation functions, times) or a Flux string literal escaped here.
"""

from collections.abc import Iterator
import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import math
import re

from .influxdb import QueryError

_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d|w)")  # ASCII digits: Flux reads no others
_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_STRING_ESCAPES = str.maketrans(
    {"\\": r"\\", '"': r"\"", "\n": r"\n", "\r": r"\r", "\t": r"\t", "$": r"\$"}
)


class Aggregation(StrEnum):
    """Flux functions that reduce a window of points to one."""

    MEAN = "mean"
    MEDIAN = "median"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    COUNT = "count"
    FIRST = "first"
    LAST = "last"


def parse_duration(text: str) -> timedelta:
    """A Flux duration literal such as `30s`, `5m`, `1h`, `7d` (one unit)."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 1h or 1d")
    try:
        duration = int(match.group(1)) * _UNITS[match.group(2)]
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None
    if duration <= timedelta(0):
        raise ValueError("the duration must be positive")
    return duration


def flux_string(value: str) -> str:
    """A Flux string literal (quotes, backslashes and interpolation escaped)."""
    return f'"{value.translate(_STRING_ESCAPES)}"'


def flux_time(moment: datetime) -> str:
    """An RFC 3339 time literal in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One field of one device over a time range, aggregated per window."""

    bucket: str
    measurement: str
    tag: str  # `ieee` when the IEEE address is known (history survives renames), else `device`
    tag_value: str
    field: str
    start: datetime
    stop: datetime
    window: str
    aggregation: Aggregation
    site: str | None = None  # the home (tag `site`), when the base topic names homes

    def flux(self) -> str:
        """The Flux query."""
        measurement = flux_string(self.measurement)
        tag_value = flux_string(self.tag_value)
        field = flux_string(self.field)
        site = f" and r.site == {flux_string(self.site)}" if self.site is not None else ""
        return (
            f"from(bucket: {flux_string(self.bucket)})\n"
            f"  |> range(start: {flux_time(self.start)}, stop: {flux_time(self.stop)})\n"
            f"  |> filter(fn: (r) => r._measurement == {measurement}"
            f" and r.{self.tag} == {tag_value}{site} and r._field == {field})\n"
            "  |> group()\n"  # one series, even across renames
            f"  |> aggregateWindow(every: {self.window}, fn: {self.aggregation},"
            " createEmpty: false)\n"
            '  |> keep(columns: ["_time", "_value"])\n'
            '  |> sort(columns: ["_time"])\n'
        )


type Value = str | float | int | bool | datetime | None


def parse_annotated_csv(text: str) -> Iterator[dict[str, Value]]:
    """The records of InfluxDB's annotated CSV (annotations datatype, group, default).

    Tables are separated by blank lines and may each bring their own annotations and header.
    An error table (columns `error`, `reference`) raises `QueryError`.
    """
    datatypes: list[str] = []
    defaults: list[str] = []
    header: list[str] | None = None
    for row in csv.reader(text.splitlines()):
        if not any(row):
            header = None
            continue
        if row[0].startswith("#"):
            header = None
            if row[0] == "#datatype":
                datatypes = row[1:]
            elif row[0] == "#default":
                defaults = row[1:]
            continue
        if header is None:
            header = row[1:]
            continue
        values = dict(zip(header, row[1:], strict=False))
        if "error" in header and "reference" in header:
            raise QueryError(200, values.get("error") or "the query failed")
        yield {
            name: _convert(
                value or (defaults[i] if i < len(defaults) else ""),
                datatypes[i] if i < len(datatypes) else "string",
            )
            for i, (name, value) in enumerate(values.items())
        }


def _convert(text: str, datatype: str) -> Value:
    if text == "":
        return None
    match datatype:
        case "double":
            return float(text)  # also NaN, +Inf, -Inf
        case "long" | "unsignedLong":
            return int(text)
        case "boolean":
            return text == "true"
        case "dateTime:RFC3339" | "dateTime:RFC3339Nano":
            return _parse_time(text)
        case _:
            return text


def _parse_time(text: str) -> datetime:
    # Python 3.11+ reads RFC 3339 with nanoseconds, keeping microseconds.
    return datetime.fromisoformat(text).astimezone(UTC)


def finite_or_none(value: Value) -> float | None:
    """A number for JSON: NaN and infinities become null."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
