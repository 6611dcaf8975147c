"""Load shedding in Home Assistant: the `shedding` engine fed by the hub, its commands sent.

Decisions stay in `LoadShedder`; this layer only wires it:
- Readings are pushed: a reading of the grid meter (its apparent power in VA, else its power)
  is a meter reading; without a grid meter, any device's reading makes the home's power one.
  Between meter readings the engine estimates the home's load from the plugs' changes since the
  last one (`estimate`); a plug that becomes unavailable is told to it.
  A switchable load's own state messages tell the engine its power and whether it is on, which
  is also how a load switched by hand is recognised; the planner's switching is told to the
  engine first (`switch_for_schedule`), so it is not taken for the user's hand.
- Time-driven decisions (the shed and restore delays, a load not obeying within 10 s, the meter
  falling silent) run at the engine's `next_deadline`, with one timer: no polling.
- `TurnOff`/`TurnOn` go to the load's Z2M `/set` topic through the hub; events go on HA's bus;
  a load that does not obey gets a repair issue until it does. The grid meter's silence is
  reported by the hub's repair issue; meanwhile loads kept off stay off (see `shedding`).
- The loads kept off are stored; after a restart they are adopted again, and come back by the
  usual rules. Priorities and managed flags are stored too.
Monotonic time comes from `monotonic`, which tests replace.
"""

from collections.abc import Callable
from functools import partial
import logging
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util

from zigbee2mqtt_protocol.discovery import ZIGBEE2MQTT_IDENTIFIER_PREFIX

from .const import (
    DOMAIN,
    EVENT_LOAD_RESTORED,
    EVENT_LOAD_SHED,
    EVENT_OVERLOAD,
    MQTT_DOMAIN,
)
from .engines.devices import DeviceRole, EnergyDevice
from .engines.options import CONF_CONTRACT_LIMIT, shedding_settings
from .engines.shedding import (
    LoadOverridden,
    LoadRestored,
    LoadShed,
    LoadShedder,
    LoadUnresponsive,
    MeterBack,
    MeterSilent,
    OverloadStarted,
    Priority,
    SheddingAction,
    SheddingStatus,
    TurnOff,
    TurnOn,
)
from .hub import DeviceUpdate, EnergyEdgeHub
from .lifecycle import Lifecycle
from .storage import LoadSetting, ManagementStore

_LOGGER = logging.getLogger(__package__)


def is_switchable_load(device: EnergyDevice) -> bool:
    """A metered device Energy Edge can switch off and on."""
    return device.role is DeviceRole.SWITCHABLE_LOAD and device.plan.switch is not None


