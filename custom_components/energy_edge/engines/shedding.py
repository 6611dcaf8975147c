"""Load shedding against the contract power: a pure state machine fed with monotonic time.

Rules a user cares about:
- Overload: the measured load (the Linky's apparent power, in VA) above the shed threshold
  (default 100% of the contract limit) for the shed delay (default 2 s).
- What is shed: managed loads only (the user opts in), running and drawing at least the running
  threshold (default 10 W: a plug whose appliance is on standby frees nothing when shed), never a
  critical one. Lowest priority first (low, medium, then high); within a priority, the fewest loads
  whose last power covers the excess, and of equally few the smallest total (the least comfort
  lost). When a whole priority does not cover the excess, all of it goes and the next one makes up
  the rest. A load's power in W is taken as VA (power factor 1); where it draws more VA than W, the
  repeat makes up the difference: once the loads have confirmed they are off, readings taken
  afterwards that stay over the threshold for the shed delay shed more, until under it.
- Restoring: one load at a time, highest priority first and within a priority the most recently
  shed first (the reverse of shedding). The next load comes back when the measured load plus its
  last power stays under the restore threshold (default 80%) for the restore delay (default 60 s),
  judged on readings (the first and one taken a restore delay later, so that a meter read once a
  minute cannot restore on one old reading), and it has been off for the minimum off time
  (default 5 min). Shedding above 100% and restoring only with room to spare under 80% is the
  hysteresis that prevents flapping.
- A load switched by hand while shedding is under way is left as the user set it: neither shed
  nor restored until shedding is over (no load kept off any more and the load under threshold).
- Energy Edge's own scheduler switching a load at the start or end of a planned run is not the
  user's hand (`switch_for_schedule`): the load stays under these rules. Shedding has the last
  word: a run that starts while its load is kept off waits for the load to be restored, and a run
  that ends while its load is kept off releases it (it stays off and is not restored). A load the
  scheduler is turning off is not chosen for shedding: it is going anyway.
- A load that does not confirm OFF within the switch timeout (10 s) is flagged unresponsive and
  the next one is shed; if it turns off later it counts as shed and comes back as usual. A load
  that does not confirm ON is flagged and tried again after another restore delay.
- Silent meter (no reading for `meter_silence_timeout`): nothing is decided on a stale reading and
  the state is kept. Shed loads stay off while the meter is silent: restoring blind could overload
  the contract and trip the main breaker, cutting the whole home, critical loads included, which
  is worse than a deferred load kept off. The silence is reported (`MeterSilent`) so the user is
  told and can bring loads back with `restore_all`. When readings return, loads come back by the
  usual rules, after a full restore delay of fresh readings.
- Between the meter's readings (once a minute for a Linky), the measured load is the last reading
  plus the plugs' changes since (`estimate`): a load that starts is seen by its plug long before
  the meter, and acted upon with the same shed delay and hysteresis. Each meter reading replaces
  the estimate. Meter silence is judged on the meter's readings alone.
- Decisions are taken when something happens: a meter reading, a load's state, a user request.
  `next_deadline` tells when the passing of time alone could change a decision (shed delay or
  restore delay over, a switch timing out, the meter falling silent), for one call to `on_time`.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from itertools import combinations
import math

from .errors import RefusedError
from .estimate import Estimate, LoadEstimate

type MonotonicTime = float
"""Seconds on a monotonic clock (`time.monotonic()`), immune to changes of the wall clock."""


class Priority(StrEnum):
    """How much a load matters: critical loads are never shed."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SHED_ORDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH)
_RESTORE_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class ShedReason(StrEnum):
    """Why a load was turned off."""

    OVERLOAD = "overload"
    USER_REQUEST = "user_request"


class RestoreReason(StrEnum):
    """Why a load was turned back on."""

    HEADROOM = "headroom"
    USER_REQUEST = "user_request"


class LoadControl(StrEnum):
    """What Energy Edge is doing with a load."""

    NONE = "none"
    """Left alone."""
    TURNING_OFF = "turning_off"
    """OFF sent, waiting for the load to confirm."""
    SHED = "shed"
    TURNING_ON = "turning_on"
    """ON sent, waiting for the load to confirm."""
    OVERRIDDEN = "overridden"
    """Switched by hand while shedding: left as the user set it."""
    UNRESPONSIVE = "unresponsive"
    """Did not confirm OFF within the switch timeout."""


