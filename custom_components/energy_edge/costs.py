"""Energy cost: each kWh priced at the price in force when it was consumed.

Rules a user cares about:
- The energy between two readings of a counter is spread evenly over the time between them and
  split at every price change, pro rata by time. After a long gap (Home Assistant stopped), the
  energy is spread over the whole gap: the best estimate there is.
- Tempo days whose colour is not known yet: their energy waits, as kWh per Tempo day and period,
  and is priced as soon as the colour is given. Nothing is guessed, nothing is lost.
- A counter going backwards: a dip of less than 10% is jitter and ignored (as Home Assistant's
  statistics do); a larger drop is a reset (device reboot), and the new value counts as consumed
  since the reset. A jump no home can draw (above 36 kW, the largest French residential contract,
  over at least a minute) is not counted: the counter is taken as the new reference. Neither case
  counts anything twice.
- The home cost adds the subscription, pro rata by time per calendar month; it keeps running while
  Home Assistant is stopped, as the supplier's bill does.
- The state (`to_dict`) holds the last counter reading, so after a restart the first reading
  counts only what was consumed since the one before the restart.
- A source that already turns its counter into checked increments (Energy Edge's hub) feeds
  `add_energy` instead: each increment is spread since the previous one, with no counter checks.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
import math

from . import stored
from .tariff import NO_COLORS, Period, Tariff, TempoColors, to_utc

MAX_HOME_POWER_KW = 36.0
"""No home can draw more: a larger increment is a counter jump, not consumption."""
PLAUSIBILITY_MIN_INTERVAL = timedelta(minutes=1)
RESET_DIP_RATIO = 0.1
"""A counter dropping by at least this share of its value was reset; a smaller dip is jitter."""
STATE_VERSION = 1


class ReadingOutcome(StrEnum):
    """What a counter reading did to the cost (for diagnostics)."""

    BASELINE = "baseline"
    """First reading: it becomes the reference, nothing is counted."""
    COUNTED = "counted"
    DIP_IGNORED = "dip_ignored"
    RESET = "reset"
    JUMP_IGNORED = "jump_ignored"


@dataclass(slots=True, kw_only=True)
class CostAccumulator:
    """The running cost of one energy counter (a device's, or with `with_subscription` the
    home's). Feed it counter readings with `add_reading`."""

    with_subscription: bool = False
    energy_cost: float = 0.0
    subscription_cost: float = 0.0
    energy_kwh: float = 0.0
    """Energy counted so far, priced or pending."""
    pending_kwh: dict[tuple[date, Period], float] = field(default_factory=dict)
    """Energy waiting for its price, per tariff day and uncoloured period."""
    last_counter_kwh: float | None = None
    last_reading_at: datetime | None = None
    subscription_until: datetime | None = None

    @property
    def total_cost(self) -> float:
        """Energy cost plus, for the home, the subscription."""
        return self.energy_cost + self.subscription_cost

    @property
    def pending_energy_kwh(self) -> float:
        """Energy consumed on Tempo days of unknown colour, not priced yet."""
        return sum(self.pending_kwh.values())

    def add_reading(
        self,
        at: datetime,
        counter_kwh: float,
        tariff: Tariff,
        colors: TempoColors = NO_COLORS,
    ) -> ReadingOutcome:
        """Count the energy since the previous reading. A reading older than the previous one
        (the clock was set back) is priced at its own instant."""
        at = to_utc(at)
        if not math.isfinite(counter_kwh) or counter_kwh < 0:
            raise ValueError(f"an energy counter must be finite and >= 0, got {counter_kwh!r}")
        self.advance(at, tariff)
        self.settle(tariff, colors)
        previous, since = self.last_counter_kwh, self.last_reading_at
        if previous is None or since is None:
            outcome, consumed_kwh = ReadingOutcome.BASELINE, 0.0
        elif counter_kwh >= previous:
            outcome, consumed_kwh = ReadingOutcome.COUNTED, counter_kwh - previous
        elif previous - counter_kwh < RESET_DIP_RATIO * previous:
            return ReadingOutcome.DIP_IGNORED
        else:
            outcome, consumed_kwh = ReadingOutcome.RESET, counter_kwh
        if since is not None and consumed_kwh > _plausible_kwh(since, at):
            outcome, consumed_kwh = ReadingOutcome.JUMP_IGNORED, 0.0
        if consumed_kwh > 0 and since is not None:
            self._count(min(since, at), at, consumed_kwh, tariff, colors)
        self.last_counter_kwh, self.last_reading_at = counter_kwh, at
        return outcome

    def add_energy(
        self,
        at: datetime,
        energy_kwh: float,
        tariff: Tariff,
        colors: TempoColors = NO_COLORS,
    ) -> None:
        """Count energy consumed since the previous call (or reading), already checked by its
        source: spread over the time since then; the first call counts it at its own instant."""
        at = to_utc(at)
        if not math.isfinite(energy_kwh) or energy_kwh < 0:
            raise ValueError(f"an energy increment must be finite and >= 0, got {energy_kwh!r}")
        self.advance(at, tariff)
        self.settle(tariff, colors)
        if energy_kwh > 0:
            since = at if self.last_reading_at is None else min(self.last_reading_at, at)
            self._count(since, at, energy_kwh, tariff, colors)
        self.last_reading_at = at

    def advance(self, at: datetime, tariff: Tariff) -> None:
        """Accrue the subscription up to `at` (home cost only; a no-op otherwise)."""
        if not self.with_subscription:
            return
        at = to_utc(at)
        if self.subscription_until is not None and at > self.subscription_until:
            self.subscription_cost += tariff.subscription_cost(self.subscription_until, at)
        if self.subscription_until is None or at > self.subscription_until:
            self.subscription_until = at

    def settle(self, tariff: Tariff, colors: TempoColors = NO_COLORS) -> None:
        """Price the pending energy whose Tempo colour is now known."""
        for key, kwh in list(self.pending_kwh.items()):
            day, period = key
            price = tariff.price_of(tariff.period_on(day, period, colors))
            if price is not None:
                self.energy_cost += kwh * price
                del self.pending_kwh[key]

    def _count(
        self, start: datetime, end: datetime, kwh: float, tariff: Tariff, colors: TempoColors
    ) -> None:
        self.energy_kwh += kwh
        spans = tariff.periods_between(start, end, colors)
        if not spans:  # no time elapsed: all of it at the instant's price
            day = tariff.tariff_day(end)
            period = tariff.period_at(end, colors)
            self._price(day, period, kwh, tariff.price_of(period))
            return
        duration = end - start
        for span in spans:
            share = kwh * ((span.end - span.start) / duration)
            self._price(span.day, span.period, share, span.price_per_kwh)

    def _price(self, day: date, period: Period, kwh: float, price: float | None) -> None:
        if price is None:
            key = (day, period.uncolored)
            self.pending_kwh[key] = self.pending_kwh.get(key, 0.0) + kwh
        else:
            self.energy_cost += kwh * price

    def to_dict(self) -> dict[str, object]:
        """The state as plain JSON-ready data, to store across restarts."""
        return {
            "version": STATE_VERSION,
            "with_subscription": self.with_subscription,
            "energy_cost": self.energy_cost,
            "subscription_cost": self.subscription_cost,
            "energy_kwh": self.energy_kwh,
            "pending": [
                {"day": day.isoformat(), "period": period.value, "energy_kwh": kwh}
                for (day, period), kwh in sorted(self.pending_kwh.items())
            ],
            "last_counter_kwh": self.last_counter_kwh,
            "last_reading_at": _iso(self.last_reading_at),
            "subscription_until": _iso(self.subscription_until),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CostAccumulator:
        """Rebuild the state stored by `to_dict`; a clear `ValueError` if it is damaged."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"stored cost state has an unknown version: {data.get('version')!r}")
        try:
            pending: dict[tuple[date, Period], float] = {}
            for item in stored.items(data["pending"]):
                entry = stored.record(item)
                day = date.fromisoformat(stored.text(entry["day"]))
                pending[day, Period(stored.text(entry["period"]))] = stored.amount(
                    entry["energy_kwh"]
                )
            last_counter = data["last_counter_kwh"]
            return cls(
                with_subscription=stored.flag(data["with_subscription"]),
                energy_cost=stored.amount(data["energy_cost"]),
                subscription_cost=stored.amount(data["subscription_cost"]),
                energy_kwh=stored.amount(data["energy_kwh"]),
                pending_kwh=pending,
                last_counter_kwh=None if last_counter is None else stored.amount(last_counter),
                last_reading_at=stored.optional_instant(data["last_reading_at"]),
                subscription_until=stored.optional_instant(data["subscription_until"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"stored cost state is damaged: {err}") from err


def _plausible_kwh(start: datetime, end: datetime) -> float:
    hours = max(abs(end - start), PLAUSIBILITY_MIN_INTERVAL) / timedelta(hours=1)
    return MAX_HOME_POWER_KW * hours


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()
