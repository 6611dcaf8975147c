"""Reading back state stored as JSON: each value typed, or a `TypeError`/`ValueError` naming it."""

from collections.abc import Mapping
from datetime import datetime
import math

from .tariff import to_utc


def number(value: object) -> float:
    """A finite number (JSON has no NaN, but a damaged file may)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"expected a finite number, got {value!r}")
    return float(value)


def amount(value: object) -> float:
    """A finite number >= 0 (energy, money, power)."""
    result = number(value)
    if result < 0:
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return result


def text(value: object) -> str:
    """A string."""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def flag(value: object) -> bool:
    """True or false."""
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def instant(value: object) -> datetime:
    """An ISO 8601 date-time with its offset, returned in UTC."""
    return to_utc(datetime.fromisoformat(text(value)))


def optional_instant(value: object) -> datetime | None:
    """`instant`, or None."""
    return None if value is None else instant(value)


def items(value: object) -> list[object]:
    """A list."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {value!r}")
    return value


def record(value: object) -> Mapping[str, object]:
    """An object with named fields."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {value!r}")
    return value