_KEPT_OFF = (LoadControl.TURNING_OFF, LoadControl.SHED, LoadControl.TURNING_ON)
_SWITCHING = (LoadControl.TURNING_OFF, LoadControl.TURNING_ON)


class SheddingErrorReason(StrEnum):
    """Why a user request was refused (a translation key for the user's message)."""

    UNKNOWN_LOAD = "unknown_load"
    CRITICAL_LOAD = "critical_load"
    NOT_RUNNING = "not_running"
    ALREADY_SHED = "already_shed"


class SheddingError(RefusedError[SheddingErrorReason]):
    """A refused user request, with the reason and a message for the user."""


DEFAULT_CONTRACT_LIMIT_VA = 6000.0
"""Without a limit set by the user or reported by the Linky (PREF/ISOUSC): a common 6 kVA."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SheddingSettings:
    """The contract and the timings of shedding; defaults as in the user documentation."""

    contract_limit_va: float = DEFAULT_CONTRACT_LIMIT_VA
    shed_threshold_pct: float = 100.0
    shed_delay: timedelta = timedelta(seconds=2)
    restore_threshold_pct: float = 80.0
    restore_delay: timedelta = timedelta(seconds=60)
    min_off_time: timedelta = timedelta(minutes=5)
    switch_timeout: timedelta = timedelta(seconds=10)
    meter_silence_timeout: timedelta = timedelta(minutes=3)
    running_threshold_w: float = 10.0
    """A load drawing less is idle (standby): shedding it would free nothing."""

    def __post_init__(self) -> None:
        if not math.isfinite(self.contract_limit_va) or self.contract_limit_va <= 0:
            raise ValueError(f"the contract limit must be > 0 VA, got {self.contract_limit_va!r}")
        if not 0 < self.restore_threshold_pct < self.shed_threshold_pct <= 1000:
            raise ValueError(
                "the restore threshold must be above 0% and below the shed threshold "
                f"(got {self.restore_threshold_pct}% and {self.shed_threshold_pct}%)"
            )
        if min(self.shed_delay, self.restore_delay, self.min_off_time) < timedelta(0):
            raise ValueError("delays and the minimum off time cannot be negative")
        if min(self.switch_timeout, self.meter_silence_timeout) <= timedelta(0):
            raise ValueError("the switch timeout and the meter silence timeout must be > 0")
        if not 0 <= self.running_threshold_w < math.inf:
            raise ValueError(
                f"the running threshold must be finite and >= 0 W, got {self.running_threshold_w!r}"
            )

    @property
    def shed_threshold_va(self) -> float:
        """Above this measured load, loads are shed after the shed delay."""
        return self.contract_limit_va * self.shed_threshold_pct / 100

    @property
    def restore_threshold_va(self) -> float:
        """A load comes back only if the measured load plus its power stays under this."""
        return self.contract_limit_va * self.restore_threshold_pct / 100


@dataclass(frozen=True, slots=True)
class TurnOff:
    """Command: send OFF to the load."""

    load_id: str
    reason: ShedReason


@dataclass(frozen=True, slots=True)
class TurnOn:
    """Command: send ON to the load."""

    load_id: str
    reason: RestoreReason


@dataclass(frozen=True, slots=True)
class OverloadStarted:
    """Event: the measured load stayed above the shed threshold for the shed delay."""

    measured_va: float
    shed_threshold_va: float
    contract_limit_va: float


@dataclass(frozen=True, slots=True)
class LoadShed:
    """Event: a load confirmed it is off."""

    load_id: str
    name: str
    power_w: float
    reason: ShedReason


@dataclass(frozen=True, slots=True)
class LoadRestored:
    """Event: a load confirmed it is back on."""

    load_id: str
    name: str
    power_w: float
    reason: RestoreReason


@dataclass(frozen=True, slots=True)
class LoadUnresponsive:
    """Event: a load did not confirm a command within the switch timeout."""

    load_id: str
    name: str
    expected_on: bool


@dataclass(frozen=True, slots=True)
class LoadOverridden:
    """Event: the user switched a load by hand while shedding; it is left as set."""

    load_id: str
    name: str
    is_on: bool


@dataclass(frozen=True, slots=True)
class MeterSilent:
    """Event: no meter reading for the silence timeout; decisions are suspended."""

    silent_for: timedelta


@dataclass(frozen=True, slots=True)
class MeterBack:
    """Event: readings are back after a silence."""

    silent_for: timedelta


type SheddingAction = (
    TurnOff
    | TurnOn
    | OverloadStarted
    | LoadShed
    | LoadRestored
    | LoadUnresponsive
    | LoadOverridden
    | MeterSilent
    | MeterBack
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadStatus:
    """What the engine knows of a load."""

    load_id: str
    name: str
    priority: Priority
    managed: bool
    is_on: bool | None
    power_w: float
    last_on_power_w: float
    """The last power drawn while on: what turning it back on would add."""
    control: LoadControl


@dataclass(frozen=True, slots=True, kw_only=True)
class SheddingStatus:
    """A snapshot for sensors: headroom, overload, shed loads."""

    measured_va: float | None
    """The last meter reading or the estimate since (`estimate`), None before the first
    reading and while the meter is silent."""
    estimate: Estimate | None
    """What the measured load rests on: the meter's reading and the plugs' changes since."""
    contract_limit_va: float
    overloaded: bool
    """The measured load is above the shed threshold."""
    meter_silent: bool
    loads: tuple[LoadStatus, ...]

    @property
    def headroom_va(self) -> float | None:
        """What can still be drawn before the contract limit (negative when over)."""
        return None if self.measured_va is None else self.contract_limit_va - self.measured_va

    @property
    def shed_loads(self) -> tuple[LoadStatus, ...]:
        """Loads Energy Edge keeps off (or is turning off or on), in the order they were shed;
        store their ids across a restart and hand them to `adopt_shed_loads`."""
        return tuple(load for load in self.loads if load.control in _KEPT_OFF)

    @property
    def unresponsive_loads(self) -> tuple[LoadStatus, ...]:
        """Loads that did not obey an OFF command."""
        return tuple(load for load in self.loads if load.control is LoadControl.UNRESPONSIVE)


@dataclass(slots=True, kw_only=True)
class _Load:
    load_id: str
    name: str
    priority: Priority
    managed: bool
    is_on: bool | None = None
    power_w: float = 0.0
    last_on_power_w: float = 0.0
    control: LoadControl = LoadControl.NONE
    command_sent_at: MonotonicTime = 0.0
    off_since: MonotonicTime = 0.0
    shed_sequence: int = 0
    shed_reason: ShedReason = ShedReason.OVERLOAD
    restore_reason: RestoreReason = RestoreReason.HEADROOM
    scheduled_on: bool | None = None
    """The state the scheduler just commanded: its confirmation is not the user's hand."""
    scheduled_at: MonotonicTime = 0.0
    shown: LoadStatus | None = field(default=None, compare=False, repr=False)
    """The last status made: made again only when what it shows changed (sensors ask for the
    status of every load at each decision)."""

    def sheddable(self, running_threshold_w: float) -> bool:
        return (
            self.managed
            and self.priority is not Priority.CRITICAL
            and self.is_on is True
            and self.control is LoadControl.NONE
            and self.power_w > 0
            and self.power_w >= running_threshold_w
        )

    def status(self) -> LoadStatus:
        shown = self.shown
        if (
            shown is None
            or shown.power_w != self.power_w
            or shown.is_on is not self.is_on
            or shown.control is not self.control
            or shown.last_on_power_w != self.last_on_power_w
            or shown.priority is not self.priority
            or shown.managed is not self.managed
            or shown.name != self.name
        ):
            shown = self.shown = LoadStatus(
                load_id=self.load_id,
                name=self.name,
                priority=self.priority,
                managed=self.managed,
                is_on=self.is_on,
                power_w=self.power_w,
                last_on_power_w=self.last_on_power_w,
                control=self.control,
            )
        return shown


