"""A simulated home for the shedding engine: a meter, switchable loads, and time passing.

The home carries out the engine's commands as real plugs do (after a short switching lag, unless
the plug does not obey), reads the meter at a fixed period, and calls `on_time` exactly when the
engine asks to be woken (`next_deadline`), as the Home Assistant layer will.
"""

from dataclasses import dataclass

from custom_components.energy_edge.engines.shedding import (
    LoadShedder,
    Priority,
    SheddingAction,
    SheddingSettings,
    TurnOff,
    TurnOn,
)


@dataclass
class Appliance:
    """A load on a smart plug."""

    load_id: str
    power_w: float
    priority: Priority = Priority.LOW
    managed: bool = True
    on: bool = True
    obeys_off: bool = True
    obeys_on: bool = True
    reported_w: float | None = None
    """What the plug reports, when it is not what the load draws."""

    @property
    def draw_w(self) -> float:
        return self.power_w if self.on else 0.0

    @property
    def report_w(self) -> float:
        if not self.on:
            return 0.0
        return self.power_w if self.reported_w is None else self.reported_w


@dataclass(frozen=True)
class Logged:
    """An action of the engine and when it came."""

    at: float
    action: SheddingAction


class SimulatedHome:
    """Appliances, an uncontrolled base load and a meter, driven by a `LoadShedder`."""

    def __init__(
        self,
        appliances: list[Appliance],
        *,
        base_va: float,
        settings: SheddingSettings | None = None,
        reading_period: float = 1.0,
        switch_lag: float = 0.5,
    ) -> None:
        self.now = 0.0
        self.engine = LoadShedder(self.now, settings)
        self.appliances = {appliance.load_id: appliance for appliance in appliances}
        self.base_va = base_va
        self.meter_working = True
        self.reading_period = reading_period
        self.switch_lag = switch_lag
        self.log: list[Logged] = []
        self.load_timeline: list[tuple[float, float, float]] = []
        """(time, true load, power of the running managed non-critical loads) at every change."""
        self._next_reading = self.now
        self._switches: list[tuple[float, str, bool]] = []
        for appliance in appliances:
            self.engine.set_load(
                appliance.load_id,
                name=appliance.load_id.replace("_", " ").title(),
                priority=appliance.priority,
                managed=appliance.managed,
            )
            self._report(appliance)
        self._note_load()

    @property
    def load_va(self) -> float:
        """What the meter measures now."""
        return self.base_va + sum(a.draw_w for a in self.appliances.values())

    def set_base(self, va: float) -> None:
        """The uncontrolled part of the home changes (oven, kettle, heating...)."""
        self.base_va = va
        self._note_load()

    def switch_by_hand(self, load_id: str, *, on: bool) -> None:
        """The user presses the plug's button."""
        self.appliances[load_id].on = on
        self._note_load()
        self._report(self.appliances[load_id])

    def switch_by_schedule(self, load_id: str, *, on: bool) -> bool:
        """Energy Edge's scheduler starts or ends a load's run; returns whether it sent the
        command (the plug obeys after the switching lag)."""
        sent = self.engine.switch_for_schedule(self.now, load_id, on=on)
        appliance = self.appliances[load_id]
        if sent and (appliance.obeys_on if on else appliance.obeys_off):
            self._switches.append((self.now + self.switch_lag, load_id, on))
        return sent

    def stop_meter(self) -> None:
        self.meter_working = False

    def restart_meter(self) -> None:
        self.meter_working, self._next_reading = True, self.now

    def run_until(self, end: float) -> None:
        """Let time pass, handling every reading, switch and engine deadline in order."""
        while True:
            times = [t for t, _, _ in self._switches]
            if self.meter_working:
                times.append(self._next_reading)
            deadline = self.engine.next_deadline()
            if deadline is not None:
                times.append(deadline)
            if not times or min(times) > end:
                break
            self.now = min(times)
            due = [s for s in self._switches if s[0] <= self.now]
            if due:
                switch = min(due)
                self._switches.remove(switch)
                appliance = self.appliances[switch[1]]
                appliance.on = switch[2]
                self._note_load()
                self._report(appliance)
            elif self.meter_working and self._next_reading <= self.now:
                self._record(self.engine.on_meter_reading(self.now, self.load_va))
                self._next_reading = self.now + self.reading_period
            else:
                self._record(self.engine.on_time(self.now))
        self.now = end

    def run_for(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    def actions[T](self, kind: type[T]) -> list[tuple[float, T]]:
        """The engine's actions of one kind, with their times."""
        return [(entry.at, entry.action) for entry in self.log if isinstance(entry.action, kind)]

    def commands(self) -> list[tuple[float, str, bool]]:
        """(time, load, turn on?) for every command the engine gave."""
        return [
            (entry.at, entry.action.load_id, isinstance(entry.action, TurnOn))
            for entry in self.log
            if isinstance(entry.action, TurnOff | TurnOn)
        ]

    def record(self, actions: list[SheddingAction]) -> None:
        """Carry out actions obtained from the engine outside `run_until` (user requests)."""
        self._record(actions)

    def _report(self, appliance: Appliance) -> None:
        self._record(
            self.engine.on_load_state(
                self.now, appliance.load_id, is_on=appliance.on, power_w=appliance.report_w
            )
        )

    def _record(self, actions: list[SheddingAction]) -> None:
        for action in actions:
            self.log.append(Logged(self.now, action))
            if isinstance(action, TurnOff | TurnOn):
                appliance = self.appliances[action.load_id]
                turn_on = isinstance(action, TurnOn)
                if appliance.obeys_on if turn_on else appliance.obeys_off:
                    self._switches.append((self.now + self.switch_lag, action.load_id, turn_on))

    def _note_load(self) -> None:
        sheddable_w = sum(
            a.draw_w for a in self.appliances.values() if a.managed and a.priority != "critical"
        )
        self.load_timeline.append((self.now, self.load_va, sheddable_w))


@dataclass(frozen=True)
class Spell:
    """A stretch of time above the limit."""

    start: float
    end: float
    excess_va: float
    """How far over the limit the load went when the spell began."""
    sheddable_w: float
    """What the managed, non-critical running loads drew when it began."""


def over_limit_spells(home: SimulatedHome, limit_va: float) -> list[Spell]:
    """Every stretch of time the home's load stayed above the limit, up to now."""
    spells: list[Spell] = []
    began: tuple[float, float, float] | None = None
    for at, load, sheddable in home.load_timeline:
        if load > limit_va and began is None:
            began = (at, load - limit_va, sheddable)
        elif load <= limit_va and began is not None:
            spells.append(Spell(began[0], at, began[1], began[2]))
            began = None
    if began is not None:
        spells.append(Spell(began[0], home.now, began[1], began[2]))
    return spells
