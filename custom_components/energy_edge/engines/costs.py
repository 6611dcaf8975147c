"""Energy cost: each kWh priced at the price in force when it was consumed.

Rules a user cares about:
- What is priced is energy already counted and checked by `energy.DeviceMeter` (the hub's reading
  of each Zigbee2MQTT message: counters that go back, absurd jumps and gaps are handled there),
  fed in with `add_energy` as the energy consumed since the previous call.
- That energy is spread evenly over the time since the previous call and split at every price
  change, pro rata by time. After a long gap (Home Assistant stopped), it is spread over the whole
  gap: the best estimate there is.
- Tempo days whose colour is not known yet: their energy waits, as kWh per Tempo day and period,
  and is priced as soon as the colour is given. Nothing is guessed, nothing is lost.
- The home cost adds the subscription, pro rata by time per calendar month; it keeps running while
  Home Assistant is stopped, as the supplier's bill does.
- The state (`to_dict`) holds the instant of the last energy priced, so after a restart the first
  energy is spread since then and nothing is counted twice.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
import math

from . import stored
from .tariff import NO_COLORS, Period, Tariff, TempoColors, to_utc

STATE_VERSION = 1


@dataclass(slots=True, kw_only=True)
class CostAccumulator:
    """The running cost of one device's energy (or, with `with_subscription`, the home's).
    Feed it the energy consumed since the previous call with `add_energy`."""

    with_subscription: bool = False
    energy_cost: float = 0.0
    subscription_cost: float = 0.0
    energy_kwh: float = 0.0
    """Energy counted so far, priced or pending."""
    pending_kwh: dict[tuple[date, Period], float] = field(default_factory=dict)
    """Energy waiting for its price, per tariff day and uncoloured period."""
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

    def add_energy(
        self,
        at: datetime,
        energy_kwh: float,
        tariff: Tariff,
        colors: TempoColors = NO_COLORS,
    ) -> None:
        """Count energy consumed since the previous call, already checked by its source: spread
        over the time since then; the first call counts it at its own instant. A call older than
        the previous one (the clock was set back) is priced at its own instant."""
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
            return cls(
                with_subscription=stored.flag(data["with_subscription"]),
                energy_cost=stored.amount(data["energy_cost"]),
                subscription_cost=stored.amount(data["subscription_cost"]),
                energy_kwh=stored.amount(data["energy_kwh"]),
                pending_kwh=pending,
                last_reading_at=stored.optional_instant(data["last_reading_at"]),
                subscription_until=stored.optional_instant(data["subscription_until"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"stored cost state is damaged: {err}") from err


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()
