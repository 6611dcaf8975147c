"""A simulated household as a pure, deterministic, time-steppable model (no MQTT, no clock).

Use it to replay weeks of a home in seconds, for instance through the integration's pure engines::

    house = fr_house(seed=42, start=datetime(2025, 1, 6, tzinfo=PARIS))
    for _ in range(30 * 24 * 60):          # a month, minute by minute
        snapshot = house.step(60)            # advance 60 simulated seconds
        if snapshot.meter.apparent_power_va > snapshot.meter.contract_va:
            house.set_switch("ev_charger", on=False)   # what load shedding would do

- `step(dt)` / `advance_to(moment)` move time forward; `snapshot()` reads every load, plug and the
  meter at the current instant. Power is constant between appliance events and integrated exactly,
  so counters do not depend on the step size, and the same seed, start and commands give the same
  numbers on every machine.
- `set_switch(plug, on)` switches a plug (the closed loop of shedding and scheduling);
  `force_overload(...)` adds a load that pushes the home over its contract; `start_load(plug, ...)`
  makes a plug draw for a while, as an appliance someone switches on; `reboot(plug)` restarts a
  plug's own energy counter at 0, as a real plug does after a power cut.
- `hold(duration)` keeps the home's own appliances at what they draw now (their programmes go on
  underneath; their draw follows again at `release()` or the hold's end): an end-to-end test can
  size an overload against the meter while the accelerated home would otherwise change under it.
  Plugs, forced and started loads act as usual.
- Invariants: the meter's active power is the sum of every load (metered or not, production
  negative); every counter is the integral of its power.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math

from .appliances import NEVER, Appliance, TemporaryLoad
from .localtime import LocalCalendar
from .seeding import seeded
from .tariff import TariffPeriod, TariffSchedule

LOAD_CURVE_PERIOD_S = 1800.0  # the Linky's load curve: one point per half hour
FORCED_OVERLOAD = "forced_overload"
STARTED_LOAD = "started_load"  # with the plug's name: `started_load_oven`
_EPSILON_S = 1e-6


@dataclass(frozen=True, slots=True)
class LoadReading:
    """One load at an instant."""

    name: str
    plug: str | None  # the metered plug it is wired behind, None when unmetered
    power_w: float  # active power drawn now (0 while its plug is off; negative for production)
    apparent_power_va: float
    energy_wh: float  # drawn since the simulation started


@dataclass(frozen=True, slots=True)
class PlugReading:
    """A metered smart plug at an instant, as the device itself measures it."""

    name: str
    on: bool
    power_w: float
    apparent_power_va: float
    current_a: float
    voltage_v: float
    energy_kwh: float  # the device's own counter: restarts at 0 when the device reboots


@dataclass(frozen=True, slots=True)
class MeterReading:
    """The Linky at an instant: what the grid sees of the whole home."""

    active_power_w: float  # net: positive when drawing, negative when exporting
    apparent_power_va: float  # apparent power drawn (SINSTS, PAPP); 0 while exporting
    injected_apparent_power_va: float  # apparent power exported (SINSTI)
    voltage_v: float
    current_a: float
    tariff_period: TariffPeriod
    off_peak_import_wh: float  # index 1: EASF01, HCHC
    peak_import_wh: float  # index 2: EASF02, HCHP
    export_wh: float  # EAIT
    contract_va: float  # PREF
    max_apparent_power_today_va: float  # SMAXSN
    max_apparent_power_yesterday_va: float  # SMAXSN-1
    load_curve_w: float  # CCASN: mean power drawn over the last complete half hour
    previous_load_curve_w: float  # CCASN-1

    @property
    def import_wh(self) -> float:
        """Total energy drawn (EAST, BASE)."""
        return self.off_peak_import_wh + self.peak_import_wh

    @property
    def overloaded(self) -> bool:
        """Apparent power above the contract: what load shedding must prevent."""
        return self.apparent_power_va > self.contract_va


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything in the home at one instant."""

    time: datetime
    loads: Mapping[str, LoadReading]
    plugs: Mapping[str, PlugReading]
    meter: MeterReading

    @property
    def unmetered_power_w(self) -> float:
        """Power of the loads that no plug measures (production counts negative)."""
        return sum(load.power_w for load in self.loads.values() if load.plug is None)


