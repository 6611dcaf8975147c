"""Appliances of a French home: what each one draws and when that changes, in simulated time.

Time is epoch seconds (floats). Every appliance answers the household's three questions:

- `demand_w(t)`: the active power it draws from `t` on, if its supply is on;
- `next_change(t, supplied)`: the first instant after `t` at which that demand may change by itself;
- `live(start, end, supplied)`: live through `[start, end]`, an interval in which nothing changes,
  then settle at `end` (start the next phase, plug the car in, take a shower...).

Demand is constant between changes, so the household integrates power exactly and the result does
not depend on how a caller slices time into steps. Daily habits are drawn from a random generator
seeded by (seed, appliance, local date): a day's plan is the same whatever happened before it.
"""

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
import math
import random
from typing import NamedTuple

from .localtime import LocalCalendar
from .seeding import seeded
from .tariff import TariffPeriod, TariffSchedule

NEVER = math.inf
_EPSILON_S = 1e-6  # float slack when an interval ends exactly on a change
_EPSILON_WH = 1e-6


def day_random(seed: int, name: str, day: date) -> random.Random:
    """The random generator of one appliance's habits on one local day (stable across runs)."""
    return seeded(seed, name, day.isoformat())


def is_weekend(day: date) -> bool:
    """Saturday or Sunday."""
    return day.weekday() >= 5


def winter_factor(day: date) -> float:
    """1.0 in mid-January, 0.0 in mid-July: colder water, longer evenings."""
    return 0.5 + 0.5 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)


class Segment(NamedTuple):
    """A constant draw between two instants."""

    start: float
    end: float
    power_w: float


@dataclass(frozen=True)
class Phase:
    """One step of an appliance program: a duration and the power drawn meanwhile."""

    duration_s: float
    power_w: float


@dataclass(frozen=True)
class ProgramRun:
    """A program that starts at a planned instant and runs its phases while supplied."""

    start: float
    phases: tuple[Phase, ...]


class Appliance(ABC):
    """Something that draws power; see the module docstring for the contract."""

    name: str
    power_factor: float = 1.0

    @abstractmethod
    def demand_w(self, moment: float) -> float:
        """Active power drawn from `moment` on, if supplied."""

    @abstractmethod
    def next_change(self, moment: float, supplied: bool) -> float:
        """The first instant after `moment` at which the demand may change (`NEVER` if none)."""

    def live(self, start: float, end: float, supplied: bool) -> None:  # noqa: B027 - optional hook
        """Live through `[start, end]` and settle at `end`; most appliances have nothing to do."""


class DailyPlanner:
    """Helps an appliance write one day's plan in local hours."""

    def __init__(self, calendar: LocalCalendar, day: date, rng: random.Random) -> None:
        self.calendar = calendar
        self.day = day
        self.rng = rng

    def at(self, hours: float) -> float:
        """Epoch seconds of a local time of the day (hours past 24 fall on the next day)."""
        return self.calendar.at(self.day, hours)

    def between(self, first_hour: float, last_hour: float) -> float:
        """A random instant between two local times of the day."""
        return self.at(self.rng.uniform(first_hour, last_hour))

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self.rng.random() < probability

    def levels(
        self,
        start: float,
        end: float,
        every_s: float | tuple[float, float],
        power_w: Callable[[], float],
    ) -> list[Segment]:
        """A draw that changes level every `every_s` seconds (fixed or drawn at random)."""
        segments = []
        moment = start
        while moment < end:
            step = every_s if isinstance(every_s, int | float) else self.rng.uniform(*every_s)
            step_end = min(end, moment + step)
            segments.append(Segment(moment, step_end, power_w()))
            moment = step_end
        return segments

    def cycles(
        self,
        start: float,
        end: float,
        on_s: tuple[float, float],
        off_s: tuple[float, float],
        power_w: float | Callable[[], float],
    ) -> list[Segment]:
        """Thermostat cycling: on and off periods drawn at random until `end`."""
        segments = []
        moment = start
        while moment < end:
            on_end = min(end, moment + self.rng.uniform(*on_s))
            power = power_w() if callable(power_w) else power_w
            segments.append(Segment(moment, on_end, power))
            moment = on_end + self.rng.uniform(*off_s)
        return segments


