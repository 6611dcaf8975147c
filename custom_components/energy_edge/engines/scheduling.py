"""Deferrable loads: the cheapest contiguous window before a deadline.

Rules a user cares about:
- A run of `duration` starts no earlier than `earliest_start` (now) and ends by the deadline.
- Its cost is the load's power times the price over the window, from the tariff's planning
  calendar (`Tariff.price_calendar`). Tempo days of unknown colour are priced at the most
  expensive colour EDF's rules allow that day, so a run lands on such a day only if it wins even
  at that price; the plan says so (`prices_assumed`). Tonight's off-peak hours always belong to
  today's Tempo day, whose colour is known.
- The run must fit in the contract: the expected home load plus the load's power stays at or under
  the contract limit at every moment of the window. Power in W is taken as VA (power factor 1,
  true of the resistive loads usually deferred: water heaters, heaters, EV chargers).
- Of equally cheap windows, the earliest wins.
- The deadline is at most `MAX_HORIZON` (a week) away: a deferrable load waits hours, not months,
  and planning further would only cost time.
- The search is exact, not sampled: the cost of a window changes linearly between the instants
  where its start or its end meets a price or load change, so the cheapest feasible window starts
  at one of those instants, at `earliest_start` or at `deadline - duration`. Each candidate costs
  a bisection (costs from the running integral of the prices) and the peaks come from one sliding
  window over the load's steps: planning grows as n log n with the horizon, not n².
"""

from bisect import bisect_right
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math

from . import stored
from .errors import RefusedError
from .tariff import PriceSlot, to_utc

COST_TIE = 1e-9
"""Costs closer than this are equal: only rounding tells them apart."""

MAX_HORIZON = timedelta(days=7)
"""The furthest deadline a run may be planned for."""


class SchedulingErrorReason(StrEnum):
    """Why no run could be planned (a translation key for the user's message)."""

    INVALID_REQUEST = "invalid_request"
    DEADLINE_TOO_CLOSE = "deadline_too_close"
    DEADLINE_TOO_FAR = "deadline_too_far"
    NO_FEASIBLE_WINDOW = "no_feasible_window"
    PRICES_MISSING = "prices_missing"


class SchedulingError(RefusedError[SchedulingErrorReason]):
    """A run that cannot be planned, with the reason and a message for the user."""


