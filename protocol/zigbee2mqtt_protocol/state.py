"""A device's state message as the numeric fields a time-series database keeps."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
import math

from .payloads import MAX_STATE_BYTES, JsonObject, Payload, decode_object

# `update: {installed_version: ...}` is one level; a few more cover every converter.
MAX_NESTING = 4

_isfinite = math.isfinite


@dataclass(frozen=True, slots=True)
class StateFields:
    """The numeric fields of one device state message, and the properties left out as bad."""

    fields: dict[str, float]
    rejected: tuple[str, ...] = ()


def read_state(payload: Payload) -> tuple[JsonObject, StateFields]:
    """Parse a device state message into its JSON object and its numeric fields.

    Numbers become floats, ON/OFF 1/0, booleans 1/0, nested objects are flattened with `_`;
    strings (text exposes, numbers sent as strings among them: see `payloads.as_number`), lists
    and nulls are left out. NaN, infinities, objects nested too deeply and names InfluxDB
    reserves (`time`, `_...`) are left out and named in `rejected`.
    """
    state = decode_object(payload, MAX_STATE_BYTES)
    fields: dict[str, float] = {}
    rejected: list[str] = []
    _flatten(state, "", fields, rejected, 0)
    fields.pop("", None)  # an empty key cannot be a field
    # InfluxDB refuses a whole point with a field named `time` or `_...` (its own columns).
    for name in [name for name in fields if name[0] == "_" or name == "time"]:
        del fields[name]
        rejected.append(name)
    return state, StateFields(fields, tuple(rejected))


def last_seen_ms(state: Mapping[str, object]) -> int | None:
    """When the device was last seen, in ms since the epoch, from the `last_seen` property
    Zigbee2MQTT adds with its `advanced.last_seen` option: `epoch` (ms, a number),
    `ISO_8601` (UTC, `...Z`) or `ISO_8601_local` (with its offset); None when absent or
    unreadable (the option is `disable` by default)."""
    value = state.get("last_seen")
    if type(value) is int or type(value) is float:
        return int(value) if _isfinite(value) and value > 0 else None
    if type(value) is str:
        try:
            seen = datetime.fromisoformat(value)
        except ValueError:
            return None
        if seen.tzinfo is None:  # no offset: not one of Zigbee2MQTT's formats
            return None
        return round(seen.timestamp() * 1000)
    return None


def _flatten(
    values: Mapping[str, object],
    prefix: str,
    fields: dict[str, float],
    rejected: list[str],
    depth: int,
) -> None:
    # Dispatch on the exact type (JSON gives no subclasses): the hot path of the ingest.
    for key, value in values.items():
        kind = type(value)
        if kind is float:
            if _isfinite(value):  # type: ignore[arg-type]
                fields[prefix + key] = value  # type: ignore[assignment]
            else:
                rejected.append(prefix + key)
        elif kind is int:
            try:
                fields[prefix + key] = float(value)  # type: ignore[arg-type]
            except OverflowError:
                rejected.append(prefix + key)
        elif kind is str:
            if value == "ON":
                fields[prefix + key] = 1.0
            elif value == "OFF":
                fields[prefix + key] = 0.0
        elif kind is bool:
            fields[prefix + key] = 1.0 if value else 0.0
        elif kind is dict:
            if depth < MAX_NESTING:
                _flatten(value, f"{prefix}{key}_", fields, rejected, depth + 1)  # type: ignore[arg-type]
            else:
                rejected.append(prefix + key)
