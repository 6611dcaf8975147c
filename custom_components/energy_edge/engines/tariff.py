"""Tariff calendar and prices: base, off-peak hours (HP/HC) and EDF Tempo.

Rules a user cares about:
- Periods follow the wall clock of the tariff's time zone (HA's time zone). An off-peak range such
  as 22:00-06:00 runs past midnight; up to three ranges may be given (e.g. 02:00-07:00 and
  13:00-16:00). Across a DST change a range keeps its wall-clock hours, so the night of the spring
  change has one off-peak hour less and the night of the autumn change one more.
- Enedis' HP/HC reform (Nov 2025 - Oct 2027) lets off-peak hours differ by season: summer runs
  from 1 April to 31 October (it may add up to 3 afternoon hours between 11:00 and 17:00), winter
  from 1 November to 31 March. The season is that of the local date, so at midnight on 1 April
  and on 1 November the other season's ranges take over, even within a night's off-peak hours.
- A range boundary at a wall-clock time that does not exist (skipped by the spring change) takes
  effect when the clock jumps over it; one that occurs twice (autumn change) is crossed twice,
  exactly as a wall clock does.
- Tempo: six prices (blue, white, red x peak/off-peak), off-peak 22:00-06:00. A Tempo day runs
  from 06:00 to 06:00 the next day (EDF's rule; RTE publishes the colour the day before, around
  11:00). Its colour prices its peak hours and the off-peak night that follows: at 02:00 on
  5 January the price is the off-peak price of 4 January's colour. Colours are given per Tempo
  day, keyed by the date on which that day starts at 06:00.
- A Tempo day whose colour is unknown has no price (`None`): costs wait for the colour (see
  `costs`), and the planning calendar assumes the most expensive colour EDF's rules allow that
  day (`assumed_tempo_color`), flagged `color_assumed`.
- The subscription is charged per calendar month of the tariff's time zone, pro rata by time:
  a whole month costs exactly the monthly subscription, whatever its length.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
import math
import re
from types import MappingProxyType
from zoneinfo import ZoneInfo


class TariffKind(StrEnum):
    """The pricing option of the supply contract."""

    BASE = "base"
    HPHC = "hphc"
    TEMPO = "tempo"


class TempoColor(StrEnum):
    """The colour RTE gives each Tempo day."""

    BLUE = "blue"
    WHITE = "white"
    RED = "red"


_COLOR_WORDS = {
    "blue": TempoColor.BLUE,
    "bleu": TempoColor.BLUE,
    "white": TempoColor.WHITE,
    "blanc": TempoColor.WHITE,
    "red": TempoColor.RED,
    "rouge": TempoColor.RED,
    # The Linky's four-letter words (historic TIC `DEMAIN`: BLEU, BLAN, ROUG, or ---- unknown).
    "blan": TempoColor.WHITE,
    "roug": TempoColor.RED,
}


def tempo_color_from_text(text: str) -> TempoColor | None:
    """The Tempo colour a text names, in English or French, as other integrations and the Linky
    write it (`red`, `Rouge`, `TEMPO_ROUGE`, `ROUG`); None for anything else (`unknown`,
    `Indéterminé`, `----`)."""
    found = {
        _COLOR_WORDS[word] for word in re.split(r"[^a-z]+", text.lower()) if word in _COLOR_WORDS
    }
    return found.pop() if len(found) == 1 else None


class Period(StrEnum):
    """The tariff period in force: base, peak (hp) or off-peak (hc), with the Tempo colour."""

    BASE = "base"
    HP = "hp"
    HC = "hc"
    HP_BLUE = "hp_blue"
    HC_BLUE = "hc_blue"
    HP_WHITE = "hp_white"
    HC_WHITE = "hc_white"
    HP_RED = "hp_red"
    HC_RED = "hc_red"

    @classmethod
    def of(cls, *, off_peak: bool, color: TempoColor | None = None) -> Period:
        """The peak or off-peak period, coloured when a Tempo colour is given."""
        name = "hc" if off_peak else "hp"
        return cls(name if color is None else f"{name}_{color}")

    @property
    def is_off_peak(self) -> bool:
        """Whether this is an off-peak (heures creuses) period."""
        return self.value.startswith("hc")

    @property
    def color(self) -> TempoColor | None:
        """The Tempo colour of this period, if it has one."""
        _, _, color = self.value.partition("_")
        return TempoColor(color) if color else None

    @property
    def uncolored(self) -> Period:
        """This period without its Tempo colour (`hc_red` -> `hc`)."""
        return Period(self.value.partition("_")[0])


type TempoColors = Mapping[date, TempoColor]
"""Known Tempo colours, keyed by the date on which the Tempo day starts (at 06:00)."""

NO_COLORS: TempoColors = MappingProxyType({})

TEMPO_DAY_START = time(6)
TEMPO_COLORED_PERIODS = frozenset(p for p in Period if p.color is not None)


@dataclass(frozen=True, slots=True)
class OffPeakRange:
    """Off-peak hours from `start` to `end` on the wall clock; an end at or before the start
    runs past midnight (22:00-06:00)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("off-peak hours are wall-clock times, without a time zone")
        if self.start == self.end:
            raise ValueError(f"off-peak range {self} starts and ends at the same time")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, wall_clock: time) -> bool:
        """Whether a wall-clock time falls in this range (start included, end excluded)."""
        if self.start < self.end:
            return self.start <= wall_clock < self.end
        return wall_clock >= self.start or wall_clock < self.end

    @classmethod
    def parse(cls, text: str) -> OffPeakRange:
        """Read a range written `HH:MM-HH:MM`, e.g. `22:00-06:00`."""
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if match is None:
            raise ValueError(f"off-peak range {text!r} is not written HH:MM-HH:MM")
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        try:
            return cls(time(start_h, start_m), time(end_h, end_m))
        except ValueError as err:
            raise ValueError(f"off-peak range {text!r}: {err}") from err


