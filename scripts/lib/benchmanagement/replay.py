"""A household replayed second by second, with or without Energy Edge's engines in the loop.

Each simulated second, in this order: the household lives up to it; relays switched by commands sent
a switching lag earlier change state (and the plug reports at once, as Zigbee2MQTT does after a
command); the home's true apparent power is sampled; the scheduler's switches due now go through the
shedding engine (`switch_for_schedule`, as Home Assistant's planner does: not the user's hand, and a
load kept off waits to be restored) and are sent; then, as Home Assistant would, the shedding engine
hears every plug report (each plug's own reporting rules), every Linky reading (once a minute,
decoded from the ZLinky's message as Home Assistant decodes it, the contract with it: `linky`) and
is woken at its `next_deadline`. Between Linky readings the engine estimates the home's load from
the plugs' changes, as in Home Assistant. Its commands reach the relays a switching lag later.
Costs go the way Home Assistant's cost sensors take them: each message read by `DeviceMeter` (the
counters checked there), its energy priced by the cost engine's `add_energy`. The home's at every
Linky reading; each priced plug's every minute (its `energy` counter's steps add up to the same
energy, whichever of its reports are read).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, auto
import heapq
import math

from custom_components.energy_edge.engines.costs import CostAccumulator
from custom_components.energy_edge.engines.scheduling import PlannedRun
from custom_components.energy_edge.engines.shedding import (
    LoadOverridden,
    LoadRestored,
    LoadShed,
    LoadShedder,
    LoadUnresponsive,
    OverloadStarted,
    Priority,
    SheddingAction,
    SheddingSettings,
    TurnOff,
    TurnOn,
)
from custom_components.energy_edge.engines.tariff import Period, Tariff
from energy_edge_sim import Household
from energy_edge_sim.devices import ReportingPolicy
from energy_edge_sim.runtime import FR_HOUSE_PLUGS

from .choices import LINKY_PERIOD_S, LOAD_CHOICES, PLANNED_AT, SWITCH_LAG_S, LoadChoice
from .excursions import Excursion, ExcursionTracker
from .metering import Linky, LinkyReading, Plug
from .schedules import EveningPlanner, next_wall_clock

COST_PERIOD_S = 60
IDLE_W = 10.0
HOME = "home"


@dataclass(frozen=True, slots=True)
class Timing:
    """How fast the home's devices talk and obey."""

    meter_period_s: int = LINKY_PERIOD_S
    switch_lag_s: int = SWITCH_LAG_S

    def __post_init__(self) -> None:
        if self.meter_period_s < 1 or self.switch_lag_s < 1:
            raise ValueError("the meter period and the switching lag are whole seconds >= 1")


class Switcher(Enum):
    """Who switched a relay."""

    SHEDDING = auto()
    SCHEDULE = auto()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one replay measured."""

    seconds: int
    excursions: tuple[Excursion, ...]
    began_on_restore: int
    """Excursions that began the second shedding switched a load back on."""
    began_on_schedule: int
    """Excursions that began the second the scheduler switched a load on."""
    overloads_seen: int
    """Overloads the shedding engine confirmed (`OverloadStarted`)."""
    shed_events: int
    contract_limits_va: tuple[float, ...]
    """The contract limits shedding kept, as the Linky's readings gave them (in order)."""
    shed_by_load: dict[str, int]
    idle_loads_shed: int
    """Loads shed while drawing standby power only: nothing gained, a restore to wait for."""
    shed_seconds: int
    """Seconds loads spent shed, summed over the loads."""
    overrides: int
    """Loads the engine took as switched by hand while shedding (left as set): none is, as
    only the engines switch; the scheduler's switches are told to the shedding engine."""
    unresponsive: int
    planned: tuple[PlannedRun, ...]
    planning_failures: int
    costs: dict[str, CostAccumulator]
    """The cost engine's figures: the home (`HOME`, with subscription) and the priced plugs."""
    billed_energy_cost: float
    """The home's energy from the Linky's own peak and off-peak indices, at the tariff's prices:
    what the supplier bills."""

    @property
    def seconds_above_limit(self) -> int:
        """Seconds the home spent above the contract power."""
        return sum(excursion.seconds for excursion in self.excursions)


@dataclass(slots=True)
class _ShedLog:
    events: Counter[str] = field(default_factory=Counter)
    idle_events: int = 0
    seconds: int = 0
    overrides: int = 0
    unresponsive: int = 0
    overloads: int = 0
    since: dict[str, int] = field(default_factory=dict)

    def close(self, load_id: str, second: int) -> None:
        if (began := self.since.pop(load_id, None)) is not None:
            self.seconds += second - began