@dataclass
class ScheduledAppliance(Appliance):
    """An appliance whose draw follows daily plans of segments, whatever its supply.

    Subclasses write `plan_day`; segments may run past midnight, and a later day's segment that
    starts before an earlier one ends is clipped, so the timeline never overlaps itself.
    """

    name: str
    seed: int
    calendar: LocalCalendar
    standby_w: float = 0.0
    power_factor: float = 1.0
    _segments: deque[Segment] = field(default_factory=deque, init=False, repr=False)
    _planned_through: date | None = field(default=None, init=False, repr=False)
    _last_end: float = field(default=-NEVER, init=False, repr=False)

    @abstractmethod
    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """The segments of one local day (in any order, without overlaps)."""

    def _plan_next_day(self, moment: float) -> None:
        day = (
            self.calendar.date_of(moment) - timedelta(days=1)
            if self._planned_through is None
            else self._planned_through + timedelta(days=1)
        )
        planner = DailyPlanner(self.calendar, day, day_random(self.seed, self.name, day))
        for segment in sorted(self.plan_day(planner)):
            start = max(segment.start, self._last_end)
            if start < segment.end:
                self._segments.append(Segment(start, segment.end, segment.power_w))
                self._last_end = segment.end
        self._planned_through = day

    def _current(self, moment: float) -> tuple[float, float]:
        """Power at `moment` and the instant it changes."""
        segments = self._segments
        while True:
            while segments and segments[0].end <= moment + _EPSILON_S:
                segments.popleft()
            planned_until = (
                -NEVER
                if self._planned_through is None
                else self.calendar.day_start(self._planned_through + timedelta(days=1))
            )
            # Plan ahead until the first pending segment is known to be the next one.
            if segments and segments[0].start <= planned_until and planned_until > moment:
                break
            if self._planned_through is not None and planned_until > moment + 7 * 86400:
                return self.standby_w, planned_until
            self._plan_next_day(moment)
        first = segments[0]
        if first.start <= moment + _EPSILON_S:
            return first.power_w, first.end
        return self.standby_w, first.start

    def demand_w(self, moment: float) -> float:
        """Active power of the segment in force, or standby between segments."""
        return self._current(moment)[0]

    def next_change(self, moment: float, supplied: bool) -> float:
        """End of the segment in force, or start of the next one."""
        return self._current(moment)[1]


@dataclass
class Fridge(ScheduledAppliance):
    """A fridge-freezer: the compressor cycles all day (about 100 W, a third of the time)."""

    standby_w: float = 1.5
    power_factor: float = 0.8

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """Compressor cycles from midnight to midnight."""
        rng = planner.rng
        return planner.cycles(
            planner.at(rng.uniform(0, 0.5)),
            planner.at(24),
            on_s=(12 * 60, 20 * 60),
            off_s=(22 * 60, 38 * 60),
            power_w=lambda: round(rng.uniform(88, 118), 1),
        )


@dataclass
class Oven(ScheduledAppliance):
    """An electric oven: preheat at full power, then thermostat cycles; dinners and some lunches."""

    standby_w: float = 2.0

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """Dinner on about half the weekdays and most week-end days, lunch on some week-ends."""
        weekend = is_weekend(planner.day)
        sessions = []
        if planner.chance(0.7 if weekend else 0.45):
            sessions.append((planner.between(18.75, 19.85), planner.rng.uniform(35, 80) * 60))
        if weekend and planner.chance(0.3):
            sessions.append((planner.between(11.5, 12.4), planner.rng.uniform(30, 60) * 60))
        segments = []
        for start, duration in sessions:
            power = round(planner.rng.uniform(2500, 3000))
            preheat_end = start + planner.rng.uniform(10, 15) * 60
            segments.append(Segment(start, preheat_end, power))
            segments += planner.cycles(
                preheat_end + 45,
                start + duration,
                on_s=(30, 70),
                off_s=(40, 90),
                power_w=power,
            )
        return segments


@dataclass
class Television(ScheduledAppliance):
    """A television and its sound bar: evenings, week-end afternoons, half a watt on standby."""

    standby_w: float = 0.5
    power_factor: float = 0.95

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """Viewing sessions whose draw drifts with the picture."""
        sessions = []
        if planner.chance(0.9):
            sessions.append((planner.between(19.6, 20.6), planner.between(22.4, 23.8)))
        if is_weekend(planner.day) and planner.chance(0.4):
            sessions.append((planner.between(14, 15), planner.between(16, 17.5)))
        rng = planner.rng
        return [
            segment
            for start, end in sessions
            for segment in planner.levels(start, end, 300, lambda: round(rng.uniform(80, 125), 1))
        ]