class RunPhase(StrEnum):
    """Where a planned run stands at an instant."""

    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedLoad:
    """Load expected on top of the baseline from `start` to `end` (e.g. another planned run)."""

    start: datetime
    end: datetime
    load_va: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.load_va):
            raise ValueError(f"an expected load must be finite, got {self.load_va!r}")
        object.__setattr__(self, "start", to_utc(self.start))
        object.__setattr__(self, "end", to_utc(self.end))


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadForecast:
    """The home load expected over time: a baseline plus the overlapping extras, summed."""

    baseline_va: float = 0.0
    extras: tuple[ExpectedLoad, ...] = ()

    def load_va_at(self, instant: datetime) -> float:
        """The load expected at an instant."""
        return self.baseline_va + sum(e.load_va for e in self.extras if e.start <= instant < e.end)

    def steps(self, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
        """The load from `start` to `end` as steps: each holds from its instant to the next."""
        changes: dict[datetime, list[ExpectedLoad]] = {}
        active: list[ExpectedLoad] = []
        for extra in self.extras:
            if extra.start <= start < extra.end:
                active.append(extra)
            for instant in (extra.start, extra.end):
                if start < instant < end:
                    changes.setdefault(instant, []).append(extra)
        steps = [(start, self.baseline_va + sum(e.load_va for e in active))]
        for instant in sorted(changes):
            active = [e for e in active if e.end > instant]
            active += [e for e in changes[instant] if e.start == instant]
            steps.append((instant, self.baseline_va + sum(e.load_va for e in active)))
        return steps


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedRun:
    """A run of a load planned from `start` to `end`, with its expected cost."""

    load_id: str
    start: datetime
    end: datetime
    power_w: float
    deadline: datetime
    expected_cost: float
    prices_assumed: bool
    """Part of the window lies on a Tempo day whose colour was not known when planning."""

    def as_expected_load(self) -> ExpectedLoad:
        """This run as load to expect when planning another one."""
        return ExpectedLoad(start=self.start, end=self.end, load_va=self.power_w)

    def phase_at(self, instant: datetime) -> RunPhase:
        """Waiting before the start, running until the end, then done (e.g. after a restart)."""
        if instant < self.start:
            return RunPhase.WAITING
        return RunPhase.RUNNING if instant < self.end else RunPhase.DONE

    def to_dict(self) -> dict[str, object]:
        """The plan as plain JSON-ready data, to store across restarts."""
        return {
            "load_id": self.load_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "power_w": self.power_w,
            "deadline": self.deadline.isoformat(),
            "expected_cost": self.expected_cost,
            "prices_assumed": self.prices_assumed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PlannedRun:
        """Rebuild a plan stored by `to_dict`; a clear `ValueError` if it is damaged."""
        try:
            run = cls(
                load_id=stored.text(data["load_id"]),
                start=stored.instant(data["start"]),
                end=stored.instant(data["end"]),
                power_w=stored.amount(data["power_w"]),
                deadline=stored.instant(data["deadline"]),
                expected_cost=stored.amount(data["expected_cost"]),
                prices_assumed=stored.flag(data["prices_assumed"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"stored plan is damaged: {err}") from err
        if not run.start < run.end <= run.deadline:
            raise ValueError(f"stored plan is damaged: {run.start} .. {run.end} by {run.deadline}")
        return run


def plan_run(
    *,
    load_id: str,
    power_w: float,
    duration: timedelta,
    deadline: datetime,
    earliest_start: datetime,
    prices: Sequence[PriceSlot],
    contract_limit_va: float,
    forecast: LoadForecast | None = None,
) -> PlannedRun:
    """Plan the cheapest run of `duration` at `power_w` between `earliest_start` and `deadline`.

    `prices` must cover that interval (`Tariff.price_calendar(earliest_start, deadline, colors)`).
    Raises `SchedulingError` with the reason when no run can be planned.
    """
    forecast = forecast or LoadForecast()
    earliest_start, deadline = to_utc(earliest_start), to_utc(deadline)
    if duration <= timedelta(0):
        raise SchedulingError(SchedulingErrorReason.INVALID_REQUEST, "the duration must be > 0")
    if not math.isfinite(power_w) or power_w < 0:
        raise SchedulingError(
            SchedulingErrorReason.INVALID_REQUEST, f"the power must be >= 0 W, got {power_w!r}"
        )
    if deadline - earliest_start > MAX_HORIZON:
        raise SchedulingError(
            SchedulingErrorReason.DEADLINE_TOO_FAR,
            f"the deadline {deadline.isoformat()} is more than {MAX_HORIZON} away",
        )
    latest_start = deadline - duration
    if latest_start < earliest_start:
        raise SchedulingError(
            SchedulingErrorReason.DEADLINE_TOO_CLOSE,
            f"a run of {duration} cannot end by {deadline.isoformat()}: "
            f"the deadline is {max(deadline - earliest_start, timedelta(0))} away",
        )
    slots = _covering(prices, earliest_start, deadline)
    breakpoints = {t for s in slots for t in (s.start, s.end)}
    breakpoints |= {t for e in forecast.extras for t in (e.start, e.end)}
    candidates = sorted(
        {earliest_start, latest_start}
        | {
            start
            for point in breakpoints
            for start in (point, point - duration)
            if earliest_start <= start <= latest_start
        }
    )
    energy_price_hours = _PriceIntegral(slots)
    peaks = _window_peaks(forecast.steps(earliest_start, deadline), candidates, duration)
    feasible = [
        (start, power_w / 1000 * energy_price_hours.between(start, start + duration))
        for start, peak in zip(candidates, peaks, strict=True)
        if peak + power_w <= contract_limit_va
    ]
    if not feasible:
        raise SchedulingError(
            SchedulingErrorReason.NO_FEASIBLE_WINDOW,
            f"no window of {duration} before {deadline.isoformat()} leaves room for "
            f"{power_w:.0f} W under the {contract_limit_va:.0f} VA contract",
        )
    cheapest = min(cost for _, cost in feasible)
    start, cost = next((start, cost) for start, cost in feasible if cost <= cheapest + COST_TIE)
    end = start + duration
    return PlannedRun(
        load_id=load_id,
        start=start,
        end=end,
        power_w=power_w,
        deadline=deadline,
        expected_cost=cost,
        prices_assumed=any(s.color_assumed for s in slots if s.start < end and s.end > start),
    )


def _covering(prices: Sequence[PriceSlot], start: datetime, end: datetime) -> list[PriceSlot]:
    """The slots overlapping `start`..`end`, in order, checked to leave no gap."""
    slots = sorted((s for s in prices if s.end > start and s.start < end), key=lambda s: s.start)
    covered_until = start
    for slot in slots:
        if slot.start > covered_until:
            break
        covered_until = max(covered_until, slot.end)
    if covered_until < end:
        raise SchedulingError(
            SchedulingErrorReason.PRICES_MISSING,
            f"no price known from {covered_until.isoformat()} to {end.isoformat()}",
        )
    return slots


class _PriceIntegral:
    """The price integrated over time (price x hours) from the first slot's start, so that the
    price of any window is one difference away."""

    def __init__(self, slots: Sequence[PriceSlot]) -> None:
        self._starts = [slot.start for slot in slots]
        self._slots = slots
        self._before: list[float] = []  # the integral up to each slot's start
        total = 0.0
        for slot in slots:
            self._before.append(total)
            total += slot.price_per_kwh * ((slot.end - slot.start) / timedelta(hours=1))

    def at(self, instant: datetime) -> float:
        index = bisect_right(self._starts, instant) - 1  # the slots cover every window
        slot = self._slots[index]
        return self._before[index] + slot.price_per_kwh * (
            (instant - slot.start) / timedelta(hours=1)
        )

    def between(self, start: datetime, end: datetime) -> float:
        return self.at(end) - self.at(start)


def _window_peaks(
    steps: Sequence[tuple[datetime, float]], starts: Sequence[datetime], duration: timedelta
) -> list[float]:
    """The highest step during `start`..`start + duration` for each start (in order): a sliding
    window maximum, each step entering and leaving the window once."""
    peaks: list[float] = []
    window: deque[int] = deque()  # steps in the window, their loads decreasing
    entering = 0
    for start in starts:
        while entering < len(steps) and steps[entering][0] < start + duration:
            while window and steps[window[-1]][1] <= steps[entering][1]:
                window.pop()
            window.append(entering)
            entering += 1
        while window[0] + 1 < len(steps) and steps[window[0] + 1][0] <= start:
            window.popleft()  # that step ended before the window
        peaks.append(steps[window[0]][1])
    return peaks
