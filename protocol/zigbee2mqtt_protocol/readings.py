"""From state messages to readings by a device's metering plan: power, energy increments,
contract figures.

Totals are never kept here: a reading carries the energy
consumed since the previous reading, so whoever keeps a total (a restored sensor, a cost) only
adds increments and can never count anything twice.
"""

from dataclasses import dataclass, field

from .errors import RejectedInputError, Rejection
from .metering import MeteringPlan, Term
from .payloads import JsonObject, as_number

MAX_PLAUSIBLE_POWER_W = 100_000.0  # far above any home (36 kVA is France's largest contract)
COUNTER_JITTER_KWH = 0.01  # a counter stepping back this little is noise, not a reset
COUNTER_STEP_TOLERANCE_KWH = 1.0  # counters rounded to 1 kWh (ZLinky) step by that much at once
MAX_INTEGRATION_GAP_S = 3900.0  # Z2M's longest reporting interval (1 h) with a margin
SECONDS_PER_HOUR = 3600.0
# Enedis' residential contracts run from 3 to 36 kVA: a meter's contract outside is misread.
CONTRACT_RANGE_VA = (3_000.0, 36_000.0)
# The cut-off may sit below the contract (a supply limited by the distributor), never above 36 kVA.
CUTOFF_RANGE_VA = (1_000.0, 36_000.0)


@dataclass(slots=True)
class CounterTracker:
    """Turns a cumulative kWh counter into increments.

    A counter that goes back (a device reboot) is re-based without counting anything; a jump
    that no plausible power could explain is re-based too. Either way the total downstream keeps
    increasing and nothing is counted twice.
    """

    last_kwh: float | None = None
    last_at: float = 0.0

    def increment(self, value_kwh: float, now: float, notes: list[RejectedInputError]) -> float:
        """The energy counted since the previous value, in kWh."""
        last, last_at = self.last_kwh, self.last_at
        self.last_kwh, self.last_at = value_kwh, now
        if last is None:
            return 0.0
        delta = value_kwh - last
        if delta < 0.0:
            if -delta <= COUNTER_JITTER_KWH:
                self.last_kwh = last  # keep the higher value: the next step counts from it
            notes.append(
                RejectedInputError(Rejection.COUNTER_BACKWARDS, f"{last} -> {value_kwh} kWh")
            )
            return 0.0
        elapsed_h = max(now - last_at, 0.0) / SECONDS_PER_HOUR
        if delta > MAX_PLAUSIBLE_POWER_W / 1000.0 * elapsed_h + COUNTER_STEP_TOLERANCE_KWH:
            notes.append(RejectedInputError(Rejection.ABSURD_VALUE, f"{last} -> {value_kwh} kWh"))
            return 0.0
        return delta


@dataclass(slots=True)
class PowerIntegrator:
    """Energy from power readings: each reported power holds until the next report."""

    power_w: float | None = None
    since: float = 0.0

    def increment(self, power_w: float, now: float) -> float:
        """The energy used since the previous power reading, in kWh."""
        energy_kwh = 0.0
        elapsed = now - self.since
        if self.power_w is not None and 0.0 < elapsed <= MAX_INTEGRATION_GAP_S:
            energy_kwh = self.power_w * elapsed / (SECONDS_PER_HOUR * 1000.0)
        self.power_w, self.since = power_w, now
        return energy_kwh

    def pause(self) -> None:
        """Stop integrating until the next reading (the device is unavailable)."""
        self.power_w = None


@dataclass(slots=True)
class Reading:
    """What one state message tells about a device, in W, VA and kWh."""

    power_w: float | None = None
    apparent_power_va: float | None = None
    reference_power_va: float | None = None
    cutoff_power_va: float | None = None
    imported_kwh: float = 0.0
    produced_kwh: float = 0.0
    switch_on: bool | None = None
    notes: list[RejectedInputError] = field(default_factory=list)


