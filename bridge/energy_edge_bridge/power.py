"""Home power now: the main meter when it reports, else the sum of the metered devices."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
from typing import Literal

from .devices import DeviceView

# The Linky's ZLinky adapter is the home's meter unless the user names another.
METER_MODELS = frozenset({"ZLinky_TIC"})
# Readings older than this are not "now" (the Linky reports about once a minute).
FRESH_NS = 5 * 60 * 1_000_000_000
_PHASES = ("power", "power_phase_b", "power_phase_c")


@dataclass(frozen=True, slots=True)
class HomePower:
    """The home's power and where it comes from."""

    value: float
    unit: Literal["W", "VA"]
    source: Literal["meter", "devices"]
    devices: tuple[str, ...]  # the devices whose readings make the value
    time_ns: int  # the oldest reading used


def device_watts(values: Mapping[str, object]) -> float | None:
    """Active power of a device: `total_power`, else the sum of its phases' `power`."""
    total = _number(values.get("total_power"))
    if total is not None:
        return total
    phases = [p for p in (_number(values.get(name)) for name in _PHASES) if p is not None]
    return sum(phases) if phases else None


def meter_power(values: Mapping[str, object]) -> tuple[float, Literal["W", "VA"]] | None:
    """A meter's power: active power in W, else apparent power in VA (the Linky's SINSTS)."""
    watts = device_watts(values)
    if watts is not None:
        return watts, "W"
    for name in ("total_apparent_power", "apparent_power"):
        apparent = _number(values.get(name))
        if apparent is not None:
            return apparent, "VA"
    return None


def home_power(
    devices: Sequence[DeviceView], now_ns: int, meter: str | None = None
) -> HomePower | None:
    """The meter's power when it is fresh, else the sum of the fresh metered devices."""
    fresh = [
        d
        for d in devices
        if d.online is not False
        and d.last_seen_ns is not None
        and now_ns - d.last_seen_ns <= FRESH_NS
    ]
    meters = [d for d in fresh if _is_meter(d, meter)]
    for device in meters:
        reading = meter_power(device.last_values)
        if reading is not None and device.last_seen_ns is not None:
            return HomePower(reading[0], reading[1], "meter", (device.name,), device.last_seen_ns)
    parts = [
        (d.name, watts, d.last_seen_ns or now_ns)
        for d in fresh
        if not _is_meter(d, meter) and (watts := device_watts(d.last_values)) is not None
    ]
    if not parts:
        return None
    return HomePower(
        sum(watts for _, watts, _ in parts),
        "W",
        "devices",
        tuple(name for name, _, _ in parts),
        min(seen for _, _, seen in parts),
    )


def _is_meter(device: DeviceView, meter: str | None) -> bool:
    if meter is not None:
        return meter in {device.name, device.ieee}
    return device.model in METER_MODELS


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