class LoadShedder:
    """Decides which loads to turn off and on to keep the home under its contract power.

    Every method taking `now` returns the actions to carry out, in order: commands (`TurnOff`,
    `TurnOn`) to send to the loads and events to report.
    """

    def __init__(self, now: MonotonicTime, settings: SheddingSettings | None = None) -> None:
        self._settings = settings or SheddingSettings()
        self._now = now
        self._started_at = now
        self._loads: dict[str, _Load] = {}
        self._by_id: list[_Load] | None = None  # the loads by id, for `status`
        self._reading_va: float | None = None
        self._reading_at: MonotonicTime | None = None
        """The measured load decisions rest on (a meter reading or the estimate) and its time."""
        self._meter_at: MonotonicTime | None = None
        self._estimate = LoadEstimate()
        self._meter_silent = False
        self._settled_at: MonotonicTime = -math.inf
        """When the last switch took effect: readings up to then do not reflect it."""
        self._over_since: MonotonicTime | None = None
        self._overload_reported = False
        self._restore_since: MonotonicTime | None = None
        self._restore_candidate: str | None = None
        self._shed_count = 0

    @property
    def settings(self) -> SheddingSettings:
        """The settings in force."""
        return self._settings

    @property
    def measured_va(self) -> float | None:
        """The measured load decisions rest on (as in `status`), cheaply."""
        return None if self._meter_silent else self._reading_va

    def update_settings(
        self, now: MonotonicTime, settings: SheddingSettings
    ) -> list[SheddingAction]:
        """Apply new settings (e.g. a new contract limit) and decide again."""
        self._advance(now)
        self._settings = settings
        return self._evaluate(now)

    def set_load(self, load_id: str, *, name: str, priority: Priority, managed: bool) -> None:
        """Add a switchable load, or change its name, priority or managed flag. A load already
        shed stays shed and comes back by the usual rules, whatever its new settings."""
        load = self._loads.get(load_id)
        if load is None:
            self._loads[load_id] = _Load(
                load_id=load_id, name=name, priority=priority, managed=managed
            )
            self._by_id = None
        else:
            load.name, load.priority, load.managed = name, priority, managed

    def remove_load(self, load_id: str) -> None:
        """Forget a load (device removed)."""
        self._loads.pop(load_id, None)
        self._by_id = None
        if self._estimate.forget(load_id):
            self._follow_estimate(self._now)
        if self._restore_candidate == load_id:
            self._restore_candidate = self._restore_since = None

    def on_load_state(
        self,
        now: MonotonicTime,
        load_id: str,
        *,
        is_on: bool | None = None,
        power_w: float | None = None,
    ) -> list[SheddingAction]:
        """A load reported its state and/or its power."""
        load = self._load(load_id)
        if power_w is not None and (not math.isfinite(power_w) or power_w < 0):
            raise ValueError(f"the power of {load.name} must be finite and >= 0, got {power_w!r}")
        self._advance(now)
        actions: list[SheddingAction] = []
        if is_on is not None and is_on != load.is_on:
            was_known = load.is_on is not None
            load.is_on = is_on
            if was_known:
                actions.extend(self._switched(now, load))
        if power_w is not None:
            load.power_w = power_w
            if power_w > 0 and load.is_on is not False:
                load.last_on_power_w = power_w
        if (is_on is not None or power_w is not None) and self._estimate.plug_read(
            load_id, 0.0 if load.is_on is False else load.power_w
        ):
            self._follow_estimate(now)
        actions.extend(self._evaluate(now))
        return actions

    def note_load_power(
        self,
        now: MonotonicTime,
        load_id: str,
        *,
        is_on: bool | None = None,
        power_w: float | None = None,
    ) -> bool:
        """Take a load's report if it cannot lead to any decision (the common case: a load left
        alone reports its power again while the home, as measured or estimated from the plugs,
        stays under its limit), so its deadlines stay as they are; False when it might, and
        `on_load_state` must have it."""
        load = self._loads.get(load_id)
        if (
            load is None
            or load.control is not LoadControl.NONE
            or (is_on is not None and is_on != load.is_on)
            or self._over_since is not None
            or power_w is None
            or not math.isfinite(power_w)
            or power_w < 0
            or now < self._now
        ):
            return False
        draw_va = 0.0 if load.is_on is False else power_w
        if self._estimate.moves(load_id, draw_va):
            # A new draw moves the estimate of the home's load: quiet while the new estimate stays
            # under the shed threshold (a shed load's return is judged at the next meter reading
            # or timer, on the estimate then).
            self._estimate.plug_read(load_id, draw_va)
            self._follow_estimate(now)
            if self._reading_va is not None and self._reading_va > self._settings.shed_threshold_va:
                return False  # `on_load_state` decides on the estimate it now holds
        else:
            self._estimate.plug_read(load_id, draw_va)
        self._now = now
        load.power_w = power_w
        if power_w > 0 and load.is_on is not False:
            load.last_on_power_w = power_w
        return True

    def load_unavailable(self, load_id: str) -> None:
        """A load's plug fell silent: its change since the last meter reading stands until the
        next reading (see `estimate`)."""
        self._estimate.plug_silent(load_id)

    def on_meter_reading(self, now: MonotonicTime, measured_va: float) -> list[SheddingAction]:
        """The meter reported the home's load (apparent power, VA)."""
        if not math.isfinite(measured_va) or measured_va < 0:
            raise ValueError(f"the measured load must be finite and >= 0 VA, got {measured_va!r}")
        self._advance(now)
        actions: list[SheddingAction] = []
        self._check_meter(now, actions)
        if self._meter_silent:
            self._meter_silent = False
            actions.append(MeterBack(silent_for=timedelta(seconds=now - self._last_heard())))
        self._reading_va, self._reading_at = measured_va, now
        self._meter_at = now
        self._estimate.meter_read(now, measured_va)
        actions.extend(self._evaluate(now))
        return actions

    def on_time(self, now: MonotonicTime) -> list[SheddingAction]:
        """Time passed (call at `next_deadline`): delays over, switch timeouts, meter silence."""
        self._advance(now)
        return self._evaluate(now)

    def next_deadline(self) -> MonotonicTime | None:
        """The next instant at which `on_time` could decide something, if any."""
        settings = self._settings
        deadlines = [
            load.command_sent_at + settings.switch_timeout.total_seconds()
            for load in self._loads.values()
            if load.control in _SWITCHING
        ]
        if not self._meter_silent:
            deadlines.append(self._last_heard() + settings.meter_silence_timeout.total_seconds())
        reading = self._fresh_reading()
        if reading is not None and not self._switching():
            if self._over_since is not None:
                deadlines.append(self._over_since + settings.shed_delay.total_seconds())
            head = self._restore_head()
            # The restore delay is over when a reading says so; time alone ends the off time.
            if (
                self._restore_since is not None
                and head is not None
                and reading[1] >= self._restore_since + settings.restore_delay.total_seconds()
            ):
                deadlines.append(head.off_since + settings.min_off_time.total_seconds())
        return min((d for d in deadlines if d > self._now), default=None)

    def shed_now(self, now: MonotonicTime, load_id: str) -> list[SheddingAction]:
        """The user asks to shed a load now (it comes back by the usual rules)."""
        self._advance(now)
        load = self._load(load_id)
        if load.priority is Priority.CRITICAL:
            raise SheddingError(
                SheddingErrorReason.CRITICAL_LOAD, f"{load.name} is critical: it is never shed"
            )
        if load.control in (LoadControl.TURNING_OFF, LoadControl.SHED):
            raise SheddingError(SheddingErrorReason.ALREADY_SHED, f"{load.name} is already shed")
        if load.is_on is not True:
            raise SheddingError(SheddingErrorReason.NOT_RUNNING, f"{load.name} is not running")
        self._command_off(now, load, ShedReason.USER_REQUEST)
        return [TurnOff(load.load_id, ShedReason.USER_REQUEST), *self._evaluate(now)]

    def switch_for_schedule(self, now: MonotonicTime, load_id: str, *, on: bool) -> bool:
        """Energy Edge's scheduler switches a load at the start (`on`) or end of a planned run;
        returns whether to send the command. The state that follows is not taken for the
        user's hand. A load kept off is not turned on (it comes back by the usual rules); at
        the end of a run, a load kept off is released: it stays off and is not restored."""
        self._advance(now)
        load = self._load(load_id)
        kept_off = load.control in _KEPT_OFF
        if on and kept_off:
            return False
        if kept_off or load.control is LoadControl.OVERRIDDEN:
            load.control = LoadControl.NONE  # the scheduler's word replaces the user's
            if self._restore_candidate == load_id:
                self._restore_candidate = self._restore_since = None
        if load.is_on is not on:
            load.scheduled_on, load.scheduled_at = on, now
        return True

    def restore_all(self, now: MonotonicTime) -> list[SheddingAction]:
        """The user asks to bring every shed load back now, whatever the delays and the meter."""
        self._advance(now)
        actions: list[SheddingAction] = []
        for load in self._restore_order():
            self._command_on(now, load, RestoreReason.USER_REQUEST)
            actions.append(TurnOn(load.load_id, RestoreReason.USER_REQUEST))
        actions.extend(self._evaluate(now))
        return actions

    def adopt_shed_loads(
        self, now: MonotonicTime, last_on_power_w: Mapping[str, float]
    ) -> list[str]:
        """After a restart, take back the loads that were shed before it, given as load id ->
        last power while on, in the order they were shed (from `SheddingStatus.shed_loads`).
        They come back by the usual rules; their minimum off time starts again now. Returns
        the ids adopted: loads known and not reported on (one on was switched on meanwhile)."""
        self._advance(now)
        adopted = []
        for load_id, power_w in last_on_power_w.items():
            load = self._loads.get(load_id)
            if load is None or load.is_on is True or load.control is not LoadControl.NONE:
                continue
            load.is_on, load.last_on_power_w = False, power_w
            self._shed_count += 1
            load.control, load.off_since, load.shed_sequence = (
                LoadControl.SHED,
                now,
                self._shed_count,
            )
            adopted.append(load_id)
        return adopted

    def status(self) -> SheddingStatus:
        """A snapshot for sensors: the loads kept off in the order they were shed, then the
        others by id."""
        measured = None if self._meter_silent else self._reading_va
        if self._by_id is None:  # loads come and go rarely: sorted once
            self._by_id = sorted(self._loads.values(), key=lambda load: load.load_id)
        kept_off = [load for load in self._by_id if load.control in _KEPT_OFF]
        kept_off.sort(key=lambda load: load.shed_sequence)
        loads = kept_off + [load for load in self._by_id if load.control not in _KEPT_OFF]
        return SheddingStatus(
            measured_va=measured,
            estimate=None if measured is None else self._estimate.current,
            contract_limit_va=self._settings.contract_limit_va,
            overloaded=measured is not None and measured > self._settings.shed_threshold_va,
            meter_silent=self._meter_silent,
            loads=tuple(load.status() for load in loads),
        )

    def _advance(self, now: MonotonicTime) -> None:
        if now < self._now:
            raise ValueError(f"monotonic time went backwards: {now} after {self._now}")
        self._now = now

    def _load(self, load_id: str) -> _Load:
        try:
            return self._loads[load_id]
        except KeyError:
            raise SheddingError(
                SheddingErrorReason.UNKNOWN_LOAD, f"no switchable load {load_id!r}"
            ) from None

    def _last_heard(self) -> MonotonicTime:
        return self._started_at if self._meter_at is None else self._meter_at

    def _follow_estimate(self, now: MonotonicTime) -> None:
        """The plugs moved the estimate: it is the measured load from now on."""
        estimate = self._estimate.current
        if estimate is not None and not self._meter_silent:
            self._reading_va, self._reading_at = estimate.load_va, now

    def _switching(self) -> bool:
        return any(load.control in _SWITCHING for load in self._loads.values())

    def _fresh_reading(self) -> tuple[float, MonotonicTime] | None:
        """The last reading and its time, if the meter is not silent and the reading reflects
        the last switch."""
        if self._reading_va is None or self._reading_at is None or self._meter_silent:
            return None
        if self._reading_at <= self._settled_at:
            return None
        return self._reading_va, self._reading_at

    def _evaluate(self, now: MonotonicTime) -> list[SheddingAction]:
        actions: list[SheddingAction] = []
        self._check_switches(now, actions)
        self._check_meter(now, actions)
        reading = self._fresh_reading()
        if reading is None or self._switching():
            return actions
        measured, reading_at = reading
        settings = self._settings
        if measured > settings.shed_threshold_va:
            self._restore_since = None
            if self._over_since is None:
                self._over_since = reading_at
            if now >= self._over_since + settings.shed_delay.total_seconds():
                if not self._overload_reported:
                    self._overload_reported = True
                    actions.append(
                        OverloadStarted(
                            measured, settings.shed_threshold_va, settings.contract_limit_va
                        )
                    )
                actions.extend(self._shed(now, measured - settings.shed_threshold_va))
        else:
            self._over_since = None
            self._overload_reported = False
            actions.extend(self._restore_next(now, measured, reading_at))
            if not any(load.control in _KEPT_OFF for load in self._loads.values()):
                for load in self._loads.values():  # shedding is over: the user's hand is free
                    load.control = LoadControl.NONE
        return actions

    def _check_switches(self, now: MonotonicTime, actions: list[SheddingAction]) -> None:
        timeout = self._settings.switch_timeout.total_seconds()
        for load in self._loads.values():
            if load.control not in _SWITCHING or now < load.command_sent_at + timeout:
                continue
            expected_on = load.control is LoadControl.TURNING_ON
            if expected_on:  # stays shed, tried again after a restore delay of fresh readings
                load.control = LoadControl.SHED
                self._settle(now)
            else:
                load.control = LoadControl.UNRESPONSIVE
            actions.append(LoadUnresponsive(load.load_id, load.name, expected_on))

    def _check_meter(self, now: MonotonicTime, actions: list[SheddingAction]) -> None:
        silent_for = now - self._last_heard()
        if (
            not self._meter_silent
            and silent_for >= self._settings.meter_silence_timeout.total_seconds()
        ):
            self._meter_silent = True
            self._over_since = self._restore_since = None
            actions.append(MeterSilent(silent_for=timedelta(seconds=silent_for)))

    def _switched(self, now: MonotonicTime, load: _Load) -> list[SheddingAction]:
        """A load changed state: confirmation of a command, or the user's hand."""
        if load.scheduled_on is not None:
            scheduled = self._scheduler_switching(now, load)
            if load.is_on is load.scheduled_on or not scheduled:
                load.scheduled_on = None
            if scheduled:  # the scheduler's switch (or a step on its way), not the user's hand
                self._settle(now)
                return []
        if not load.is_on and load.control in (LoadControl.TURNING_OFF, LoadControl.UNRESPONSIVE):
            load.control, load.off_since = LoadControl.SHED, now
            self._settle(now)
            return [LoadShed(load.load_id, load.name, load.last_on_power_w, load.shed_reason)]
        if load.is_on and load.control is LoadControl.TURNING_ON:
            load.control = LoadControl.NONE
            self._settle(now)
            return [
                LoadRestored(load.load_id, load.name, load.last_on_power_w, load.restore_reason)
            ]
        shedding = any(other.control is not LoadControl.NONE for other in self._loads.values())
        if load.control is LoadControl.SHED or (
            load.control is LoadControl.NONE and load.managed and shedding
        ):
            load.control = LoadControl.OVERRIDDEN
            self._settle(now)
            return [LoadOverridden(load.load_id, load.name, bool(load.is_on))]
        return []

    def _scheduler_switching(self, now: MonotonicTime, load: _Load) -> bool:
        """The scheduler switched the load and its answer may still come."""
        timeout = self._settings.switch_timeout.total_seconds()
        return load.scheduled_on is not None and now <= load.scheduled_at + timeout

    def _settle(self, now: MonotonicTime) -> None:
        """A switch took effect: judge the load again on readings taken from now on."""
        self._settled_at = now
        self._over_since = self._restore_since = None

    def _shed(self, now: MonotonicTime, excess_va: float) -> list[SheddingAction]:
        threshold_w = self._settings.running_threshold_w
        candidates = [  # a load the scheduler is turning off is going anyway
            load
            for load in self._loads.values()
            if load.sheddable(threshold_w) and not self._scheduler_switching(now, load)
        ]
        chosen = _fewest_covering_by_priority(candidates, excess_va)
        for load in chosen:
            self._command_off(now, load, ShedReason.OVERLOAD)
        return [TurnOff(load.load_id, ShedReason.OVERLOAD) for load in chosen]

    def _restore_next(
        self, now: MonotonicTime, measured_va: float, reading_at: MonotonicTime
    ) -> list[SheddingAction]:
        settings = self._settings
        head = self._restore_head()
        if head is None or measured_va + head.last_on_power_w >= settings.restore_threshold_va:
            self._restore_since = self._restore_candidate = None
            return []
        if self._restore_candidate != head.load_id or self._restore_since is None:
            self._restore_candidate, self._restore_since = head.load_id, reading_at
        # Readings must span the restore delay: the room seen at the first one may be gone by
        # now, and a meter read once a minute says so only at its next reading.
        if (
            reading_at >= self._restore_since + settings.restore_delay.total_seconds()
            and now >= head.off_since + settings.min_off_time.total_seconds()
        ):
            self._command_on(now, head, RestoreReason.HEADROOM)
            return [TurnOn(head.load_id, RestoreReason.HEADROOM)]
        return []

    def _restore_order(self) -> list[_Load]:
        shed = [load for load in self._loads.values() if load.control is LoadControl.SHED]
        return sorted(shed, key=lambda load: (_RESTORE_RANK[load.priority], -load.shed_sequence))

    def _restore_head(self) -> _Load | None:
        order = self._restore_order()
        return order[0] if order else None

    def _command_off(self, now: MonotonicTime, load: _Load, reason: ShedReason) -> None:
        self._shed_count += 1
        load.control, load.command_sent_at = LoadControl.TURNING_OFF, now
        load.shed_sequence, load.shed_reason = self._shed_count, reason

    def _command_on(self, now: MonotonicTime, load: _Load, reason: RestoreReason) -> None:
        load.control, load.command_sent_at = LoadControl.TURNING_ON, now
        load.restore_reason = reason
        self._restore_since = self._restore_candidate = None


