"""The hub: one Zigbee2MQTT instance seen through MQTT push, shared by every Energy Edge feature.

The hub subscribes to Z2M's topics, reads them through the `zigbee2mqtt_protocol` library, keeps
the device catalog (`engines.devices`) and each device's latest reading, and tells its listeners
when something happens. The home's figures are kept by `engines.home`, the grid meter's silence
watched by `meter_watch`, Energy Edge's registry entries followed by `device_entries`. It never
polls: readings arrive when Z2M publishes them. Features plug in through this API (all
callbacks run in the event loop):

- `catalog.energy_devices()` / `device(ieee)` / `status(ieee)`: the devices and what they last
  reported (`DeviceStatus.power_w`, `.apparent_power_va`, `.switch_on`, `.last_seen`).
- `grid_meter` and `grid`: the grid meter's device and its latest `GridReading` (apparent power
  in VA, reference power PREF in VA or ISOUSC turned into VA at 5 A per kVA, cut-off power
  PCOUP in VA where the meter has it).
- `home`: the home's `HomeSnapshot` (home power, untracked power, devices online).
- `async_add_reading_listener(cb, ieee=None, urgent=False)`: `cb(DeviceUpdate)` after every
  accepted state message (of one device, or of all; urgent listeners of all come first);
  `DeviceUpdate.reading.imported_kwh` is the energy used since the previous message, to be
  added (never counted twice).
- `async_add_home_listener(cb)`: `cb(HomeUpdate)` at most once per event-loop turn, with the home
  energy increment summed since the previous call.
- `async_add_change_listener(cb)`: `cb()` when devices appear, disappear, are renamed, change
  availability, or the grid meter falls silent or speaks again.
- `async_defer(job)`: `job()` within a second, for work that can wait (one timer for all).
- `async_set_switch(ieee, on)`: publish `{"state": "ON"|"OFF"}` to the load's Z2M `/set` topic.
- `async_add_entity_adder(cb)`: `cb(devices)` now and whenever energy devices settle after a
  change (debounced), for platforms that create entities per device.
- `device_available(ieee)`, `bridge_online`, `meter_silent` (a repair issue is raised meanwhile;
  home power then falls back to the sum of the devices), `bad_input` (refusals by reason).
Each `async_add_*` returns a callable that removes the listener. Time comes from `clock`
(seconds, `time.time` by default), which tests replace.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
import logging
import time
from typing import NamedTuple

from homeassistant.components import mqtt
from homeassistant.components.mqtt import ReceiveMessage
from homeassistant.components.mqtt.client import async_subscribe_internal
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import async_call_later
import orjson

from zigbee2mqtt_protocol.bridge import parse_bridge_devices, parse_bridge_event
from zigbee2mqtt_protocol.discovery import READING_COMPONENTS, parse_discovery_config
from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.payloads import MAX_STATE_BYTES, JsonObject, decode_object, parse_online
from zigbee2mqtt_protocol.readings import DeviceMeter, Reading
from zigbee2mqtt_protocol.topics import Topics

from .const import (
    CONF_BASE_TOPIC,
    CONF_DISCOVERY_PREFIX,
    CONF_MAIN_METER,
    DOMAIN,
    ENTITY_SETTLE_S,
)
from .device_entries import remove_device_entries, rename_device_entry
from .engines.devices import CatalogChange, DeviceCatalog, EnergyDevice
from .engines.home import CountedDevice, HomeSnapshot, HomeTotals
from .meter_watch import MeterWatch, WatchedMeter

_LOGGER = logging.getLogger(__package__)

DEFER_S = 1.0


@dataclass(slots=True)
class DeviceStatus:
    """What a device last reported, and whether it is reachable."""

    device: EnergyDevice
    meter: DeviceMeter
    state_topic: str
    online: bool = True
    available: bool = False  # Z2M online, device present and online (kept by the hub)
    power_w: float | None = None
    apparent_power_va: float | None = None
    reference_power_va: float | None = None
    cutoff_power_va: float | None = None
    switch_on: bool | None = None
    last_seen: float | None = None
    last_state: JsonObject | None = None
    unsubscribe: list[CALLBACK_TYPE] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class GridReading:
    """The grid meter's latest power and contract figures, in VA (None until reported)."""

    apparent_power_va: float | None
    reference_power_va: float | None
    cutoff_power_va: float | None = None