@dataclass
class SteadyLoad(ScheduledAppliance):
    """Always-on equipment whose draw wanders around a level (internet box, ventilation...)."""

    level_w: float = 20.0
    spread_w: float = 3.0
    block_s: float = 900.0

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """A new level every block."""
        rng = planner.rng
        return planner.levels(
            planner.at(0),
            planner.at(24),
            self.block_s,
            lambda: round(self.level_w + rng.uniform(-self.spread_w, self.spread_w), 1),
        )


@dataclass
class Lighting(ScheduledAppliance):
    """The home's lights: winter mornings, and evenings from dusk (later in summer) to bedtime."""

    power_factor: float = 0.9

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """Evening lights from dusk to bedtime, changing every half hour."""
        winter = winter_factor(planner.day)
        windows = [
            (
                planner.between(17.2 + 4 * (1 - winter), 18 + 4 * (1 - winter)),
                planner.between(23, 23.8),
            )
        ]
        if winter > 0.5:
            windows.append((planner.between(6.5, 7), planner.between(7.8, 8.3)))
        rng = planner.rng
        return [
            segment
            for start, end in windows
            for segment in planner.levels(start, end, 1800, lambda: round(rng.uniform(120, 340)))
        ]


@dataclass
class InductionHob(ScheduledAppliance):
    """An induction hob: lunch on some days, dinner on most, zones switching between levels."""

    power_factor: float = 0.95

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """Cooking sessions whose power changes every few minutes."""
        weekend = is_weekend(planner.day)
        sessions = []
        if planner.chance(0.8 if weekend else 0.35):
            sessions.append((planner.between(11.9, 12.6), planner.rng.uniform(15, 35) * 60))
        if planner.chance(0.85):
            sessions.append((planner.between(18.9, 19.9), planner.rng.uniform(20, 40) * 60))
        rng = planner.rng
        return [
            segment
            for start, duration in sessions
            for segment in planner.levels(
                start, start + duration, (60, 240), lambda: round(rng.uniform(900, 3200))
            )
        ]


@dataclass
class SmallAppliances(ScheduledAppliance):
    """Kettle, hair dryer, vacuum cleaner and iron: short, strong, unmetered bursts."""

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """Morning kettle and hair dryer, week-end vacuuming, some evening ironing."""
        weekend = is_weekend(planner.day)
        segments = []

        def burst(start: float, minutes: tuple[float, float], power: tuple[float, float]) -> None:
            end = start + planner.rng.uniform(*minutes) * 60
            segments.append(Segment(start, end, round(planner.rng.uniform(*power))))

        if planner.chance(0.9):
            burst(
                planner.between(8.5, 9.5) if weekend else planner.between(6.9, 7.5),
                (2.5, 3.5),
                (1900, 2200),
            )
        if planner.chance(0.5):
            burst(
                planner.between(7.6, 7.9) if not weekend else planner.between(9.6, 10),
                (4, 7),
                (1500, 1800),
            )
        if planner.chance(0.3):
            burst(planner.between(16.3, 16.8), (2.5, 3.5), (1900, 2200))
        if planner.day.weekday() == 5 and planner.chance(0.6):
            burst(planner.between(10, 11.5), (20, 40), (900, 1500))
        if not weekend and planner.chance(0.15):
            segments += planner.cycles(
                planner.between(20.8, 21.3),
                planner.between(21.6, 22),
                on_s=(20, 60),
                off_s=(20, 60),
                power_w=1800,
            )
        return segments