DEFAULT_OFF_PEAK: tuple[OffPeakRange, ...] = (OffPeakRange(time(22), time(6)),)
TEMPO_OFF_PEAK: tuple[OffPeakRange, ...] = (OffPeakRange(time(22), TEMPO_DAY_START),)
MAX_OFF_PEAK_RANGES = 3
"""Enedis' reform allows up to three off-peak windows a day (a night and up to two more)."""


def parse_off_peak_ranges(text: str) -> tuple[OffPeakRange, ...]:
    """Read comma-separated ranges, e.g. `02:00-07:00, 13:00-16:00`."""
    ranges = tuple(OffPeakRange.parse(part) for part in text.split(",") if part.strip())
    if not ranges:
        raise ValueError("at least one off-peak range is needed, e.g. 22:00-06:00")
    return ranges


def format_off_peak_ranges(ranges: tuple[OffPeakRange, ...]) -> str:
    """The ranges as the options write them, e.g. `02:00-07:00, 13:00-16:00`."""
    return ", ".join(str(r) for r in ranges)


def is_summer(day: date) -> bool:
    """Whether a date falls in the reform's summer season (1 April to 31 October)."""
    return 4 <= day.month <= 10


def assumed_tempo_color(day: date) -> TempoColor:
    """The most expensive colour EDF's rules allow on a Tempo day: red only Monday to Friday
    from 1 November to 31 March, white any day but Sunday, Sunday always blue. Public holidays
    are not modelled (assuming red on one is merely cautious)."""
    if day.weekday() == 6:
        return TempoColor.BLUE
    if day.weekday() < 5 and day.month in (11, 12, 1, 2, 3):
        return TempoColor.RED
    return TempoColor.WHITE