class LoadController:
    """Keeps the home under its contract power by switching managed loads off and back on."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        hub: EnergyEdgeHub,
        store: ManagementStore,
    ) -> None:
        """Prepare; nothing is followed before `async_start`."""
        self.hass = hass
        self.entry = entry
        self.hub = hub
        self.monotonic: Callable[[], float] = time.monotonic
        self._store = store
        self._explicit_options = dict(entry.options)
        self.engine = LoadShedder(self.monotonic(), shedding_settings(self._explicit_options, None))
        self._settings_listeners: list[CALLBACK_TYPE] = []
        self._lifecycle = Lifecycle(hass)
        self._timer_deadline: float | None = None
        self._status: SheddingStatus | None = None  # computed once per change, for every reader
        self._estimate_shown_later = False  # a deferred notice of the estimate is pending
        self._to_adopt = dict(store.state.shed)  # kept off before the restart, not seen yet
        self._loads: set[str] = set()
        self._meter_read_at: float | None = None  # the hub's clock (epoch seconds)

    def status(self) -> SheddingStatus:
        """Headroom, overload and the loads kept off, for entities and diagnostics."""
        if self._status is None:
            self._status = self.engine.status()
        return self._status

    def estimate_source(self) -> str | None:
        """What the measured load rests on, for diagnostics: "meter", or "meter + plugs since
        HH:MM:SS" (local time of the meter reading); None without a reading."""
        estimate = self.status().estimate
        if estimate is None or self._meter_read_at is None:
            return None
        if not estimate.from_plugs:
            return "meter"
        read_at = dt_util.as_local(dt_util.utc_from_timestamp(self._meter_read_at))
        return f"meter + plugs since {read_at:%H:%M:%S}"

    def setting(self, ieee: str) -> LoadSetting:
        """A load's priority and managed flag (the defaults until the user changes them)."""
        return self._store.state.loads.get(ieee) or LoadSetting()

    @callback
    def async_start(self) -> None:
        """Take the loads the hub knows, adopt those kept off before a restart, and listen."""
        self._lifecycle.follow(
            # Shedding decides before the entities write their states: an overload waits for
            # nothing.
            self.hub.async_add_reading_listener(self._on_reading, urgent=True),
            self.hub.async_add_change_listener(self._sync_loads),
        )
        self._sync_loads()

    @callback
    def async_stop(self) -> None:
        """Stop listening and cancel the timer; the state is stored already."""
        self._lifecycle.async_stop()
        ir.async_delete_issue(self.hass, DOMAIN, self._no_managed_load_issue)

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` after every decision or change of settings."""
        return self._lifecycle.async_add_listener(listener)

    @callback
    def async_add_settings_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` after a change of a load's settings only: the two entities of every
        load follow them, and need not hear of each decision."""
        self._settings_listeners.append(listener)
        return partial(self._settings_listeners.remove, listener)

    # ---- user requests --------------------------------------------------------------------

    @callback
    def set_load(
        self, ieee: str, *, priority: Priority | None = None, managed: bool | None = None
    ) -> None:
        """Change a load's priority or managed flag (stored at once)."""
        current = self.setting(ieee)
        setting = LoadSetting(
            current.priority if priority is None else priority,
            current.managed if managed is None else managed,
        )
        self._store.state.loads[ieee] = setting
        self._store.save()
        device = self.hub.device(ieee)
        if device is not None and is_switchable_load(device):
            self.engine.set_load(
                ieee, name=device.friendly_name, priority=setting.priority, managed=setting.managed
            )
        self._report_no_managed_load()
        for listener in list(self._settings_listeners):
            listener()
        self._carry_out(self.engine.on_time(self.monotonic()))

    @callback
    def set_contract_limit(self, limit_va: float) -> None:
        """A contract limit chosen by the user (number entity or service), kept in the options."""
        self._explicit_options[CONF_CONTRACT_LIMIT] = limit_va
        self.hass.config_entries.async_update_entry(
            self.entry, options={**self.entry.options, CONF_CONTRACT_LIMIT: limit_va}
        )
        self._apply_settings()

    @callback
    def shed_now(self, ieee: str) -> None:
        """Shed one load now; a `SheddingError` says why not."""
        self._carry_out(self.engine.shed_now(self.monotonic(), ieee))

    @callback
    def restore_all(self) -> None:
        """Bring every load kept off back now."""
        self._carry_out(self.engine.restore_all(self.monotonic()))

    # ---- following the hub ------------------------------------------------------------------

    @callback
    def _sync_loads(self) -> None:
        """Loads come and go with the hub's devices; a load kept off before a restart is adopted
        as soon as it is known again."""
        engine = self.engine
        loads = {
            device.ieee: device
            for device in self.hub.catalog.energy_devices()
            if is_switchable_load(device)
        }
        for ieee in self._loads - loads.keys():
            engine.remove_load(ieee)
        self._loads = set(loads)
        for ieee, device in loads.items():
            setting = self.setting(ieee)
            engine.set_load(
                ieee, name=device.friendly_name, priority=setting.priority, managed=setting.managed
            )
            if not self.hub.device_available(ieee):
                engine.load_unavailable(ieee)
        arrived = {ieee: power for ieee, power in self._to_adopt.items() if ieee in loads}
        if arrived:
            for ieee in engine.adopt_shed_loads(self.monotonic(), arrived):
                _LOGGER.info(
                    "%s was kept off before the restart: it stays off", loads[ieee].friendly_name
                )
            for ieee in arrived:
                del self._to_adopt[ieee]
            self._status = None
            self._store_kept_off()
        self._report_no_managed_load()
        self._carry_out([])

    @property
    def _no_managed_load_issue(self) -> str:
        return f"no_managed_load_{self.entry.entry_id}"

    @callback
    def _report_no_managed_load(self) -> None:
        """While there are switchable loads and none is managed, a repair issue leads the user
        to the Loads form; nothing is shed before the user opts a load in."""
        if not self._loads or any(self.setting(ieee).managed for ieee in self._loads):
            ir.async_delete_issue(self.hass, DOMAIN, self._no_managed_load_issue)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._no_managed_load_issue,
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key="no_managed_load",
            translation_placeholders={"count": str(len(self._loads))},
            data={"entry_id": self.entry.entry_id},
        )

    @callback
    def _on_reading(self, update: DeviceUpdate) -> None:
        """A load's state feeds the engine; a meter reading (the grid meter's, or without one
        any device's, making the home's power) is the measured load."""
        ieee = update.device.ieee
        reading = update.reading
        measured = self.hub.measured_load_va(update)
        if ieee == self.hub.catalog.grid_meter and (
            reading.reference_power_va is not None or reading.cutoff_power_va is not None
        ):
            self._apply_settings()
        now = self.monotonic()
        engine = self.engine
        estimated_va = engine.measured_va
        actions: list[SheddingAction] = []
        if ieee in self._loads:
            if measured is None and engine.note_load_power(
                now, ieee, is_on=reading.switch_on, power_w=reading.power_w
            ):
                self._status = None  # nothing to decide, no deadline moved
                if engine.measured_va != estimated_va:
                    self._show_estimate_soon()
                return
            actions += engine.on_load_state(
                now, ieee, is_on=reading.switch_on, power_w=reading.power_w
            )
        if measured is not None:
            self._meter_read_at = update.at
            actions += engine.on_meter_reading(now, measured)
        # A load's own reading changes nothing shown unless it leads to a decision or moves the
        # estimate across the shed threshold (the overload shows at once); else the estimate it
        # moves is shown within a second.
        moved_va = engine.measured_va
        threshold_va = engine.settings.shed_threshold_va
        crossed = moved_va != estimated_va and (
            (moved_va or 0.0) > threshold_va or (estimated_va or 0.0) > threshold_va
        )
        self._carry_out(actions, notify=measured is not None or crossed)
        if measured is None and not actions and not crossed and moved_va != estimated_va:
            self._show_estimate_soon()

    @callback
    def _apply_settings(self) -> None:
        grid = self.hub.grid
        settings = shedding_settings(
            self._explicit_options, grid.reference_power_va, grid.cutoff_power_va
        )
        if settings != self.engine.settings:
            self._carry_out(self.engine.update_settings(self.monotonic(), settings))

    @callback
    def _on_timer(self) -> None:
        self._carry_out(self.engine.on_time(self.monotonic()))

    # ---- carrying out decisions --------------------------------------------------------------

    @callback
    def _carry_out(self, actions: list[SheddingAction], *, notify: bool = True) -> None:
        """Carry out the engine's decisions; then the entities see its new state."""
        self._status = None
        for action in actions:
            self._carry_out_one(action)
        if actions:
            self._store_kept_off()
        self._schedule_timer()
        if notify or actions:
            self._lifecycle.notify()

    @callback
    def _carry_out_one(self, action: SheddingAction) -> None:
        match action:
            case TurnOff(load_id=ieee) | TurnOn(load_id=ieee):
                self.switch(ieee, on=isinstance(action, TurnOn))
            case OverloadStarted():
                _LOGGER.warning(
                    "Overload: %.0f VA for a %.0f VA contract",
                    action.measured_va,
                    action.contract_limit_va,
                )
                hub_device = dr.async_get(self.hass).async_get_device_by_identifier(
                    (DOMAIN, self.entry.entry_id), self.entry.entry_id
                )
                self.hass.bus.async_fire(
                    EVENT_OVERLOAD,
                    {
                        ATTR_DEVICE_ID: hub_device.id if hub_device else None,
                        "power_va": action.measured_va,
                        "threshold_va": action.shed_threshold_va,
                        "contract_limit_va": action.contract_limit_va,
                        "reason": "overload",
                    },
                )
            case LoadShed() | LoadRestored():
                shed = isinstance(action, LoadShed)
                _LOGGER.info(
                    "%s %s (%s)", action.name, "shed" if shed else "restored", action.reason
                )
                ir.async_delete_issue(self.hass, DOMAIN, self._unresponsive_issue(action.load_id))
                self.hass.bus.async_fire(
                    EVENT_LOAD_SHED if shed else EVENT_LOAD_RESTORED,
                    self._load_event(action.load_id, action.name, action.power_w, action.reason),
                )
            case LoadUnresponsive():
                _LOGGER.warning(
                    "%s did not turn %s when asked",
                    action.name,
                    "on" if action.expected_on else "off",
                )
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    self._unresponsive_issue(action.load_id),
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="load_unresponsive",
                    translation_placeholders={
                        "load": action.name,
                        "state": "ON" if action.expected_on else "OFF",
                    },
                )
            case LoadOverridden():
                _LOGGER.info(
                    "%s was switched %s by hand: left as set",
                    action.name,
                    "on" if action.is_on else "off",
                )
            case MeterSilent() | MeterBack():
                _LOGGER.info(
                    "The meter %s: %s",
                    "is silent, loads kept off stay off"
                    if isinstance(action, MeterSilent)
                    else "reports again",
                    action.silent_for,
                )

    @callback
    def switch_for_schedule(self, ieee: str, *, on: bool) -> None:
        """Switch a load at the start or end of its planned run: not the user's hand, and
        shedding has the last word (a load kept off waits to be restored; a run's end releases
        it)."""
        now = self.monotonic()
        if ieee not in self._loads or self.engine.switch_for_schedule(now, ieee, on=on):
            self.switch(ieee, on=on)
        self._carry_out([])

    @callback
    def switch(self, ieee: str, *, on: bool) -> None:
        """Send ON or OFF to a load in the background; a failure is logged (the engine notices
        a load that does not obey)."""
        self.entry.async_create_background_task(
            self.hass, self._async_switch(ieee, on), f"energy_edge switch {ieee}"
        )

    async def _async_switch(self, ieee: str, on: bool) -> None:
        try:
            await self.hub.async_set_switch(ieee, on)
        except HomeAssistantError as err:
            _LOGGER.warning("Could not switch %s %s: %s", ieee, "on" if on else "off", err)

    def _unresponsive_issue(self, ieee: str) -> str:
        return f"load_unresponsive_{self.entry.entry_id}_{ieee}"

    def _load_event(self, ieee: str, name: str, power_w: float, reason: str) -> dict[str, Any]:
        return {
            ATTR_DEVICE_ID: self.device_id(ieee),
            "ieee": ieee,
            "name": name,
            "power_w": power_w,
            "reason": reason,
        }

    def device_id(self, ieee: str) -> str | None:
        """The HA device standing for a load: Z2M's own, else the one Energy Edge made."""
        registry = dr.async_get(self.hass)
        device = next(
            iter(
                registry.async_get_devices(
                    identifiers={(MQTT_DOMAIN, f"{ZIGBEE2MQTT_IDENTIFIER_PREFIX}{ieee}")}
                )
                or registry.async_get_devices(identifiers={(DOMAIN, ieee)})
            ),
            None,
        )
        return device.id if device else None

    @callback
    def _store_kept_off(self) -> None:
        kept_off = {load.load_id: load.last_on_power_w for load in self.engine.status().shed_loads}
        kept_off |= {ieee: power for ieee, power in self._to_adopt.items() if ieee not in kept_off}
        if kept_off != self._store.state.shed or list(kept_off) != list(self._store.state.shed):
            self._store.state.shed = kept_off
            self._store.save()

    @callback
    def _schedule_timer(self) -> None:
        """One timer, at the engine's next deadline (kept when that has not moved)."""
        deadline = self.engine.next_deadline()
        if deadline == self._timer_deadline and self._lifecycle.has_timer():
            return
        self._lifecycle.cancel()
        self._timer_deadline = deadline
        if deadline is not None:
            self._lifecycle.call_later(deadline - self.monotonic(), self._on_timer)

    @callback
    def _show_estimate_soon(self) -> None:
        """The plugs moved the estimate, with nothing to decide: shown within a second."""
        if not self._estimate_shown_later:
            self._estimate_shown_later = True
            self.hub.async_defer(self._show_estimate)

    @callback
    def _show_estimate(self) -> None:
        self._estimate_shown_later = False
        self._status = None
        self._lifecycle.notify()