@dataclass(frozen=True)
class Circuit:
    """Where an appliance is wired: behind a metered plug (its friendly name) or on the panel."""

    appliance: Appliance
    plug: str | None = None


@dataclass(slots=True)
class _Slot:
    appliance: Appliance
    plug: str | None
    tan_phi: float
    power_w: float = 0.0
    until: float = NEVER
    energy_wh: float = 0.0


@dataclass(slots=True)
class _Plug:
    on: bool
    counter_wh: float
    voltage_offset_v: float


@dataclass(slots=True)
class _Meter:
    off_peak_wh: float
    peak_wh: float
    export_wh: float = 0.0
    max_today_va: float = 0.0
    max_yesterday_va: float = 0.0
    curve_energy_wh: float = 0.0
    curve_w: float = 0.0
    previous_curve_w: float = 0.0
    period: TariffPeriod = TariffPeriod.PEAK
    day_end: float = NEVER
    curve_end: float = NEVER
    tariff_change: float = NEVER

    @property
    def until(self) -> float:
        return min(self.day_end, self.curve_end, self.tariff_change)


def _tan_phi(power_factor: float) -> float:
    return math.tan(math.acos(min(1.0, max(0.05, power_factor))))


class Household:
    """A home of appliances, metered plugs and a Linky; see the module docstring."""

    def __init__(
        self,
        circuits: Sequence[Circuit],
        *,
        seed: int,
        start: datetime,
        contract_va: float = 6000.0,
        tariff: TariffSchedule | None = None,
        calendar: LocalCalendar | None = None,
    ) -> None:
        """Wire the circuits; every counter starts at a plausible value drawn from the seed."""
        if start.tzinfo is None:
            raise ValueError("the start time must be timezone-aware")
        self.seed = seed
        self.contract_va = contract_va
        self.calendar = calendar or LocalCalendar()
        self.tariff = tariff or TariffSchedule(calendar=self.calendar)
        self._now = start.timestamp()
        self._voltage_minute, self._voltage_wobble = -1, 0.0
        rng = seeded(seed, "household")
        names = [circuit.appliance.name for circuit in circuits]
        if len(set(names)) != len(names) or any(
            name.startswith((FORCED_OVERLOAD, STARTED_LOAD)) for name in names
        ):
            raise ValueError("load names must be unique and not reserved")
        self._slots = [
            _Slot(c.appliance, c.plug, _tan_phi(c.appliance.power_factor)) for c in circuits
        ]
        self._overload = TemporaryLoad(FORCED_OVERLOAD, 0.0, NEVER, NEVER)
        self._overload_slot = _Slot(self._overload, None, 0.0)
        self._slots.append(self._overload_slot)
        self._started: dict[str, TemporaryLoad] = {}  # by plug, added by `start_load`
        self._held_until = -NEVER  # the own appliances' draw is held until then (`hold`)
        self._plug_slots: dict[str, list[_Slot]] = {}
        for slot in self._slots:
            if slot.plug is not None:
                self._plug_slots.setdefault(slot.plug, []).append(slot)
        self._plugs = {
            plug: _Plug(
                on=True,
                counter_wh=round(rng.uniform(5, 900), 1) * 1000,
                voltage_offset_v=rng.uniform(-1.2, 0.4),
            )
            for plug in dict.fromkeys(c.plug for c in circuits if c.plug is not None)
        }
        self._meter = _Meter(
            off_peak_wh=round(rng.uniform(3000, 9000), 3) * 1000,
            peak_wh=round(rng.uniform(5000, 14000), 3) * 1000,
            max_yesterday_va=round(rng.uniform(0.45, 1.2) * contract_va),
        )
        for slot in self._slots:
            slot.appliance.live(self._now, self._now, self._supplied(slot))
            self._refresh(slot, self._now)
        self._reset_meter_boundaries(self._now)
        active, reactive = self._powers()
        self._meter.curve_w = self._meter.previous_curve_w = max(0.0, active)
        self._meter.max_today_va = self._apparent(active, reactive)[0]

    # -- time ---------------------------------------------------------------------------------

    @property
    def time(self) -> datetime:
        """The current simulated instant (local time)."""
        return self.calendar.local(self._now)

    @property
    def timestamp(self) -> float:
        """The current simulated instant in epoch seconds."""
        return self._now

    def step(self, dt: float | timedelta) -> Snapshot:
        """Advance by `dt` (seconds or a timedelta) and read the home at the end of the step."""
        seconds = dt.total_seconds() if isinstance(dt, timedelta) else float(dt)
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.advance_to(self._now + seconds)
        return self.snapshot()

    def advance_to(self, moment: datetime | float) -> None:
        """Live until `moment` (aware datetime or epoch seconds); earlier instants are ignored."""
        end = moment.timestamp() if isinstance(moment, datetime) else moment
        meter = self._meter
        while self._now < end:
            now = self._now
            following = min(end, meter.until, *(slot.until for slot in self._slots))
            if now < self._held_until < following:
                following = self._held_until
            duration_h = (following - now) / 3600
            active = reactive = 0.0
            for slot in self._slots:
                supplied = self._supplied(slot)
                power = slot.power_w if supplied else 0.0
                if power:
                    energy = power * duration_h
                    slot.energy_wh += energy
                    if slot.plug is not None:
                        self._plugs[slot.plug].counter_wh += energy
                    active += power
                    reactive += power * slot.tan_phi
                slot.appliance.live(now, following, supplied)
            self._integrate_meter(active, reactive, duration_h)
            self._now = following
            for slot in self._slots:
                if slot.until <= following + _EPSILON_S:
                    self._refresh(slot, following)
            if meter.until <= following + _EPSILON_S:
                self._cross_meter_boundaries(following)
            if now < self._held_until <= following:
                self.release()

    # -- commands -----------------------------------------------------------------------------

    @property
    def plug_names(self) -> tuple[str, ...]:
        """Friendly names of the metered plugs."""
        return tuple(self._plugs)

    @property
    def load_names(self) -> tuple[str, ...]:
        """Names of every load, metered or not."""
        return tuple(slot.appliance.name for slot in self._slots)

    def appliance(self, name: str) -> Appliance:
        """The appliance behind a load name."""
        for slot in self._slots:
            if slot.appliance.name == name:
                return slot.appliance
        raise KeyError(name)

    def switch_is_on(self, plug: str) -> bool:
        """Whether a plug's relay is closed."""
        return self._plug(plug).on

    def set_switch(self, plug: str, *, on: bool) -> None:
        """Open or close a plug's relay now: its loads stop or resume drawing at once."""
        self._plug(plug).on = on
        self._refresh_plug(plug)

    def reboot(self, plug: str) -> None:
        """A plug restarts: its own energy counter starts again from 0 (the relay is restored)."""
        self._plug(plug).counter_wh = 0.0

    def force_overload(self, power_w: float, duration_s: float, plug: str | None = None) -> None:
        """Add a resistive load of `power_w` for `duration_s`, behind `plug` or unmetered."""
        if not (
            math.isfinite(power_w) and power_w > 0 and math.isfinite(duration_s) and duration_s > 0
        ):
            raise ValueError("an overload needs a positive power and duration")
        if plug is not None:
            self._plug(plug)
        slot = self._overload_slot
        if slot.plug is not None:
            self._plug_slots[slot.plug].remove(slot)
        if plug is not None:
            self._plug_slots[plug].append(slot)
        self._overload.power_w = power_w
        self._overload.start, self._overload.end = self._now, self._now + duration_s
        slot.plug = plug
        self._refresh(slot, self._now)

    def clear_overload(self) -> None:
        """Remove a forced overload now."""
        self._overload.end = min(self._overload.end, self._now)
        self._refresh(self._overload_slot, self._now)

    def start_load(self, plug: str, power_w: float, duration_s: float) -> None:
        """A resistive load of `power_w` starts behind `plug` for `duration_s`, as an appliance
        someone switches on: it draws while the plug is on (shedding cuts it) and shows on the
        plug and the meter."""
        if not (
            math.isfinite(power_w) and power_w > 0 and math.isfinite(duration_s) and duration_s > 0
        ):
            raise ValueError("a started load needs a positive power and duration")
        self._plug(plug)
        load = self._started.get(plug)
        if load is None:
            load = self._started[plug] = TemporaryLoad(f"{STARTED_LOAD}_{plug}", 0.0, NEVER, NEVER)
            slot = _Slot(load, plug, 0.0)
            self._slots.append(slot)
            self._plug_slots[plug].append(slot)
        load.power_w, load.start, load.end = power_w, self._now, self._now + duration_s
        self._refresh_plug(plug)

    def stop_load(self, plug: str) -> None:
        """The load started behind `plug` stops now (nothing happens if none runs)."""
        self._plug(plug)
        if (load := self._started.get(plug)) is not None:
            load.end = min(load.end, self._now)
            self._refresh_plug(plug)

    def hold(self, duration_s: float) -> None:
        """The home's own appliances keep drawing what they draw now for `duration_s`."""
        if not (math.isfinite(duration_s) and duration_s > 0):
            raise ValueError("a hold needs a positive duration")
        self._held_until = self._now + duration_s

    def release(self) -> None:
        """End a hold now: the own appliances draw what their programmes say again."""
        self._held_until = -NEVER
        for slot in self._slots:
            self._refresh(slot, self._now)

    def _held(self, slot: _Slot, moment: float) -> bool:
        own = not slot.appliance.name.startswith((FORCED_OVERLOAD, STARTED_LOAD))
        return own and moment < self._held_until

    def _refresh_plug(self, plug: str) -> None:
        for slot in self._plug_slots[plug]:
            self._refresh(slot, self._now)

    # -- readings -----------------------------------------------------------------------------

    def grid_voltage(self, moment: float | None = None) -> float:
        """Mains voltage at the meter: a daily swing and a new random wobble every minute."""
        moment = self._now if moment is None else moment
        minute = int(moment // 60)
        if minute != self._voltage_minute:
            self._voltage_minute = minute
            # A cheap integer hash: this runs once a simulated minute, more than anything else.
            mixed = (hash((self.seed, minute)) * 2654435761) % 2**32
            self._voltage_wobble = 3.0 * (mixed / 2**32 - 0.5)
        wobble = self._voltage_wobble
        local_hour = (moment % 86400) / 3600
        return 232.0 + 3.0 * math.cos(2 * math.pi * (local_hour - 4) / 24) + wobble

    def plug_power_w(self, plug: str) -> float:
        """Active power through a plug now (cheaper than a full reading)."""
        if not self._plug(plug).on:
            return 0.0
        return sum(slot.power_w for slot in self._plug_slots[plug])

    def apparent_power_va(self) -> float:
        """Apparent power drawn from the grid now (cheaper than a full meter reading)."""
        return self._apparent(*self._powers())[0]

    def plug_reading(self, plug: str) -> PlugReading:
        """Read one plug now, as the device measures it."""
        state = self._plug(plug)
        active = reactive = 0.0
        if state.on:
            for slot in self._plug_slots[plug]:
                active += slot.power_w
                reactive += slot.power_w * slot.tan_phi
        return self._plug_reading(plug, active, reactive, self.grid_voltage())

    def meter_reading(self) -> MeterReading:
        """Read the meter now."""
        return self._meter_reading(self.grid_voltage())

    def snapshot(self) -> Snapshot:
        """Read every load, plug and the meter at the current instant."""
        loads = {}
        plug_powers = {plug: [0.0, 0.0] for plug in self._plugs}
        for slot in self._slots:
            power = slot.power_w if self._supplied(slot) else 0.0
            reactive = power * slot.tan_phi
            loads[slot.appliance.name] = LoadReading(
                name=slot.appliance.name,
                plug=slot.plug,
                power_w=power,
                apparent_power_va=math.hypot(power, reactive),
                energy_wh=slot.energy_wh,
            )
            if slot.plug is not None:
                plug_powers[slot.plug][0] += power
                plug_powers[slot.plug][1] += reactive
        voltage = self.grid_voltage()
        plugs = {
            plug: self._plug_reading(plug, active, reactive, voltage)
            for plug, (active, reactive) in plug_powers.items()
        }
        return Snapshot(
            time=self.time, loads=loads, plugs=plugs, meter=self._meter_reading(voltage)
        )

    # -- internals ----------------------------------------------------------------------------

    def _plug(self, plug: str) -> _Plug:
        try:
            return self._plugs[plug]
        except KeyError:
            raise KeyError(f"no plug named {plug!r}") from None

    def _plug_reading(
        self, plug: str, active: float, reactive: float, grid_voltage: float
    ) -> PlugReading:
        state = self._plugs[plug]
        voltage = grid_voltage + state.voltage_offset_v
        apparent = math.hypot(active, reactive)
        return PlugReading(
            name=plug,
            on=state.on,
            power_w=active,
            apparent_power_va=apparent,
            current_a=apparent / voltage,
            voltage_v=voltage,
            energy_kwh=state.counter_wh / 1000,
        )

    def _supplied(self, slot: _Slot) -> bool:
        return slot.plug is None or self._plugs[slot.plug].on

    def _refresh(self, slot: _Slot, moment: float) -> None:
        if not self._held(slot, moment):
            slot.power_w = slot.appliance.demand_w(moment)
        slot.until = slot.appliance.next_change(moment, self._supplied(slot))

    def _powers(self) -> tuple[float, float]:
        active = reactive = 0.0
        for slot in self._slots:
            if self._supplied(slot):
                active += slot.power_w
                reactive += slot.power_w * slot.tan_phi
        return active, reactive

    @staticmethod
    def _apparent(active: float, reactive: float) -> tuple[float, float]:
        """Apparent power drawn and injected."""
        apparent = math.hypot(active, reactive)
        return (apparent, 0.0) if active >= 0 else (0.0, apparent)

    def _integrate_meter(self, active: float, reactive: float, duration_h: float) -> None:
        meter = self._meter
        if active >= 0:
            energy = active * duration_h
            if meter.period is TariffPeriod.OFF_PEAK:
                meter.off_peak_wh += energy
            else:
                meter.peak_wh += energy
            meter.curve_energy_wh += energy
        else:
            meter.export_wh -= active * duration_h
        meter.max_today_va = max(meter.max_today_va, self._apparent(active, reactive)[0])

    def _reset_meter_boundaries(self, moment: float) -> None:
        meter = self._meter
        meter.period = self.tariff.period_at(moment)
        meter.tariff_change = self.tariff.next_change(moment)
        meter.day_end = self.calendar.next_day_start(moment)
        meter.curve_end = (math.floor(moment / LOAD_CURVE_PERIOD_S) + 1) * LOAD_CURVE_PERIOD_S

    def _cross_meter_boundaries(self, moment: float) -> None:
        meter = self._meter
        if meter.curve_end <= moment + _EPSILON_S:
            meter.previous_curve_w = meter.curve_w
            meter.curve_w = meter.curve_energy_wh / (LOAD_CURVE_PERIOD_S / 3600)
            meter.curve_energy_wh = 0.0
        if meter.day_end <= moment + _EPSILON_S:
            meter.max_yesterday_va, meter.max_today_va = meter.max_today_va, 0.0
        self._reset_meter_boundaries(moment)
        meter.max_today_va = max(meter.max_today_va, self._apparent(*self._powers())[0])

    def _meter_reading(self, voltage: float) -> MeterReading:
        meter = self._meter
        active, reactive = self._powers()
        drawn, injected = self._apparent(active, reactive)
        return MeterReading(
            active_power_w=active,
            apparent_power_va=drawn,
            injected_apparent_power_va=injected,
            voltage_v=voltage,
            current_a=max(drawn, injected) / voltage,
            tariff_period=meter.period,
            off_peak_import_wh=meter.off_peak_wh,
            peak_import_wh=meter.peak_wh,
            export_wh=meter.export_wh,
            contract_va=self.contract_va,
            max_apparent_power_today_va=meter.max_today_va,
            max_apparent_power_yesterday_va=meter.max_yesterday_va,
            load_curve_w=meter.curve_w,
            previous_load_curve_w=meter.previous_curve_w,
        )