@dataclass
class SolarPanels(ScheduledAppliance):
    """Rooftop panels: a negative draw following the sun (latitude 46°) and passing clouds."""

    peak_w: float = 3000.0

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """Production in ten-minute blocks between sunrise and sunset."""
        day_of_year = planner.day.timetuple().tm_yday
        declination = 23.44 * math.sin(2 * math.pi * (284 + day_of_year) / 365)
        latitude = math.radians(46.0)
        half_day_h = (
            math.degrees(math.acos(-math.tan(latitude) * math.tan(math.radians(declination)))) / 15
        )
        solar_noon = (
            13.0
            if planner.calendar.local(planner.at(12)).utcoffset() == timedelta(hours=1)
            else 14.0
        )
        clouds = planner.rng.choice((0.25, 0.6, 0.9, 1.0))
        segments = []
        hour = solar_noon - half_day_h
        while hour < solar_noon + half_day_h:
            middle = hour + 1 / 12
            hour_angle = math.radians(15 * (middle - solar_noon))
            elevation = math.asin(
                math.sin(latitude) * math.sin(math.radians(declination))
                + math.cos(latitude) * math.cos(math.radians(declination)) * math.cos(hour_angle)
            )
            cover = clouds * planner.rng.uniform(0.7, 1.0)
            power = self.peak_w * max(0.0, math.sin(elevation)) * cover
            if power >= 1:
                segments.append(Segment(planner.at(hour), planner.at(hour + 1 / 6), -round(power)))
            hour += 1 / 6
        return segments


@dataclass
class OccasionalUse(ScheduledAppliance):
    """A generic appliance used a few times a day (the plugs of the scale mode)."""

    power_w: tuple[float, float] = (20.0, 2000.0)
    uses_per_day: int = 3
    minutes: tuple[float, float] = (5.0, 90.0)
    standby_w: float = 0.5

    def plan_day(self, planner: DailyPlanner) -> Iterable[Segment]:
        """A few uses at random hours."""
        power = round(planner.rng.uniform(*self.power_w), 1)
        segments = []
        for _ in range(self.uses_per_day):
            start = planner.between(6, 23)
            segments.append(Segment(start, start + planner.rng.uniform(*self.minutes) * 60, power))
        # Overlapping uses merge into one longer use.
        merged: list[Segment] = []
        for segment in sorted(segments):
            if merged and segment.start <= merged[-1].end:
                merged[-1] = Segment(merged[-1].start, max(merged[-1].end, segment.end), power)
            else:
                merged.append(segment)
        return merged


@dataclass
class TemporaryLoad(Appliance):
    """A load that appears for a while (the control channel's forced overload)."""

    name: str
    power_w: float
    start: float
    end: float
    power_factor: float = 1.0

    def demand_w(self, moment: float) -> float:
        """Its power while it lasts."""
        return self.power_w if self.start <= moment < self.end else 0.0

    def next_change(self, moment: float, supplied: bool) -> float:
        """It appears at `start` and vanishes at `end`."""
        if moment < self.start:
            return self.start
        return self.end if moment < self.end else NEVER


@dataclass
class ProgramAppliance(Appliance):
    """A washing machine or dishwasher: programs of phases that pause while the supply is off.

    A program cut by load shedding resumes where it stopped when the plug is switched on again;
    a program due while another one still runs starts right after it.
    """

    name: str
    seed: int
    calendar: LocalCalendar
    standby_w: float = 0.5
    power_factor: float = 0.95
    _queue: deque[ProgramRun] = field(default_factory=deque, init=False, repr=False)
    _planned_through: date | None = field(default=None, init=False, repr=False)
    _phases: deque[Phase] = field(default_factory=deque, init=False, repr=False)
    _remaining_s: float = field(default=0.0, init=False, repr=False)

    @abstractmethod
    def plan_day(self, planner: DailyPlanner) -> Iterable[ProgramRun]:
        """The programs started on one local day."""

    def _plan_until(self, moment: float) -> None:
        target = self.calendar.date_of(moment) + timedelta(days=1)
        while self._planned_through is None or self._planned_through < target:
            day = (
                self.calendar.date_of(moment)
                if self._planned_through is None
                else self._planned_through + timedelta(days=1)
            )
            planner = DailyPlanner(self.calendar, day, day_random(self.seed, self.name, day))
            self._queue.extend(sorted(self.plan_day(planner), key=lambda run: run.start))
            self._planned_through = day

    def _settle(self, moment: float) -> None:
        self._plan_until(moment)
        while True:
            if self._phases and self._remaining_s <= _EPSILON_S:
                self._phases.popleft()
                self._remaining_s = self._phases[0].duration_s if self._phases else 0.0
                continue
            if not self._phases and self._queue and self._queue[0].start <= moment + _EPSILON_S:
                self._phases.extend(self._queue.popleft().phases)
                self._remaining_s = self._phases[0].duration_s
                continue
            return

    @property
    def running(self) -> bool:
        """A program is in progress (possibly paused)."""
        return bool(self._phases)

    def demand_w(self, moment: float) -> float:
        """The power of the current phase, or standby."""
        self._settle(moment)
        return self._phases[0].power_w if self._phases else self.standby_w

    def next_change(self, moment: float, supplied: bool) -> float:
        """End of the current phase if supplied, else the next planned start."""
        self._settle(moment)
        if self._phases:
            return moment + self._remaining_s if supplied else NEVER
        return self._queue[0].start if self._queue else self.calendar.next_day_start(moment)

    def live(self, start: float, end: float, supplied: bool) -> None:
        """Programs advance only while supplied."""
        if self._phases and supplied:
            self._remaining_s -= end - start
        self._settle(end)


