"""The home's usual load by time of day, learned from the measured load: what a planned run must
leave room for under the contract.

- The day is cut into 48 half-hour slots of the wall clock (Home Assistant's time zone, so the
  evening stays the evening across DST changes).
- For each day and slot the peak measured load is kept; the last `DAYS_KEPT` days observed are
  kept, so the profile follows the seasons.
- A slot's expected load is the `EXPECTED_QUANTILE` quantile (nearest rank) of its daily peaks: the
  usual peak, which four days in five stayed under. A mean would hide the evening's oven and hob;
  the highest peak would let one unusual evening block that half hour for two weeks.
- A slot seen on fewer than `MIN_DAYS` days is unknown and expects nothing: a made-up base load
  would refuse runs that fit in small contracts, while shedding still guards the contract
  whatever is planned. The profile takes over after a few days.
- Readings that are not finite are ignored; a negative load (export) counts as 0 VA. Gaps and
  restarts only leave slots unseen. A reading older than every day kept is ignored; days more
  than a week after a reading's come from a clock that was ahead, and are forgotten.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import math
from zoneinfo import ZoneInfo

from . import stored
from .scheduling import ExpectedLoad
from .tariff import to_utc

SLOT = timedelta(minutes=30)
SLOTS_PER_DAY = 48
DAYS_KEPT = 14
MIN_DAYS = 3
EXPECTED_QUANTILE = 0.8
CLOCK_WAS_AHEAD = timedelta(days=7)
"""Days this far after a reading's come from a clock that was wrong (a Raspberry Pi without a
real-time clock boots a little in the past, never a week)."""

type DailyPeaks = list[float | None]
"""The peak load of each slot of a day, None where nothing was measured."""


def slot_of(instant: datetime, time_zone: ZoneInfo) -> tuple[date, int]:
    """The local day and the half-hour slot (0..47) an instant falls in."""
    local = to_utc(instant).astimezone(time_zone)
    return local.date(), (local.hour * 60 + local.minute) // 30


def _next_slot_start(instant: datetime, time_zone: ZoneInfo) -> datetime:
    """The next instant at which the local clock shows :00 or :30 (DST moves whole slots)."""
    local = to_utc(instant).astimezone(time_zone)
    into_slot = timedelta(
        minutes=local.minute % 30, seconds=local.second, microseconds=local.microsecond
    )
    return to_utc(instant) + SLOT - into_slot


def nearest_rank(values: list[float], quantile: float) -> float:
    """The value at `quantile` of `values` (nearest rank: one of the values, never below it)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(quantile * len(ordered)), 1) - 1]


@dataclass(slots=True)
class LoadProfile:
    """The home's daily peaks per half hour, and the load to expect at any instant."""

    time_zone: ZoneInfo
    days: dict[date, DailyPeaks] = field(default_factory=dict)

    def record(self, instant: datetime, load_va: float) -> bool:
        """Count a measured load; True if the profile changed (worth saving)."""
        if not math.isfinite(load_va):
            return False
        day, slot = slot_of(instant, self.time_zone)
        if day not in self.days and len(self.days) >= DAYS_KEPT and day < min(self.days):
            return False  # older than every day kept
        changed = False
        for later in [d for d in self.days if d > day + CLOCK_WAS_AHEAD]:
            del self.days[later]
            changed = True
        peaks = self.days.get(day)
        if peaks is None:
            peaks = self.days[day] = [None] * SLOTS_PER_DAY
            for oldest in sorted(self.days)[:-DAYS_KEPT]:
                del self.days[oldest]
        load_va = max(load_va, 0.0)
        if (peak := peaks[slot]) is not None and load_va <= peak:
            return changed
        peaks[slot] = load_va
        return True

    def expected_va(self, slot: int) -> float | None:
        """The usual peak of a slot, None while it was seen on fewer than `MIN_DAYS` days."""
        seen = [peak for peaks in self.days.values() if (peak := peaks[slot]) is not None]
        return nearest_rank(seen, EXPECTED_QUANTILE) if len(seen) >= MIN_DAYS else None

    def expected_loads(self, start: datetime, end: datetime) -> tuple[ExpectedLoad, ...]:
        """The usual load from `start` to `end`, slot by slot (unknown slots left out)."""
        expected = [self.expected_va(slot) for slot in range(SLOTS_PER_DAY)]
        loads: list[ExpectedLoad] = []
        instant, end = to_utc(start), to_utc(end)
        while instant < end:
            following = min(_next_slot_start(instant, self.time_zone), end)
            load_va = expected[slot_of(instant, self.time_zone)[1]]
            if load_va:
                loads.append(ExpectedLoad(start=instant, end=following, load_va=load_va))
            instant = following
        return tuple(loads)

    def summary(self) -> dict[str, object]:
        """What was learned, for diagnostics: the expected load of each slot by its local time."""
        expected = {
            f"{slot // 2:02d}:{slot % 2 * 30:02d}": self.expected_va(slot)
            for slot in range(SLOTS_PER_DAY)
        }
        known = [va for va in expected.values() if va is not None]
        return {
            "days_observed": [day.isoformat() for day in sorted(self.days)],
            "slots_known": len(known),
            "highest_expected_va": max(known, default=None),
            "expected_va": expected,
        }

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data, to store across restarts."""
        return {"days": {day.isoformat(): list(peaks) for day, peaks in self.days.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, object], time_zone: ZoneInfo) -> LoadProfile:
        """Rebuild a profile stored by `to_dict`; a clear `ValueError` if it is damaged."""
        profile = cls(time_zone)
        try:
            for day, peaks in stored.record(data["days"]).items():
                profile.days[date.fromisoformat(day)] = _stored_peaks(peaks)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"stored load profile is damaged: {err}") from err
        for oldest in sorted(profile.days)[:-DAYS_KEPT]:
            del profile.days[oldest]
        return profile


def _stored_peaks(value: object) -> DailyPeaks:
    """A stored day's peaks: one per slot, each None or a load >= 0."""
    values = stored.items(value)
    if len(values) != SLOTS_PER_DAY:
        raise ValueError(f"{len(values)} slots in a day, not {SLOTS_PER_DAY}")
    return [None if item is None else stored.amount(item) for item in values]