class DeviceMeter:
    """Reads a device's state messages by its metering plan, keeping counters between them."""

    def __init__(self, plan: MeteringPlan, known_properties: frozenset[str]) -> None:
        """Start without history: the first counter value only sets a baseline."""
        self.plan = plan
        self.known_properties = known_properties
        self.unknown_properties: set[str] = set()
        self._counters: dict[str, CounterTracker] = {}
        self._integrator = PowerIntegrator()

    def replan(self, plan: MeteringPlan, known_properties: frozenset[str]) -> None:
        """Follow a new plan; counters of properties still read keep their baseline."""
        self.plan = plan
        self.known_properties = known_properties
        watched = plan.watched_properties
        self._counters = {prop: c for prop, c in self._counters.items() if prop in watched}

    def pause(self) -> None:
        """The device became unavailable: do not integrate power over the gap."""
        self._integrator.pause()

    def read(self, state: JsonObject, now: float) -> Reading:
        """Interpret one state message received at `now` (seconds)."""
        plan = self.plan
        reading = Reading()
        notes = reading.notes
        for prop in state:
            if prop not in self.known_properties and prop not in self.unknown_properties:
                self.unknown_properties.add(prop)
                notes.append(RejectedInputError(Rejection.UNKNOWN_PROPERTY, prop))
        reading.power_w, reading.apparent_power_va = power_now(plan, state, notes)
        imported = sum(self._counted(state, term, now, notes) for term in plan.imported_energy)
        if plan.imported_energy_total is not None:
            total = self._counted(state, plan.imported_energy_total, now, notes)
            imported = max(imported, total)
        reading.imported_kwh += imported
        for term in plan.produced_energy:
            reading.produced_kwh += self._counted(state, term, now, notes)
        if plan.integrates_energy and reading.power_w is not None:
            reading.imported_kwh += self._integrator.increment(reading.power_w, now)
        if plan.reference_power is not None:
            reading.reference_power_va = _contract_va(
                state, plan.reference_power, CONTRACT_RANGE_VA, notes
            )
        if plan.cutoff_power is not None:
            reading.cutoff_power_va = _contract_va(state, plan.cutoff_power, CUTOFF_RANGE_VA, notes)
        if plan.switch is not None:
            switch_state = state.get(plan.switch.property)
            if switch_state == plan.switch.value_on:
                reading.switch_on = True
            elif switch_state == plan.switch.value_off:
                reading.switch_on = False
        return reading

    def _counted(
        self, state: JsonObject, term: Term, now: float, notes: list[RejectedInputError]
    ) -> float:
        value = _non_negative(state, term, notes)
        if value is None:
            return 0.0
        counter = self._counters.get(term.property)
        if counter is None:
            counter = self._counters[term.property] = CounterTracker()
        return counter.increment(value * term.scale, now, notes)


def power_now(
    plan: MeteringPlan, state: JsonObject, notes: list[RejectedInputError]
) -> tuple[float | None, float | None]:
    """A state message's power (W; a meter with apparent power only: its VA) and apparent
    power (VA), each None unless the message carries every term with a plausible value."""
    apparent = _power_sum(state, plan.apparent_power, notes) if plan.apparent_power else None
    if plan.power_from_apparent:
        return apparent, apparent
    return (_power_sum(state, plan.power, notes) if plan.power else None), apparent


def _non_negative(state: JsonObject, term: Term, notes: list[RejectedInputError]) -> float | None:
    """A property's value if it is a usable non-negative number; None when absent or refused."""
    raw = state.get(term.property)
    if raw is None:
        return None  # not in this message (Z2M sends `null` for values it does not have)
    try:
        value = as_number(term.property, raw)
    except RejectedInputError as err:
        notes.append(err)
        return None
    if value == term.no_data:
        notes.append(RejectedInputError(Rejection.NO_DATA, f"{term.property}={raw!r:.40}"))
        return None
    if value < 0.0:
        notes.append(RejectedInputError(Rejection.NEGATIVE_VALUE, f"{term.property}={value}"))
        return None
    return value


def _contract_va(
    state: JsonObject,
    term: Term,
    valid_va: tuple[float, float],
    notes: list[RejectedInputError],
) -> float | None:
    """A contract figure in VA, or None when absent or outside what a contract can be."""
    value = _non_negative(state, term, notes)
    if value is None:
        return None
    value_va = value * term.scale
    low, high = valid_va
    if not low <= value_va <= high:
        notes.append(
            RejectedInputError(
                Rejection.CONTRACT_OUT_OF_RANGE,
                f"{term.property}={value:g}: {value_va:g} VA, outside {low:g}-{high:g} VA",
            )
        )
        return None
    return value_va


def _power_sum(
    state: JsonObject, terms: tuple[Term, ...], notes: list[RejectedInputError]
) -> float | None:
    """The sum of power terms in W or VA, or None unless every term has a plausible value."""
    total = 0.0
    for term in terms:
        value = _non_negative(state, term, notes)
        if value is None:
            return None
        value *= term.scale
        if value > MAX_PLAUSIBLE_POWER_W:
            notes.append(RejectedInputError(Rejection.ABSURD_VALUE, f"{term.property}={value}"))
            return None
        total += value
    return total