def _motor_phases(planner: DailyPlanner, minutes: float, power: tuple[float, float]) -> list[Phase]:
    """A drum turning both ways: a minute of motor, a pause, again and again."""
    phases = []
    for _ in range(round(minutes)):
        phases.append(Phase(40, round(planner.rng.uniform(*power))))
        phases.append(Phase(20, 25))
    return phases


@dataclass
class WashingMachine(ProgramAppliance):
    """A washing machine: programs with a 2 kW heating phase, on evenings and week-ends."""

    def plan_day(self, planner: DailyPlanner) -> Iterable[ProgramRun]:
        """One wash on some weekday evenings and most week-end mornings."""
        weekend = is_weekend(planner.day)
        if not planner.chance(0.7 if weekend else 0.35):
            return []
        start = planner.between(9, 11) if weekend else planner.between(20.2, 21.5)
        heating_min = planner.rng.choice((12, 15, 25))
        phases = [
            Phase(240, 110),
            Phase(heating_min * 60, round(planner.rng.uniform(1900, 2150))),
            *_motor_phases(planner, 35, (140, 280)),
            Phase(15 * 60, 100),
            Phase(8 * 60, round(planner.rng.uniform(330, 480))),
        ]
        return [ProgramRun(start, tuple(phases))]


@dataclass
class Dishwasher(ProgramAppliance):
    """A dishwasher: two heating phases near 2 kW; started after dinner, or delayed to off-peak."""

    power_factor: float = 0.98

    def plan_day(self, planner: DailyPlanner) -> Iterable[ProgramRun]:
        """Most evenings; a third of the time with the delayed start set to off-peak hours."""
        if not planner.chance(0.8):
            return []
        start = planner.between(22.55, 22.7) if planner.chance(0.3) else planner.between(20.4, 21.7)
        heating = round(planner.rng.uniform(1850, 2050))
        phases = (
            Phase(5 * 60, 65),
            Phase(15 * 60, heating),
            Phase(25 * 60, 75),
            Phase(10 * 60, heating),
            Phase(30 * 60, 12),
        )
        return [ProgramRun(start, phases)]


@dataclass
class WaterHeater(Appliance):
    """An electric water heater ("cumulus"): heats while the Linky's off-peak contact is closed.

    Hot water drawn at showers and washing-up, plus standing losses, becomes an energy need that the
    2.4 kW element meets during off-peak hours; switched off, it simply heats later.
    """

    name: str
    seed: int
    calendar: LocalCalendar
    tariff: TariffSchedule
    power_w: float = 2400.0
    need_wh: float = 0.0
    _draws: deque[tuple[float, float]] = field(default_factory=deque, init=False, repr=False)
    _planned_through: date | None = field(default=None, init=False, repr=False)

    def _plan_until(self, moment: float) -> None:
        target = self.calendar.date_of(moment) + timedelta(days=1)
        while self._planned_through is None or self._planned_through < target:
            day = (
                self.calendar.date_of(moment)
                if self._planned_through is None
                else self._planned_through + timedelta(days=1)
            )
            planner = DailyPlanner(self.calendar, day, day_random(self.seed, self.name, day))
            colder = 1 + 0.35 * winter_factor(day)
            morning = planner.between(6.8, 7.8 if not is_weekend(day) else 10)
            evening = planner.between(20.3, 21.6)
            self._draws.extend(
                sorted(
                    [
                        (morning, planner.rng.uniform(2200, 4200) * colder),
                        (evening, planner.rng.uniform(1200, 2800) * colder),
                        (planner.at(12), 1300.0),  # standing losses of a 200 l tank
                    ]
                )
            )
            self._planned_through = day

    def heating(self, moment: float) -> bool:
        """The element is on: off-peak hours and water to heat."""
        return self.need_wh > _EPSILON_WH and self.tariff.period_at(moment) is TariffPeriod.OFF_PEAK

    def demand_w(self, moment: float) -> float:
        """Full power while heating, nothing otherwise."""
        return self.power_w if self.heating(moment) else 0.0

    def next_change(self, moment: float, supplied: bool) -> float:
        """The next draw, tariff change, or the end of heating."""
        self._plan_until(moment)
        candidates = [self.tariff.next_change(moment)]
        if self._draws:
            candidates.append(self._draws[0][0])
        if supplied and self.heating(moment):
            candidates.append(moment + self.need_wh / self.power_w * 3600)
        return min(candidates)

    def live(self, start: float, end: float, supplied: bool) -> None:
        """Heat while allowed and supplied; hot water drawn raises the need."""
        self._plan_until(end)
        if supplied and self.heating(start):
            self.need_wh = max(0.0, self.need_wh - self.power_w * (end - start) / 3600)
        while self._draws and self._draws[0][0] <= end + _EPSILON_S:
            self.need_wh += self._draws.popleft()[1]