_MAX_SUBSETS_TRIED = 2_000  # a few milliseconds of Python at most


def _fewest_covering_by_priority(candidates: Sequence[_Load], excess_va: float) -> list[_Load]:
    """Lowest priority first; a priority that cannot cover what is left goes whole."""
    chosen: list[_Load] = []
    for priority in SHED_ORDER:
        group = [load for load in candidates if load.priority is priority]
        total = _power(group)
        if total < excess_va:
            chosen.extend(group)
            excess_va -= total
            continue
        chosen.extend(_fewest_covering(group, excess_va))
        break
    return chosen


def _fewest_covering(group: Sequence[_Load], excess_va: float) -> list[_Load]:
    """The fewest loads whose power covers the excess; of equally few, the smallest total when
    the choice is small enough to try every one (a handful of loads), else a close one."""
    ordered = sorted(group, key=lambda load: (-load.power_w, load.load_id))
    # The largest loads first tell how few can do; the caller knows all of them can.
    count = next(n for n in range(1, len(ordered) + 1) if _power(ordered[:n]) >= excess_va)
    if math.comb(len(ordered), count) > _MAX_SUBSETS_TRIED:
        return _few_covering(ordered, count, excess_va)
    covering = (s for s in combinations(ordered, count) if _power(s) >= excess_va)
    return list(min(covering, key=_power))


def _few_covering(ordered: Sequence[_Load], count: int, excess_va: float) -> list[_Load]:
    """`count` loads covering the excess, taken one by one: each the smallest that still lets
    the largest of the others complete the cover. Linear in loads per load taken, so that
    a home with dozens of small loads never stalls the event loop (trying every subset
    of 100 loads among 180 would never end)."""
    remaining = list(ordered)  # largest first
    chosen: list[_Load] = []
    covered = 0.0
    for left in range(count, 0, -1):
        # The `left - 1` largest remaining loads, without the candidate, complete the cover.
        largest = _power(remaining[: left - 1])
        for index in range(len(remaining) - 1, -1, -1):  # the smallest first
            others = largest
            if index < left - 1:  # the candidate is among them: the next largest replaces it
                others += remaining[left - 1].power_w - remaining[index].power_w
            if covered + remaining[index].power_w + others >= excess_va:
                covered += remaining[index].power_w
                chosen.append(remaining.pop(index))
                break
    return chosen


def _power(loads: Iterable[_Load]) -> float:
    return sum(load.power_w for load in loads)