class DeviceUpdate(NamedTuple):
    """One accepted state message of a device (a tuple: one per message)."""

    device: EnergyDevice
    reading: Reading
    at: float


class HomeUpdate(NamedTuple):
    """The home after one or more readings, with the energy used since the previous update."""

    home: HomeSnapshot
    imported_kwh: float


type ReadingListener = Callable[[DeviceUpdate], None]
type HomeListener = Callable[[HomeUpdate], None]
type EntityAdder = Callable[[list[EnergyDevice]], None]


class EnergyEdgeHub:
    """Energy Edge's view of one Zigbee2MQTT instance (see the module docstring for the API)."""

    DEFERRED_WORK = ("_send_home_update", "_run_deferred")
    """The methods doing the work deferred from the state messages (timed by the benchmark)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Prepare; nothing is subscribed before `async_start`."""
        self.hass = hass
        self.entry = entry
        self.base_topic: str = entry.data[CONF_BASE_TOPIC]
        self.topics = Topics(self.base_topic)  # one Zigbee2MQTT: no `+` level (config flow)
        self.discovery_prefix: str = entry.data[CONF_DISCOVERY_PREFIX]
        self.catalog = DeviceCatalog(main_meter=entry.options.get(CONF_MAIN_METER) or None)
        self.bridge_online: bool | None = None
        self.bad_input: Counter[str] = Counter()
        self.last_bad_input: dict[str, str] = {}
        self.clock: Callable[[], float] = time.time
        self._status: dict[str, DeviceStatus] = {}
        self._reading_listeners: list[ReadingListener] = []
        self._urgent_listeners: list[ReadingListener] = []
        self._device_listeners: dict[str, list[ReadingListener]] = {}
        self._home_listeners: list[HomeListener] = []
        self._change_listeners: list[CALLBACK_TYPE] = []
        self._entity_adders: list[EntityAdder] = []
        self._pending_home_kwh = 0.0
        self._totals = HomeTotals()
        self.meter_watch = MeterWatch(
            hass, entry.entry_id, self._watched_meter, self._changed, self._now
        )
        self._home_update_scheduled = False
        self._deferred: list[CALLBACK_TYPE] = []
        self._cancel_deferred: CALLBACK_TYPE | None = None
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._entity_debouncer = Debouncer(
            hass,
            _LOGGER,
            cooldown=ENTITY_SETTLE_S,
            immediate=False,
            function=self._async_offer_entities,
        )

    # ---- life cycle -------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Subscribe to Zigbee2MQTT's topics; retained messages describe the network at once."""
        subscriptions: list[tuple[str, Callable[[ReceiveMessage], None]]] = [
            (f"{self.base_topic}/bridge/state", self._on_bridge_state),
            (f"{self.base_topic}/bridge/devices", self._on_bridge_devices),
            (f"{self.base_topic}/bridge/event", self._on_bridge_event),
        ]
        subscriptions += [
            (f"{self.discovery_prefix}/{component}/+/+/config", self._on_discovery)
            for component in READING_COMPONENTS
        ]
        for topic, handler in subscriptions:
            self._unsubscribe.append(
                await mqtt.async_subscribe(self.hass, topic, handler, qos=1, encoding=None)
            )
        self.meter_watch.async_start()

    @callback
    def async_stop(self) -> None:
        """Unsubscribe from everything."""
        self._entity_debouncer.async_cancel()
        self.meter_watch.async_stop()
        if self._cancel_deferred is not None:
            self._cancel_deferred()
            self._cancel_deferred = None
        self._run_deferred()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for status in self._status.values():
            for unsubscribe in status.unsubscribe:
                unsubscribe()
            status.unsubscribe.clear()

    # ---- public API -------------------------------------------------------------------------

    def device(self, ieee: str) -> EnergyDevice | None:
        """A device by IEEE address (present or not)."""
        return self.catalog.get(ieee)

    def status(self, ieee: str) -> DeviceStatus | None:
        """A managed device's latest reading and reachability."""
        return self._status.get(ieee)

    @property
    def grid_meter(self) -> EnergyDevice | None:
        """The device measuring what the home draws from the grid, if any."""
        return self.catalog.get(self.catalog.grid_meter) if self.catalog.grid_meter else None

    @property
    def grid(self) -> GridReading:
        """The grid meter's latest apparent power and reference power, in VA."""
        status = self._status.get(self.catalog.grid_meter or "")
        if status is None:
            return GridReading(None, None)
        return GridReading(
            status.apparent_power_va, status.reference_power_va, status.cutoff_power_va
        )

    def device_available(self, ieee: str) -> bool:
        """Z2M is online, the device is present, and its availability (if any) says online."""
        status = self._status.get(ieee)
        return status is not None and status.available

    @property
    def meter_silent(self) -> bool:
        """The grid meter has been silent too long (a repair issue is raised meanwhile)."""
        return self.meter_watch.silent

    @property
    def home(self) -> HomeSnapshot:
        """Home power from the grid meter while it reports, else the sum of metered devices."""
        grid_ieee = self.catalog.grid_meter
        if grid_ieee != self._totals.grid_meter:
            self._count_home()
        grid = self._status.get(grid_ieee) if grid_ieee else None
        grid_power = None
        if grid is not None and grid.available and not self.meter_watch.silent:
            grid_power = grid.power_w
        return self._totals.snapshot(grid_power)

    def _count_home(self) -> None:
        """Count the home's figures again from every device (availability or meter changed)."""
        self._totals.count(
            (
                CountedDevice(ieee, status.available, status.power_w)
                for ieee, status in self._status.items()
            ),
            self.catalog.grid_meter,
        )

    def measured_load_va(self, update: DeviceUpdate) -> float | None:
        """The home's measured load this reading brings, if any: the grid meter's apparent power
        (VA), else its power; without a grid meter, any device's reading makes the home's power."""
        grid = self.catalog.grid_meter
        if grid is None:
            return self.home.power_w
        if grid != update.device.ieee:
            return None
        reading = update.reading
        return (
            reading.apparent_power_va if reading.apparent_power_va is not None else reading.power_w
        )

    @callback
    def async_add_reading_listener(
        self, listener: ReadingListener, ieee: str | None = None, *, urgent: bool = False
    ) -> CALLBACK_TYPE:
        """Call `listener` after each accepted state message (of `ieee`, or of every device);
        `urgent` listeners (decisions that must not wait for the entities) come first."""
        if urgent:
            listeners = self._urgent_listeners
        elif ieee is None:
            listeners = self._reading_listeners
        else:
            listeners = self._device_listeners.setdefault(ieee, [])
        listeners.append(listener)
        return partial(listeners.remove, listener)

    @callback
    def async_add_home_listener(self, listener: HomeListener) -> CALLBACK_TYPE:
        """Call `listener` when the home's figures may have changed."""
        self._home_listeners.append(listener)
        return partial(self._home_listeners.remove, listener)

    @callback
    def async_add_change_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when devices, availability or the meter's silence change."""
        self._change_listeners.append(listener)
        return partial(self._change_listeners.remove, listener)

    @callback
    def async_add_entity_adder(self, adder: EntityAdder) -> CALLBACK_TYPE:
        """Let a platform create entities for the energy devices, now and whenever they change."""
        self._entity_adders.append(adder)
        adder(self.catalog.energy_devices())
        return partial(self._entity_adders.remove, adder)

    @callback
    def async_defer(self, job: CALLBACK_TYPE) -> None:
        """Run `job` within a second, with all the work deferred meanwhile (one timer for all):
        for what can wait, such as pricing energy."""
        self._deferred.append(job)
        if self._cancel_deferred is None:
            self._cancel_deferred = async_call_later(self.hass, DEFER_S, self._run_deferred)

    async def async_set_switch(self, ieee: str, on: bool) -> None:
        """Switch a switchable load on or off through its Z2M `/set` topic."""
        device = self.catalog.get(ieee)
        if device is None or not device.managed or device.plan.switch is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="not_switchable",
                translation_placeholders={"device": ieee},
            )
        switch = device.plan.switch
        await mqtt.async_publish(
            self.hass,
            self.topics.command_topic(device.friendly_name),
            orjson.dumps({switch.property: switch.value_on if on else switch.value_off}),
            qos=1,
        )

    # ---- MQTT handlers ----------------------------------------------------------------------

    @callback
    def _on_state(self, ieee: str, msg: ReceiveMessage) -> None:
        """A device published its state: read it, tell the listeners."""
        status = self._status[ieee]
        try:
            state = decode_object(msg.payload, MAX_STATE_BYTES)
        except RejectedInputError as err:
            self._count(err, msg.topic)
            return
        now = self.clock()
        reading = status.meter.read(state, now)
        for note in reading.notes:
            self._count(note, msg.topic)
        status.last_seen = now
        status.last_state = state
        if reading.power_w is not None:
            self._totals.power_changed(ieee, status.available, status.power_w, reading.power_w)
            status.power_w = reading.power_w
        if reading.apparent_power_va is not None:
            status.apparent_power_va = reading.apparent_power_va
        if reading.reference_power_va is not None:
            status.reference_power_va = reading.reference_power_va
        if reading.cutoff_power_va is not None:
            status.cutoff_power_va = reading.cutoff_power_va
        if reading.switch_on is not None:
            status.switch_on = reading.switch_on
        grid = self.catalog.grid_meter
        if grid is None or grid == ieee:
            self._pending_home_kwh += reading.imported_kwh
        if grid == ieee:
            self.meter_watch.heard()
        update = DeviceUpdate(status.device, reading, now)
        for listener in self._urgent_listeners:
            listener(update)
        for listener in self._device_listeners.get(ieee, ()):
            listener(update)
        for listener in self._reading_listeners:
            listener(update)
        self._schedule_home_update()

    @callback
    def _on_availability(self, ieee: str, msg: ReceiveMessage) -> None:
        try:
            online = parse_online(msg.payload)
        except RejectedInputError as err:
            self._count(err, msg.topic)
            return
        status = self._status[ieee]
        if status.online == online:
            return
        status.online = online
        name = status.device.friendly_name
        if online:
            _LOGGER.info("%s is available again", name)
        else:
            status.meter.pause()
            _LOGGER.info("%s is unavailable: Zigbee2MQTT reports it offline", name)
        self._changed()

    @callback
    def _on_bridge_state(self, msg: ReceiveMessage) -> None:
        try:
            online = parse_online(msg.payload)
        except RejectedInputError as err:
            self._count(err, msg.topic)
            return
        if online == self.bridge_online:
            return
        was_known = self.bridge_online is not None
        self.bridge_online = online
        if online and was_known:
            self.meter_watch.listen_again()
            _LOGGER.info("Zigbee2MQTT at %s is online again", self.base_topic)
        elif not online:
            for status in self._status.values():
                status.meter.pause()
            _LOGGER.info(
                "Zigbee2MQTT at %s is offline: its devices are unavailable", self.base_topic
            )
        self._changed()

    @callback
    def _on_bridge_devices(self, msg: ReceiveMessage) -> None:
        try:
            devices, rejections = parse_bridge_devices(msg.payload)
        except RejectedInputError as err:
            self._count(err, msg.topic)
            return
        for rejection in rejections:
            self._count(rejection, msg.topic)
        # A device refused for its name was read: the list is still complete without it.
        unread = [r for r in rejections if r.reason is not Rejection.BAD_FRIENDLY_NAME]
        self._apply(self.catalog.apply_bridge_devices(devices, complete=not unread))

    @callback
    def _on_bridge_event(self, msg: ReceiveMessage) -> None:
        try:
            event = parse_bridge_event(msg.payload)
        except RejectedInputError as err:
            self._count(err, msg.topic)
            return
        if event.type == "device_leave" and self.catalog.get(event.ieee) is not None:
            self._apply(self.catalog.mark_left(event.ieee))
            remove_device_entries(self.hass, self.entry.entry_id, event.ieee)
            _LOGGER.info(
                "%s left the Zigbee network: its Energy Edge entities were removed",
                self.catalog[event.ieee].friendly_name,
            )

    @callback
    def _on_discovery(self, msg: ReceiveMessage) -> None:
        try:
            found = parse_discovery_config(
                msg.topic, msg.payload, self.discovery_prefix, self.base_topic
            )
        except RejectedInputError as err:
            self._count(err, msg.topic)
            return
        if found is not None:
            self._apply(self.catalog.apply_discovery(found))

    # ---- bookkeeping ------------------------------------------------------------------------

    @callback
    def _apply(self, change: CatalogChange) -> None:
        """Follow the catalog: subscriptions, meters, entities, listeners."""
        if not change:
            return
        for ieee in change.added | set(change.renamed):
            self._track(self.catalog[ieee])
        for ieee in change.updated:
            device = self.catalog[ieee]
            self._status[ieee].meter.replan(device.plan, device.known_properties)
        for ieee in change.removed:
            self._untrack(ieee)
        for ieee, (old, new) in change.renamed.items():
            _LOGGER.info("%s was renamed %s; its entities and history stay", old, new)
            rename_device_entry(self.hass, self.entry.entry_id, ieee, new)
        if change.added or change.updated:
            self.async_request_entities()
        self._changed()

    @callback
    def _track(self, device: EnergyDevice) -> None:
        """Subscribe to a managed device's state and availability (again, after a rename).

        `mqtt.async_subscribe` is a coroutine around `async_subscribe_internal`; this runs inside
        message callbacks, which cannot await, hence the callback form.
        """
        ieee = device.ieee
        state_topic = self.topics.state_topic(device.friendly_name)
        status = self._status.get(ieee)
        if status is None:
            status = self._status[ieee] = DeviceStatus(
                device, DeviceMeter(device.plan, device.known_properties), state_topic
            )
        for unsubscribe in status.unsubscribe:
            unsubscribe()
        status.state_topic = state_topic
        status.meter.replan(device.plan, device.known_properties)
        status.unsubscribe = [
            async_subscribe_internal(
                self.hass, state_topic, partial(self._on_state, ieee), qos=0, encoding=None
            ),
            async_subscribe_internal(
                self.hass,
                f"{state_topic}/availability",
                partial(self._on_availability, ieee),
                qos=0,
                encoding=None,
            ),
        ]

    @callback
    def _untrack(self, ieee: str) -> None:
        status = self._status[ieee]
        for unsubscribe in status.unsubscribe:
            unsubscribe()
        status.unsubscribe.clear()
        status.meter.pause()
        _LOGGER.info("%s was removed from Zigbee2MQTT", status.device.friendly_name)

    @callback
    def async_request_entities(self) -> None:
        """Offer the energy devices to the platforms again, once discovery has settled."""
        self._entity_debouncer.async_schedule_call()

    @callback
    def _async_offer_entities(self) -> None:
        devices = self.catalog.energy_devices()
        for adder in list(self._entity_adders):
            adder(devices)

    @callback
    def _changed(self) -> None:
        bridge_online = self.bridge_online is not False
        for status in self._status.values():
            status.available = bridge_online and status.online and status.device.managed
        self._count_home()
        for listener in list(self._change_listeners):
            listener()
        self._schedule_home_update()

    @callback
    def _schedule_home_update(self) -> None:
        """Coalesce: many readings in one event-loop turn make one home update."""
        if not self._home_update_scheduled:
            self._home_update_scheduled = True
            self.hass.loop.call_soon(self._send_home_update)

    @callback
    def _run_deferred(self, _now: object = None) -> None:
        self._cancel_deferred = None
        jobs, self._deferred = self._deferred, []
        for job in jobs:
            job()

    @callback
    def _send_home_update(self) -> None:
        self._home_update_scheduled = False
        update = HomeUpdate(self.home, self._pending_home_kwh)
        self._pending_home_kwh = 0.0
        for listener in list(self._home_listeners):
            listener(update)

    @callback
    def _count(self, rejection: RejectedInputError, source: str) -> None:
        """Every refused input is counted for diagnostics and logged at debug level."""
        self.bad_input[rejection.reason] += 1
        self.last_bad_input[rejection.reason] = f"{source}: {rejection.detail}"
        _LOGGER.debug("Ignored input on %s (%s): %s", source, rejection.reason, rejection.detail)

    def _now(self) -> float:
        return self.clock()  # read at each call: tests replace the clock

    def _watched_meter(self) -> WatchedMeter | None:
        """The grid meter for the watch; None without one, or while Zigbee2MQTT is offline."""
        meter = self.grid_meter
        if meter is None or self.bridge_online is False:
            return None
        status = self._status.get(meter.ieee)
        return WatchedMeter(meter.friendly_name, status.last_seen if status else None)