@dataclass(frozen=True)
class ChargingSession:
    """The car plugged in from `arrival` to `departure`, needing some energy."""

    arrival: float
    departure: float
    need_wh: float


@dataclass
class EvCharger(Appliance):
    """A 3.7 kW charging point (16 A): the car charges as soon as it is plugged in, back from work.

    Evening arrivals coincide with cooking, which pushes the home over its contract; switched off
    by load shedding or a schedule, charging resumes when switched on again, until departure.
    """

    name: str
    seed: int
    calendar: LocalCalendar
    power_w: float = 3700.0
    standby_w: float = 2.0
    power_factor: float = 0.99
    _sessions: deque[ChargingSession] = field(default_factory=deque, init=False, repr=False)
    _planned_through: date | None = field(default=None, init=False, repr=False)
    _session: ChargingSession | None = field(default=None, init=False, repr=False)
    _need_wh: float = field(default=0.0, init=False, repr=False)

    def _plan_until(self, moment: float) -> None:
        target = self.calendar.date_of(moment) + timedelta(days=1)
        while self._planned_through is None or self._planned_through < target:
            day = (
                self.calendar.date_of(moment) - timedelta(days=1)
                if self._planned_through is None
                else self._planned_through + timedelta(days=1)
            )
            planner = DailyPlanner(self.calendar, day, day_random(self.seed, self.name, day))
            weekend = is_weekend(day)
            if planner.chance(0.4 if weekend else 0.75):
                arrival = planner.between(11, 18) if weekend else planner.between(17.5, 19.8)
                departure = planner.between(31, 32.5)  # 7:00 to 8:30 the next morning
                need = planner.rng.uniform(4000, 15000)
                self._sessions.append(ChargingSession(arrival, departure, need))
            self._planned_through = day

    @property
    def plugged_in(self) -> bool:
        """A car is connected."""
        return self._session is not None

    def charging(self) -> bool:
        """The car is connected and not full."""
        return self._session is not None and self._need_wh > _EPSILON_WH

    def demand_w(self, moment: float) -> float:
        """Full power while charging, standby otherwise."""
        self._settle(moment)
        return self.power_w if self.charging() else self.standby_w

    def next_change(self, moment: float, supplied: bool) -> float:
        """Departure, the end of charging, or the next arrival."""
        self._settle(moment)
        if self._session is not None:
            finish = (
                moment + self._need_wh / self.power_w * 3600
                if supplied and self.charging()
                else NEVER
            )
            return min(self._session.departure, finish)
        return self._sessions[0].arrival if self._sessions else self.calendar.next_day_start(moment)

    def _settle(self, moment: float) -> None:
        self._plan_until(moment)
        if self._session is not None and self._session.departure <= moment + _EPSILON_S:
            self._session, self._need_wh = None, 0.0
        while self._sessions and self._sessions[0].arrival <= moment + _EPSILON_S:
            session = self._sessions.popleft()
            if self._session is None and session.departure > moment:
                self._session, self._need_wh = session, session.need_wh

    def live(self, start: float, end: float, supplied: bool) -> None:
        """Charge while supplied; the car leaves at departure, full or not."""
        if supplied and self.charging():
            self._need_wh = max(0.0, self._need_wh - self.power_w * (end - start) / 3600)
        self._settle(end)