def to_utc(instant: datetime) -> datetime:
    """The instant in UTC; a naive datetime is refused since its meaning depends on a zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone")
    return instant.astimezone(UTC)


def tempo_day(instant: datetime, time_zone: ZoneInfo) -> date:
    """The Tempo day in force at an instant (from 06:00 to 06:00, keyed by its first date)."""
    local = to_utc(instant).astimezone(time_zone)
    if local.time() < TEMPO_DAY_START:
        return local.date() - timedelta(days=1)
    return local.date()


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    """A stretch of time with one period and one price (`None`: Tempo colour not known yet)."""

    start: datetime
    end: datetime
    day: date
    """The tariff day: the Tempo day for Tempo, the local date otherwise."""
    period: Period
    price_per_kwh: float | None


@dataclass(frozen=True, slots=True)
class PriceSlot:
    """A stretch of the planning calendar: always priced, `color_assumed` when the Tempo colour
    was not known and `assumed_tempo_color` stood in for it."""

    start: datetime
    end: datetime
    period: Period
    price_per_kwh: float
    color_assumed: bool = False

    def __post_init__(self) -> None:
        # In UTC, so that durations across a DST change are true durations.
        object.__setattr__(self, "start", to_utc(self.start))
        object.__setattr__(self, "end", to_utc(self.end))


def _finite_non_negative(value: float, name: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class Tariff:
    """A supply contract's prices in a time zone. Build one with `base`, `hphc` or `tempo`."""

    kind: TariffKind
    time_zone: ZoneInfo
    prices_per_kwh: Mapping[Period, float]
    subscription_per_month: float = 0.0
    off_peak_ranges: tuple[OffPeakRange, ...] = ()
    """Off-peak hours all year, or in winter only when `summer_off_peak_ranges` are given."""
    summer_off_peak_ranges: tuple[OffPeakRange, ...] = ()
    """Off-peak hours from 1 April to 31 October (HP/HC only); empty: the same all year."""
    _boundaries: tuple[time, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        expected = {
            TariffKind.BASE: {Period.BASE},
            TariffKind.HPHC: {Period.HP, Period.HC},
            TariffKind.TEMPO: set(TEMPO_COLORED_PERIODS),
        }[self.kind]
        if set(self.prices_per_kwh) != expected:
            wanted = ", ".join(sorted(expected))
            raise ValueError(f"a {self.kind} tariff needs exactly the prices {wanted}")
        for period, price in self.prices_per_kwh.items():
            _finite_non_negative(price, f"price of {period}")
        _finite_non_negative(self.subscription_per_month, "subscription_per_month")
        if (self.kind is TariffKind.BASE) != (not self.off_peak_ranges):
            raise ValueError(f"off-peak ranges do not fit a {self.kind} tariff")
        if self.summer_off_peak_ranges and self.kind is not TariffKind.HPHC:
            raise ValueError(f"summer off-peak ranges do not fit a {self.kind} tariff")
        if max(len(self.off_peak_ranges), len(self.summer_off_peak_ranges)) > MAX_OFF_PEAK_RANGES:
            raise ValueError(f"at most {MAX_OFF_PEAK_RANGES} off-peak ranges a season")
        object.__setattr__(self, "prices_per_kwh", MappingProxyType(dict(self.prices_per_kwh)))
        # Wall-clock times at which the period or the tariff day (or the season, at midnight)
        # can change.
        day_start = TEMPO_DAY_START if self.kind is TariffKind.TEMPO else time(0)
        ranges = self.off_peak_ranges + self.summer_off_peak_ranges
        edges = {day_start} | {t for r in ranges for t in (r.start, r.end)}
        object.__setattr__(self, "_boundaries", tuple(sorted(edges)))

    @classmethod
    def base(
        cls, *, price_per_kwh: float, subscription_per_month: float, time_zone: ZoneInfo
    ) -> Tariff:
        """One price at all hours."""
        return cls(
            kind=TariffKind.BASE,
            time_zone=time_zone,
            prices_per_kwh={Period.BASE: price_per_kwh},
            subscription_per_month=subscription_per_month,
        )

    @classmethod
    def hphc(
        cls,
        *,
        hp_price_per_kwh: float,
        hc_price_per_kwh: float,
        subscription_per_month: float,
        time_zone: ZoneInfo,
        off_peak_ranges: tuple[OffPeakRange, ...] = DEFAULT_OFF_PEAK,
        summer_off_peak_ranges: tuple[OffPeakRange, ...] = (),
    ) -> Tariff:
        """Peak and off-peak prices; off-peak hours by default 22:00-06:00 all year, else
        `off_peak_ranges` in winter and `summer_off_peak_ranges` from 1 April to 31 October."""
        return cls(
            kind=TariffKind.HPHC,
            time_zone=time_zone,
            prices_per_kwh={Period.HP: hp_price_per_kwh, Period.HC: hc_price_per_kwh},
            subscription_per_month=subscription_per_month,
            off_peak_ranges=off_peak_ranges,
            summer_off_peak_ranges=summer_off_peak_ranges,
        )

    @classmethod
    def tempo(
        cls,
        *,
        prices_per_kwh: Mapping[Period, float],
        subscription_per_month: float,
        time_zone: ZoneInfo,
    ) -> Tariff:
        """EDF Tempo: six prices keyed `Period.HP_BLUE` .. `Period.HC_RED`, off-peak 22:00-06:00."""
        return cls(
            kind=TariffKind.TEMPO,
            time_zone=time_zone,
            prices_per_kwh=prices_per_kwh,
            subscription_per_month=subscription_per_month,
            off_peak_ranges=TEMPO_OFF_PEAK,
        )

    def off_peak_ranges_on(self, day: date) -> tuple[OffPeakRange, ...]:
        """The off-peak ranges of a local date (its season's)."""
        if self.summer_off_peak_ranges and is_summer(day):
            return self.summer_off_peak_ranges
        return self.off_peak_ranges

    def tariff_day(self, instant: datetime) -> date:
        """The day an instant belongs to: its Tempo day for Tempo (06:00 to 06:00), else its
        local date."""
        if self.kind is TariffKind.TEMPO:
            return tempo_day(instant, self.time_zone)
        return to_utc(instant).astimezone(self.time_zone).date()

    def period_at(self, instant: datetime, colors: TempoColors = NO_COLORS) -> Period:
        """The period in force at an instant; a Tempo period is uncoloured (`hp`, `hc`) while
        the day's colour is unknown."""
        return self._colored(self.tariff_day(instant), self._uncolored_period_at(instant), colors)

    def price_at(self, instant: datetime, colors: TempoColors = NO_COLORS) -> float | None:
        """The price per kWh in force at an instant, `None` while the Tempo colour is unknown."""
        return self.price_of(self.period_at(instant, colors))

    def price_of(self, period: Period) -> float | None:
        """The price per kWh of a period, `None` if this tariff has no price for it."""
        return self.prices_per_kwh.get(period)

    def period_on(self, day: date, period: Period, colors: TempoColors = NO_COLORS) -> Period:
        """A period of a given tariff day, coloured with that day's Tempo colour when known."""
        return self._colored(day, period.uncolored, colors)

    def next_change(self, instant: datetime) -> datetime:
        """When the period or the tariff day next changes after an instant (in UTC)."""
        start = to_utc(instant)
        return next(self._uncolored_spans(start, start + timedelta(days=2)))[1]

    def periods_between(
        self, start: datetime, end: datetime, colors: TempoColors = NO_COLORS
    ) -> list[PeriodSpan]:
        """The periods from `start` to `end`, in order, each with its price (instants in UTC)."""
        spans = []
        for span_start, span_end, day, uncolored in self._uncolored_spans(start, end):
            period = self._colored(day, uncolored, colors)
            spans.append(PeriodSpan(span_start, span_end, day, period, self.price_of(period)))
        return spans

    def price_calendar(
        self, start: datetime, end: datetime, colors: TempoColors = NO_COLORS
    ) -> list[PriceSlot]:
        """The prices from `start` to `end` for planning: Tempo days of unknown colour are priced
        at `assumed_tempo_color` and flagged."""
        slots = []
        for span in self.periods_between(start, end, colors):
            period, assumed = span.period, False
            if self.kind is TariffKind.TEMPO and period.color is None:
                period = Period.of(off_peak=period.is_off_peak, color=assumed_tempo_color(span.day))
                assumed = True
            slots.append(
                PriceSlot(span.start, span.end, period, self.prices_per_kwh[period], assumed)
            )
        return slots

    def subscription_cost(self, start: datetime, end: datetime) -> float:
        """The subscription due from `start` to `end`: each calendar month pro rata by time."""
        start, end = to_utc(start), to_utc(end)
        total = 0.0
        local = start.astimezone(self.time_zone)
        month = date(local.year, local.month, 1)
        while start < end:
            next_month = (month + timedelta(days=31)).replace(day=1)
            month_start, month_end = self._midnight(month), self._midnight(next_month)
            stop = min(end, month_end)
            total += self.subscription_per_month * ((stop - start) / (month_end - month_start))
            start, month = stop, next_month
        return total

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.time_zone).astimezone(UTC)

    def _uncolored_period_at(self, instant: datetime) -> Period:
        if self.kind is TariffKind.BASE:
            return Period.BASE
        local = to_utc(instant).astimezone(self.time_zone)
        ranges = self.off_peak_ranges_on(local.date())
        return Period.of(off_peak=any(r.contains(local.time()) for r in ranges))

    def _colored(self, day: date, period: Period, colors: TempoColors) -> Period:
        if self.kind is not TariffKind.TEMPO:
            return period
        return Period.of(off_peak=period.is_off_peak, color=colors.get(day))

    def _uncolored_spans(
        self, start: datetime, end: datetime
    ) -> Iterator[tuple[datetime, datetime, date, Period]]:
        """Maximal stretches of one tariff day and one uncoloured period, in UTC."""
        start, end = to_utc(start), to_utc(end)
        if end <= start:
            return
        cuts = self._cuts(start, end)
        span_start, key = start, self._day_and_period(start)
        for cut in cuts[1:-1]:
            if (cut_key := self._day_and_period(cut)) != key:
                yield span_start, cut, *key
                span_start, key = cut, cut_key
        yield span_start, end, *key

    def _day_and_period(self, instant: datetime) -> tuple[date, Period]:
        return self.tariff_day(instant), self._uncolored_period_at(instant)

    def _cuts(self, start: datetime, end: datetime) -> list[datetime]:
        """`start`, `end` and every instant between where the wall clock crosses a boundary or
        jumps (DST): the period and the tariff day are constant between two cuts."""
        cuts = {start, end}
        day = start.astimezone(self.time_zone).date() - timedelta(days=1)
        last_day = end.astimezone(self.time_zone).date() + timedelta(days=1)
        while day <= last_day:
            for wall_clock in self._boundaries:
                for fold in (0, 1):  # both occurrences of a time repeated by the autumn change
                    local = datetime.combine(day, wall_clock, tzinfo=self.time_zone)
                    instant = local.replace(fold=fold).astimezone(UTC)
                    if start < instant < end:
                        cuts.add(instant)
            day += timedelta(days=1)
        ordered = sorted(cuts)
        # Cuts are at most a day apart, so two neighbours straddle at most one DST change.
        cuts.update(
            self._offset_change(left, right)
            for left, right in pairwise(ordered)
            if self._offset(left) != self._offset(right)
        )
        return sorted(cuts)

    def _offset(self, instant: datetime) -> timedelta | None:
        return instant.astimezone(self.time_zone).utcoffset()

    def _offset_change(self, before: datetime, after: datetime) -> datetime:
        """The first instant after `before` with the offset in force at `after`, found by
        bisection on whole seconds (zone changes happen on whole seconds)."""
        offset_before = self._offset(before)
        low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(datetime.fromtimestamp(middle, UTC)) == offset_before:
                low = middle
            else:
                high = middle
        return datetime.fromtimestamp(high, UTC)