class Replay:
    """One household over a span of time; `run()` once."""

    def __init__(
        self,
        house: Household,
        *,
        seconds: int,
        tariff: Tariff,
        shedding: SheddingSettings | None = None,
        planner: EveningPlanner | None = None,
        priced_plugs: Sequence[str] = (),
        timing: Timing | None = None,
        choices: Mapping[str, LoadChoice] = LOAD_CHOICES,
    ) -> None:
        self.house = house
        self.seconds = seconds
        self.tariff = tariff
        self.timing = timing or Timing()
        self.planner = planner
        self.contract_va = house.contract_va
        self._t0 = house.timestamp
        self._plugs = house.plug_names
        self._managed = [
            plug
            for plug in self._plugs
            if (choice := choices.get(plug)) and choice.managed
            if choice.priority is not Priority.CRITICAL
        ]
        self._tracker = ExcursionTracker(self.contract_va, self._managed_va)
        self._relays: list[tuple[int, int, str, bool, Switcher]] = []
        """(second, order, plug, on, by whom): relays that switch at that second."""
        self._scheduled: list[tuple[int, int, str, bool]] = []
        """(second, order, plug, on): the scheduler's switches, sent at that second."""
        self._switched_on: dict[Switcher, set[int]] = {by: set() for by in Switcher}
        self._order = 0
        self._log = _ShedLog()
        self._shedder: LoadShedder | None = None
        self._policies: dict[str, ReportingPolicy] = {}
        self._last_report: dict[str, tuple[int, float]] = {}
        """Each plug's last report: when, and the power it gave."""
        self._deadline: float | None = None
        self._linky = Linky()
        self._limits: list[float] = []
        if shedding is not None:
            self._shedder = LoadShedder(0.0, shedding)
            for plug in self._plugs:
                choice = choices[plug]
                self._shedder.set_load(
                    plug, name=plug, priority=choice.priority, managed=choice.managed
                )
                self._policies[plug] = FR_HOUSE_PLUGS[plug].reporting
        self._costs = {HOME: CostAccumulator(with_subscription=True)} | {
            plug: CostAccumulator() for plug in priced_plugs
        }
        self._priced_plugs = [Plug(plug) for plug in priced_plugs]
        meter = house.meter_reading()
        self._first_indices_wh = (meter.off_peak_import_wh, meter.peak_import_wh)
        self._next_planning = 0
        """Plans are made at the start (as if Energy Edge ran before it), then every evening."""

    def run(self) -> Outcome:
        """Replay every second, then sum up."""
        for second in range(self.seconds):
            self._tick(second)
        self.house.advance_to(self._t0 + self.seconds)
        self._tracker.finish(self.seconds)
        for load_id in list(self._log.since):
            self._log.close(load_id, self.seconds)
        self._price_home(self._linky.read(self.house))
        self._price_plugs()
        return self._outcome()

    def _tick(self, second: int) -> None:
        house = self.house
        house.advance_to(self._t0 + second)
        while self._relays and self._relays[0][0] <= second:
            _, _, plug, on, by = heapq.heappop(self._relays)
            house.set_switch(plug, on=on)
            if on:
                self._switched_on[by].add(second)
            if self._shedder is not None:
                self._report_plug(second, plug, self._shedder)
        self._tracker.sample(second, house.apparent_power_va())
        if self.planner is not None and second >= self._next_planning:
            self._plan(second, self.planner)
        shedder = self._shedder
        while self._scheduled and self._scheduled[0][0] <= second:
            _, _, plug, on = heapq.heappop(self._scheduled)
            if shedder is None or shedder.switch_for_schedule(second, plug, on=on):
                self._switch_later(second, plug, on=on, by=Switcher.SCHEDULE)
            if shedder is not None:
                self._deadline = shedder.next_deadline()
        if shedder is not None:
            self._hear_plugs(second, shedder)
        if second % self.timing.meter_period_s == 0:
            reading = self._linky.read(house)
            self._price_home(reading)
            self._tracker.meter_read(second, reading.measured_va)
            if shedder is not None:
                if reading.settings != shedder.settings:  # the contract, from the meter
                    self._act(second, shedder.update_settings(second, reading.settings))
                if not self._limits or self._limits[-1] != shedder.settings.contract_limit_va:
                    self._limits.append(shedder.settings.contract_limit_va)
                self._act(second, shedder.on_meter_reading(second, reading.measured_va))
        if shedder is not None and self._deadline is not None and self._deadline <= second:
            self._act(second, shedder.on_time(second))
        if second % COST_PERIOD_S == 0:
            self._price_plugs()

    def _hear_plugs(self, second: int, shedder: LoadShedder) -> None:
        """Each plug reports by its own rules; Home Assistant passes it on to the engine."""
        for plug in self._plugs:
            last = self._last_report.get(plug)
            since = math.inf if last is None else second - last[0]
            policy = self._policies[plug]
            if since < policy.min_interval_s:
                continue
            reported_w = None if last is None else last[1]
            if policy.due(since, reported_w, self.house.plug_power_w(plug)):
                self._report_plug(second, plug, shedder)

    def _report_plug(self, second: int, plug: str, shedder: LoadShedder) -> None:
        """The plug's state and power, as Zigbee2MQTT publishes them."""
        power_w = self.house.plug_power_w(plug)
        self._last_report[plug] = (second, power_w)
        is_on = self.house.switch_is_on(plug)
        self._act(second, shedder.on_load_state(second, plug, is_on=is_on, power_w=power_w))

    def _act(self, second: int, actions: Sequence[SheddingAction]) -> None:
        log = self._log
        for action in actions:
            match action:
                case TurnOff(load_id) | TurnOn(load_id):
                    self._switch_later(
                        second, load_id, on=isinstance(action, TurnOn), by=Switcher.SHEDDING
                    )
                case LoadShed(load_id, _, power_w):
                    log.events[load_id] += 1
                    log.idle_events += power_w < IDLE_W
                    log.since[load_id] = second
                case LoadRestored(load_id):
                    log.close(load_id, second)
                case LoadOverridden(load_id, _, is_on):
                    log.overrides += 1
                    if is_on:
                        log.close(load_id, second)
                case LoadUnresponsive():
                    log.unresponsive += 1
                case OverloadStarted():
                    log.overloads += 1
                case _:
                    pass
        if self._shedder is not None:
            self._deadline = self._shedder.next_deadline()

    def _switch_later(self, second: int, plug: str, *, on: bool, by: Switcher) -> None:
        """A command sent at `second` reaches the relay a switching lag later."""
        self._order += 1
        heapq.heappush(self._relays, (second + self.timing.switch_lag_s, self._order, plug, on, by))

    def _plan(self, second: int, planner: EveningPlanner) -> None:
        now = self.house.time
        for switch in sorted(planner.plan(now), key=lambda s: s.at):
            sent = max(second, math.ceil(switch.at.timestamp() - self._t0))
            self._order += 1
            heapq.heappush(self._scheduled, (sent, self._order, switch.plug, switch.on))
        self._next_planning = self._next_planning_after(now)

    def _next_planning_after(self, now: datetime) -> int:
        at = next_wall_clock(now, PLANNED_AT, self.tariff.time_zone)
        return math.ceil(at.timestamp() - self._t0)

    def _managed_va(self) -> float:
        return sum(self.house.plug_reading(plug).apparent_power_va for plug in self._managed)

    def _price_home(self, reading: LinkyReading) -> None:
        self._costs[HOME].add_energy(self.house.time, reading.imported_kwh, self.tariff)

    def _price_plugs(self) -> None:
        at = self.house.time
        for plug in self._priced_plugs:
            self._costs[plug.name].add_energy(at, plug.imported_kwh(self.house), self.tariff)

    def _outcome(self) -> Outcome:
        meter = self.house.meter_reading()
        off_peak_wh = meter.off_peak_import_wh - self._first_indices_wh[0]
        peak_wh = meter.peak_import_wh - self._first_indices_wh[1]
        prices = self.tariff.prices_per_kwh
        billed = (off_peak_wh * prices[Period.HC] + peak_wh * prices[Period.HP]) / 1000
        log = self._log
        planner = self.planner
        excursions = self._tracker.excursions
        return Outcome(
            seconds=self.seconds,
            excursions=tuple(excursions),
            began_on_restore=sum(
                e.start_s in self._switched_on[Switcher.SHEDDING] for e in excursions
            ),
            began_on_schedule=sum(
                e.start_s in self._switched_on[Switcher.SCHEDULE] for e in excursions
            ),
            overloads_seen=log.overloads,
            shed_events=log.events.total(),
            contract_limits_va=tuple(self._limits),
            shed_by_load=dict(log.events),
            idle_loads_shed=log.idle_events,
            shed_seconds=log.seconds,
            overrides=log.overrides,
            unresponsive=log.unresponsive,
            planned=tuple(planner.planned) if planner else (),
            planning_failures=len(planner.failures) if planner else 0,
            costs=self._costs,
            billed_energy_cost=billed,
        )
