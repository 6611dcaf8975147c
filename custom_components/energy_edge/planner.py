"""Deferrable loads in Home Assistant: runs planned by the `scheduling` engine, then carried out.

A run is planned in the cheapest window before its deadline (`plan_run`), under the tariff's
calendar and the known Tempo colours, leaving room under the contract limit for the home's usual
load at those hours (`load_profile`) and for the runs already planned. The usual load is learned
from the measured load (the one shedding watches), less the loads of the runs under way: a run
planned every night must not teach the planner that its own hours are busy.
The load is switched on at the start and off at the end. Runs are stored: after a restart a
waiting run waits on, a run under way goes on until its end, a run whose end passed while Home
Assistant was stopped is switched off, and a run that never started is dropped (with a warning:
its window is gone). One timer per run, at its next start or end. Shedding has the last
word: a run starting while its load is shed waits for the load to be restored, and a run ending
while its load is shed leaves it off (see `shedding`).
"""

from datetime import datetime, timedelta
from functools import partial
import logging

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .engines.scheduling import MAX_HORIZON, LoadForecast, PlannedRun, RunPhase, plan_run
from .hub import DeviceUpdate, EnergyEdgeHub
from .lifecycle import Lifecycle
from .load_control import LoadController, is_switchable_load
from .pricing import Pricing
from .storage import LoadProfileStore, ManagementStore, StoredRun

_LOGGER = logging.getLogger(__package__)


class RunPlanner:
    """The planned run of each deferrable load, carried out on time."""

    def __init__(
        self,
        hass: HomeAssistant,
        hub: EnergyEdgeHub,
        store: ManagementStore,
        pricing: Pricing,
        controller: LoadController,
        *,
        usual_load: LoadProfileStore,
    ) -> None:
        """Nothing runs before `async_start`."""
        self.hass = hass
        self.hub = hub
        self.usual_load = usual_load
        self._store = store
        self._pricing = pricing
        self._controller = controller
        self._lifecycle = Lifecycle(hass)  # a timer per load, at its run's next start or end
        self._waiting_for_device: set[str] = set()

    @property
    def _runs(self) -> dict[str, StoredRun]:
        return self._store.state.runs

    def run(self, ieee: str) -> StoredRun | None:
        """A load's planned run, if any (waiting or under way)."""
        return self._runs.get(ieee)

    @callback
    def async_start(self) -> None:
        """Carry on with the stored runs, each once Zigbee2MQTT has told of its load (it may
        have to be switched at once)."""
        self._waiting_for_device = set(self._runs)
        self._lifecycle.follow(
            self.hub.async_add_change_listener(self._resume),
            self.hub.async_add_reading_listener(self._learn_usual_load),
        )
        self._resume()

    @callback
    def async_stop(self) -> None:
        """Cancel the timers; the runs stay stored."""
        self._lifecycle.async_stop()

    @callback
    def _resume(self) -> None:
        for ieee in list(self._waiting_for_device):
            device = self.hub.device(ieee)
            if device is not None and is_switchable_load(device) and ieee in self._runs:
                self._waiting_for_device.discard(ieee)
                self._advance(ieee)

    @callback
    def _learn_usual_load(self, update: DeviceUpdate) -> None:
        """The measured load, less what the runs under way draw, feeds the usual load."""
        if (measured := self.hub.measured_load_va(update)) is None:
            return
        for ieee, item in self._runs.items():
            status = self.hub.status(ieee)
            if item.started and status is not None and status.power_w is not None:
                measured -= status.power_w
        if self.usual_load.profile.record(self._pricing.now(), measured):
            self.usual_load.save()

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when a run is planned, starts, ends or is cancelled."""
        return self._lifecycle.async_add_listener(listener)

    def expected_power_w(self, ieee: str) -> float | None:
        """What a load draws when on, as last seen (None if never seen on)."""
        load = next((x for x in self._controller.status().loads if x.load_id == ieee), None)
        return load.last_on_power_w if load is not None and load.last_on_power_w > 0 else None

    async def async_plan(
        self, ieee: str, *, duration: timedelta, deadline: datetime, power_w: float
    ) -> PlannedRun:
        """Plan a load's run (replacing its previous plan); a `SchedulingError` says why not.

        The search runs in the executor (milliseconds for a week, see `scripts/bench-scheduling`)
        so that the event loop never waits for it.
        """
        now = self._pricing.now()
        others = tuple(
            item.run.as_expected_load() for load, item in self._runs.items() if load != ieee
        )
        until = min(max(deadline, now), now + MAX_HORIZON)  # plan_run refuses a further deadline
        usual = self.usual_load.profile.expected_loads(now, until)
        run = await self.hass.async_add_executor_job(
            partial(
                plan_run,
                load_id=ieee,
                power_w=power_w,
                duration=duration,
                deadline=deadline,
                earliest_start=now,
                prices=self._pricing.tariff.price_calendar(now, until, self._pricing.colors),
                contract_limit_va=self._controller.engine.settings.contract_limit_va,
                forecast=LoadForecast(extras=usual + others),
            )
        )
        self.cancel(ieee)
        self._waiting_for_device.discard(ieee)
        self._runs[ieee] = StoredRun(run)
        _LOGGER.info("%s will run from %s to %s", self._name(ieee), run.start, run.end)
        self._advance(ieee)
        self._changed()
        return run

    @callback
    def cancel(self, ieee: str) -> bool:
        """Cancel a load's run (switching it off if it is under way); False if there was none."""
        item = self._runs.pop(ieee, None)
        if item is None:
            return False
        self._lifecycle.cancel(ieee)
        if item.started:
            self._switch(ieee, on=False)
        self._changed()
        return True

    @callback
    def _advance(self, ieee: str) -> None:
        """Do what the run's phase asks now, then wait for its next start or end."""
        item = self._runs[ieee]
        now = self._pricing.now()
        phase = item.run.phase_at(now)
        if phase is RunPhase.RUNNING and not item.started:
            item.started = True
            self._switch(ieee, on=True)
            self._changed()
        elif phase is RunPhase.DONE:
            del self._runs[ieee]
            if item.started:
                self._switch(ieee, on=False)
            else:
                _LOGGER.warning(
                    "The run of %s planned from %s to %s was missed (Home Assistant was stopped)",
                    self._name(ieee),
                    item.run.start,
                    item.run.end,
                )
            self._changed()
            return
        until = item.run.start if phase is RunPhase.WAITING else item.run.end
        self._lifecycle.call_later(
            (until - now).total_seconds(), partial(self._on_timer, ieee), key=ieee
        )

    @callback
    def _on_timer(self, ieee: str) -> None:
        if ieee in self._runs:
            self._advance(ieee)

    @callback
    def _switch(self, ieee: str, *, on: bool) -> None:
        self._controller.switch_for_schedule(ieee, on=on)

    def _name(self, ieee: str) -> str:
        device = self.hub.device(ieee)
        return device.friendly_name if device else ieee

    @callback
    def _changed(self) -> None:
        self._store.save()
        self._lifecycle.notify()
