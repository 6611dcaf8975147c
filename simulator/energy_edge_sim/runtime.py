"""The running simulator: the household in simulated time, speaking Zigbee2MQTT over MQTT.

Simulated time advances in ticks of one simulated second, paced by the wall clock at `speed`; at
each tick the household lives until that instant, due faults happen and due devices report. Reports
fall on ticks, so a seed and a start time give the same messages on every run.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import logging
import math
import queue
import random
import threading
import time

from . import z2mjson
from .clock import SimulationClock
from .control import (
    ClearOverload,
    ControlCommand,
    ControlError,
    ForceOverload,
    HoldHousehold,
    InjectFault,
    Join,
    Leave,
    ReleaseHousehold,
    StartLoad,
    Status,
    StopLoad,
    parse_control,
)
from .devices import (
    AQARA_SP_EUC01,
    HEIMAN_HS2SK,
    IKEA_INSPELNING,
    PLUG_MODELS,
    TUYA_TS011F,
    Coordinator,
    Device,
    DeviceModel,
    LinkyMode,
    zlinky,
)
from .discovery import (
    BridgeIdentity,
    DiscoverableDevice,
    DiscoveryMessage,
    DiscoverySettings,
    bridge_discovery,
    device_discovery,
)
from .exposes import Expose
from .faults import Fault, FaultKind, FaultPlanner, malformed_payload
from .household import Household
from .households import fr_house, scale_house
from .localtime import LocalCalendar
from .payloads import (
    LinkyIdentity,
    bridge_devices,
    bridge_event,
    bridge_info,
    bridge_state,
    interview_successful,
    last_seen,
    linky_values,
    plug_values,
)
from .publisher import BrokerAddress, ConnectionChange, Inbound, Publisher
from .seeding import seeded
from .settings import SimulatorSettings
from .z2mjson import JsonObject, JsonValue

_LOGGER = logging.getLogger(__name__)

HOUSEHOLDS = ("fr-house",)
FR_HOUSE_PLUGS: Mapping[str, DeviceModel] = {
    "water_heater": TUYA_TS011F,
    "ev_charger": TUYA_TS011F,
    "oven": TUYA_TS011F,
    "washing_machine": IKEA_INSPELNING,
    "fridge": IKEA_INSPELNING,
    "dishwasher": AQARA_SP_EUC01,
    "internet_box": AQARA_SP_EUC01,
    "tv": HEIMAN_HS2SK,
}
LINKY_NAME = "linky"
HA_STATUS_TOPIC = "homeassistant/status"  # Zigbee2MQTT listens here whatever the discovery prefix
# Wall-clock durations of faults asked for on the control channel without a duration.
CONTROL_FAULT_DURATIONS_S = {
    FaultKind.DROPOUT: 30.0,
    FaultKind.BRIDGE_RESTART: 3.0,
    FaultKind.LINKY_SILENT: 120.0,
}
BRIDGE_REQUEST_RESTART_S = 10.0
OVERLOAD_MARGIN = 1.2  # a default forced overload takes the home 20 % over its contract
INBOX_BATCH = 500
SHUTDOWN_FLUSH_S = 15.0  # retained configs still in paho's queue must reach the broker


@dataclass(frozen=True)
class SimulationOptions:
    """How to run: which home, from when, how fast, for how long, with which faults."""

    seed: int
    speed: float = 1.0
    duration_s: float | None = None  # simulated seconds; None runs until stopped
    household: str = "fr-house"
    scale_plugs: int | None = None  # the scale mode: this many plugs instead of the household
    ha_discovery: bool = True
    availability: bool = False
    start: datetime | None = None  # None starts now
    linky_mode: LinkyMode = LinkyMode.STANDARD
    pv_peak_w: float = 0.0
    linky_kwh_decimals: int = 3
    fault_rates_per_hour: Mapping[FaultKind, float] = field(default_factory=dict)
    ha_status_delay_s: float | None = None  # None: the settings' HA_STATUS_DELAY_S
    last_seen: bool = False  # add `last_seen` (simulated time) to states, as Z2M's ISO_8601 option
    tick_s: float = 1.0


def build_home(options: SimulationOptions) -> tuple[Household, list[Device]]:
    """The household model and the Zigbee devices that stand for it."""
    start = options.start or datetime.now(UTC).replace(microsecond=0)
    if options.scale_plugs is not None:
        household = scale_house(options.scale_plugs, options.seed, start)
        devices = [
            Device.named(name, PLUG_MODELS[index % len(PLUG_MODELS)])
            for index, name in enumerate(household.plug_names)
        ]
        return household, devices
    if options.household not in HOUSEHOLDS:
        raise ValueError(f"unknown household {options.household!r}")
    household = fr_house(options.seed, start, pv_peak_w=options.pv_peak_w)
    devices = [Device.named(name, FR_HOUSE_PLUGS[name]) for name in household.plug_names]
    devices.append(
        Device.named(LINKY_NAME, zlinky(options.linky_mode, producer=options.pv_peak_w > 0))
    )
    return household, devices


@dataclass
class _Paired:
    """A device as Zigbee2MQTT tracks it: its cached state and reporting rhythm."""

    device: Device
    cache: JsonObject
    rng: random.Random
    linkquality: int
    last_report: float | None = None
    reported: float | None = None
    silent_until: float = -math.inf  # a dropout, or the Linky's silence
    offline: bool = False  # availability offline during a dropout
    paired: bool = True


class Simulator:
    """Runs a household as Zigbee2MQTT would publish it; see the module docstring."""

    def __init__(
        self,
        settings: SimulatorSettings,
        options: SimulationOptions,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the home and the MQTT client; `run()` connects and simulates."""
        if not (math.isfinite(options.speed) and options.speed > 0):
            raise ValueError("speed must be a positive number")
        self.settings = settings
        self.options = options
        self.base = settings.z2m_base_topic
        self.prefix = settings.ha_discovery_prefix
        self.control_topic = settings.sim_control_topic
        self.ha_status_delay_s = (
            settings.ha_status_delay_s
            if options.ha_status_delay_s is None
            else options.ha_status_delay_s
        )
        self.household, devices = build_home(options)
        self.calendar = LocalCalendar()
        self.coordinator = Coordinator()
        self.bridge = BridgeIdentity(
            self.coordinator.ieee_address, self.coordinator.type, self.coordinator.revision
        )
        self.discovery = DiscoverySettings(
            self.base, self.prefix, options.availability, last_seen=options.last_seen
        )
        self._monotonic = monotonic
        self._paired = {device.friendly_name: self._pair(device) for device in devices}
        self._linky_identity = {
            d.friendly_name: LinkyIdentity.for_device(d) for d in devices if d.is_meter
        }
        self._malformed_rng = seeded(options.seed, "malformed")
        self._faults = FaultPlanner(
            dict(options.fault_rates_per_hour),
            options.seed,
            devices=[d.friendly_name for d in devices],
            meters=[d.friendly_name for d in devices if d.is_meter],
        )
        self._discovery_topics: set[str] = set()
        self._bridge_down_until: float | None = None
        self._permit_join = False
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._next_tick = self.household.timestamp
        self._end = (
            None if options.duration_s is None else self.household.timestamp + options.duration_s
        )
        self.clock = SimulationClock(self.household.timestamp, options.speed, monotonic)
        self.inbox: queue.Queue[Inbound | ConnectionChange] = queue.Queue()
        subscriptions = [
            f"{self.base}/+/set",
            f"{self.base}/+/set/+",
            f"{self.base}/+/get",
            f"{self.base}/+/get/+",
            f"{self.base}/bridge/request/#",
            *dict.fromkeys((f"{self.prefix}/status", HA_STATUS_TOPIC)),
            self.control_topic,
        ]
        if options.ha_discovery:
            subscriptions.append(f"{self.prefix}/+/+/+/config")
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        self.publisher = Publisher(
            BrokerAddress(
                host=settings.mqtt_host,
                port=settings.mqtt_port,
                client_id=settings.sim_client_id,
                username=settings.mqtt_username,
                password=password,
                tls=settings.mqtt_tls,
                ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
            ),
            will=(f"{self.base}/bridge/state", z2mjson.dumps(bridge_state(online=False))),
            subscriptions=subscriptions,
            inbox=self.inbox,
        )

    # -- running ------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Connect, announce the bridge and simulate until `stop` is set or the duration ends.

        Raises `BrokerUnavailableError` when the broker cannot be reached at start.
        """
        stop = stop or threading.Event()
        self.publisher.connect()
        try:
            self.clock = SimulationClock(
                self.household.timestamp, self.options.speed, self._monotonic
            )
            self._faults.start(self.household.timestamp)
            _LOGGER.info(
                "simulating %s with %d devices from %s at speed %g (seed %d)",
                "the scale mode" if self.options.scale_plugs else self.options.household,
                len(self._paired),
                self.household.time.isoformat(),
                self.options.speed,
                self.options.seed,
            )
            self._announce()
            while not stop.is_set():
                target = self._target()
                self._advance(target)
                if self._end is not None and self._next_tick > self._end:
                    break
                self._run_timers()
                self._handle_inbox(self._wait_s())
        finally:
            self.publisher.publish(
                f"{self.base}/bridge/state",
                z2mjson.dumps(bridge_state(online=False)),
                qos=1,
                retain=True,
            )
            self.publisher.flush(SHUTDOWN_FLUSH_S)
            self.publisher.disconnect()
            _LOGGER.info("stopped at %s", self.household.time.isoformat())

    def _target(self) -> float:
        now = self.clock.now()
        return now if self._end is None else min(now, self._end)

    def _wait_s(self) -> float:
        waits = [0.2, self.clock.wall_seconds_until(self._next_tick)]
        if self._timers:
            waits.append(
                max(0.0, min(deadline for deadline, _ in self._timers) - self._monotonic())
            )
        return min(waits)

    def _advance(self, target: float) -> None:
        """Live every tick up to `target`: the household, due faults, due reports."""
        while self._next_tick <= target:
            moment = self._next_tick
            self.household.advance_to(moment)
            for fault in self._faults.due(moment):
                self._inject(fault)
            self._tick(moment)
            self._next_tick = moment + self.options.tick_s

    def _now(self) -> float:
        """Bring the simulation up to the present before acting on a command."""
        target = self._target()
        self._advance(target)
        self.household.advance_to(target)
        return self.household.timestamp

    def _tick(self, moment: float) -> None:
        if self._bridge_down_until is not None:
            if moment < self._bridge_down_until:
                return
            self._bridge_down_until = None
            self._announce(restart=True)
        for paired in self._paired.values():
            if not paired.paired or moment < paired.silent_until:
                continue
            if paired.offline:
                paired.offline = False
                self._publish_availability(paired, online=True)
                self._report(paired, moment)
                continue
            policy = paired.device.model.reporting
            since = math.inf if paired.last_report is None else moment - paired.last_report
            if since < policy.min_interval_s:
                continue
            if policy.due(since, paired.reported, self._reported_quantity(paired)):
                self._report(paired, moment)

    def _run_timers(self) -> None:
        now = self._monotonic()
        due = [action for deadline, action in self._timers if deadline <= now]
        self._timers = [(deadline, action) for deadline, action in self._timers if deadline > now]
        for action in due:
            action()

    # -- publishing ---------------------------------------------------------------------------

    def _pair(self, device: Device) -> _Paired:
        cache: JsonObject = {}
        if self.options.ha_discovery:
            cache = dict.fromkeys(device.model.properties())
            if self.options.last_seen:
                cache["last_seen"] = None
            if device.model.supports_ota:
                cache["update"] = {"installed_version": -1, "latest_version": -1, "state": None}
        rng = seeded(self.options.seed, "radio", device.friendly_name)
        return _Paired(device, cache, rng, linkquality=rng.randint(90, 220))

    def _announce(self, *, restart: bool = False) -> None:
        """What Zigbee2MQTT publishes when it starts: bridge topics, discovery, availability."""
        publish = self.publisher.publish
        publish(
            f"{self.base}/bridge/state",
            z2mjson.dumps(bridge_state(online=True)),
            qos=1,
            retain=True,
        )
        self._publish_bridge_info()
        self._publish_bridge_devices()
        publish(f"{self.base}/bridge/groups", "[]", retain=True)
        if self.options.ha_discovery:
            messages = bridge_discovery(self.bridge, self.discovery)
            for paired in self._paired.values():
                if paired.paired:
                    messages += self._device_discovery(paired.device)
            self._publish_discovery(messages)
        for paired in self._paired.values():
            if paired.paired:
                self._publish_availability(paired, online=not paired.offline)
                if restart and paired.last_report is not None:
                    self._publish_state(paired)  # cache_state_send_on_startup

    def _publish_bridge_info(self) -> None:
        info = bridge_info(
            self.coordinator,
            base_topic=self.base,
            discovery_prefix=self.prefix,
            ha_discovery=self.options.ha_discovery,
            availability=self.options.availability,
            last_seen=self.options.last_seen,
            permit_join=self._permit_join,
        )
        self.publisher.publish(f"{self.base}/bridge/info", z2mjson.dumps(info), retain=True)

    def _publish_bridge_devices(self) -> None:
        devices = [paired.device for paired in self._paired.values() if paired.paired]
        payload = z2mjson.dumps(bridge_devices(self.coordinator, devices))
        self.publisher.publish(f"{self.base}/bridge/devices", payload, retain=True)

    def _device_discovery(self, device: Device) -> list[DiscoveryMessage]:
        model = device.model
        discoverable = DiscoverableDevice(
            ieee_address=device.ieee_address,
            friendly_name=device.friendly_name,
            model=model.model,
            vendor=model.vendor,
            description=model.description,
            exposes=model.exposes,
            supports_ota=model.supports_ota,
            software_build_id=model.software_build_id,
            hardware_version=model.hardware_version,
        )
        return device_discovery(discoverable, self.bridge, self.discovery)

    def _publish_discovery(self, messages: list[DiscoveryMessage]) -> None:
        for message in messages:
            self._discovery_topics.add(message.topic)
            self.publisher.publish(
                message.topic, z2mjson.dumps(message.payload), qos=1, retain=True
            )

    def _publish_availability(self, paired: _Paired, *, online: bool) -> None:
        if self.options.availability and self._bridge_down_until is None:
            topic = f"{self.base}/{paired.device.friendly_name}/availability"
            self.publisher.publish(
                topic, z2mjson.dumps(bridge_state(online=online)), qos=1, retain=True
            )

    def _publish_state(self, paired: _Paired, payload: bytes | None = None) -> None:
        """The device's cached state (or a given payload) on its topic, unless Z2M is down."""
        if self._bridge_down_until is None:
            topic = f"{self.base}/{paired.device.friendly_name}"
            self.publisher.publish(topic, payload or z2mjson.dumps(paired.cache))

    def _reported_quantity(self, paired: _Paired) -> float:
        if paired.device.is_meter:
            return self.household.apparent_power_va()
        return self.household.plug_power_w(paired.device.friendly_name)

    def _measure(self, paired: _Paired) -> JsonObject:
        device = paired.device
        if device.is_meter:
            return linky_values(
                self.options.linky_mode,
                self.household.meter_reading(),
                self._linky_identity[device.friendly_name],
                self.household.time,
                kwh_decimals=self.options.linky_kwh_decimals,
                producer=self.options.pv_peak_w > 0,
            )
        return plug_values(device.model, self.household.plug_reading(device.friendly_name))

    def _report(self, paired: _Paired, moment: float) -> None:
        """The device reports: measure, update the cached state, publish the whole of it."""
        paired.cache.update(self._measure(paired))
        paired.linkquality = min(255, max(40, paired.linkquality + paired.rng.randint(-6, 6)))
        paired.cache["linkquality"] = paired.linkquality
        if self.options.last_seen:
            paired.cache["last_seen"] = last_seen(self.calendar.local(moment))
        paired.last_report = moment
        paired.reported = self._reported_quantity(paired)
        self._publish_state(paired)

    # -- faults -------------------------------------------------------------------------------

    def _inject(self, fault: Fault) -> None:
        _LOGGER.info("fault: %s %s for %.0f s", fault.kind, fault.device or "", fault.duration_s)
        if fault.kind is FaultKind.BRIDGE_RESTART:
            self.publisher.publish(
                f"{self.base}/bridge/state",
                z2mjson.dumps(bridge_state(online=False)),
                qos=1,
                retain=True,
            )
            self._bridge_down_until = fault.at + fault.duration_s
            return
        paired = self._paired[fault.device or ""]
        match fault.kind:
            case FaultKind.REBOOT:
                if not paired.device.is_meter:
                    self.household.reboot(paired.device.friendly_name)
                self._publish_event(bridge_event("device_announce", paired.device))
                self._report(paired, fault.at)
            case FaultKind.DROPOUT:
                paired.silent_until = max(paired.silent_until, fault.at + fault.duration_s)
                if not paired.offline:
                    paired.offline = True
                    self._publish_availability(paired, online=False)
            case FaultKind.MALFORMED:
                self._publish_state(
                    paired, malformed_payload(self._measure(paired), self._malformed_rng)
                )
            case FaultKind.LINKY_SILENT:
                paired.silent_until = max(paired.silent_until, fault.at + fault.duration_s)

    def _publish_event(self, event: JsonObject) -> None:
        if self._bridge_down_until is None:
            self.publisher.publish(f"{self.base}/bridge/event", z2mjson.dumps(event))

    # -- inbound ------------------------------------------------------------------------------

    def _handle_inbox(self, timeout: float) -> None:
        try:
            item = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return
        for _ in range(INBOX_BATCH):
            self._handle(item)
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return

    def _handle(self, item: Inbound | ConnectionChange) -> None:
        if isinstance(item, ConnectionChange):
            if item.connected:
                _LOGGER.info("connected to the broker again: republishing retained topics")
                state_topic = f"{self.base}/bridge/state"
                self.publisher.republish_retained(first=lambda topic: topic == state_topic)
            return
        topic = item.topic
        try:
            if topic == self.control_topic:
                self._on_control(item.payload)
            elif topic in {f"{self.prefix}/status", HA_STATUS_TOPIC}:
                self._on_ha_status(item.payload)
            elif topic.startswith(f"{self.prefix}/") and topic.endswith("/config"):
                self._on_discovery_config(item)
            elif topic.startswith(f"{self.base}/bridge/request/"):
                self._on_bridge_request(
                    topic.removeprefix(f"{self.base}/bridge/request/"), item.payload
                )
            elif topic.startswith(f"{self.base}/"):
                self._on_device_topic(topic.removeprefix(f"{self.base}/"), item.payload)
        except Exception:  # a message must never stop the simulation
            _LOGGER.exception("could not handle a message on %s", topic)

    def _on_ha_status(self, payload: bytes) -> None:
        if payload.decode(errors="replace").strip().lower() != "online":
            return
        _LOGGER.info(
            "Home Assistant is online: republishing states in %g s", self.ha_status_delay_s
        )
        self._timers.append((self._monotonic() + self.ha_status_delay_s, self._republish_states))

    def _republish_states(self) -> None:
        for paired in self._paired.values():
            if paired.paired and paired.last_report is not None:
                self._publish_state(paired)

    def _on_discovery_config(self, item: Inbound) -> None:
        """Clear retained configs of this base topic that no longer match a device (as Z2M does)."""
        if not item.retain or not item.payload or item.topic in self._discovery_topics:
            return
        try:
            config = json.loads(item.payload)
            availability = config["availability"][0]["topic"]
        except ValueError, KeyError, IndexError, TypeError:
            return
        if isinstance(availability, str) and availability.startswith(f"{self.base}/"):
            _LOGGER.debug("clearing outdated discovery config %s", item.topic)
            self.publisher.publish(item.topic, b"", qos=1, retain=True)

    def _on_device_topic(self, rest: str, payload: bytes) -> None:
        for verb in ("set", "get"):
            if rest.endswith(f"/{verb}"):
                name, prop = rest.removesuffix(f"/{verb}"), None
            elif f"/{verb}/" in rest:
                name, prop = rest.rsplit(f"/{verb}/", 1)
            else:
                continue
            paired = self._paired.get(name)
            if paired is None or not paired.paired:
                _LOGGER.warning("no device named %r (%s)", name, verb)
                return
            if self._bridge_down_until is not None or paired.offline:
                _LOGGER.warning("%s is unreachable: %s ignored", name, verb)
                return
            if verb == "get":
                self._report(paired, self._now())  # the device is read again
            else:
                self._on_set(paired, prop, payload)
            return

    def _on_set(self, paired: _Paired, prop: str | None, payload: bytes) -> None:
        name = paired.device.friendly_name
        try:
            values = _set_values(prop, payload)
        except ValueError as error:
            _LOGGER.warning("invalid command for %s: %s", name, error)
            return
        moment = self._now()
        changed = False
        for key, value in values.items():
            expose = paired.device.model.expose_for(key)
            if expose is None or not expose.settable():
                _LOGGER.warning("%s has no settable %r", name, key)
                continue
            if key == "state":
                switch = str(value).upper()
                if switch not in {"ON", "OFF", "TOGGLE"}:
                    _LOGGER.warning("invalid state %r for %s", value, name)
                    continue
                on = not self.household.switch_is_on(name) if switch == "TOGGLE" else switch == "ON"
                self.household.set_switch(name, on=on)
                _LOGGER.info("%s switched %s", name, "ON" if on else "OFF")
                changed = True
            elif _valid_setting(expose, value):
                if expose.type != "enum" or len(expose.values or ()) > 1:
                    paired.cache[key] = value
                changed = True
            else:
                _LOGGER.warning("invalid value %r for %s of %s", value, key, name)
        if changed:
            self._report(paired, moment)

    def _on_bridge_request(self, request: str, payload: bytes) -> None:
        try:
            data = json.loads(payload) if payload.strip() else {}
        except ValueError:
            data = {}
        body = data if isinstance(data, dict) else {"value": data}
        response: JsonObject
        match request:
            case "health_check":
                response = {"data": {"healthy": True}, "status": "ok"}
            case "restart":
                response = {"data": {}, "status": "ok"}
                moment = self._now()
                self._inject(
                    Fault(FaultKind.BRIDGE_RESTART, moment, None, BRIDGE_REQUEST_RESTART_S)
                )
            case "permit_join":
                seconds = body.get("time", body.get("value", 0))
                seconds = 254 if seconds is True else seconds
                if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                    seconds = 0
                seconds = seconds if math.isfinite(seconds) and seconds > 0 else 0
                self._permit_join = seconds > 0
                self._publish_bridge_info()
                response = {"data": {"time": seconds}, "status": "ok"}
            case _:
                response = {
                    "data": {},
                    "error": f"'{request}' is not supported by the Energy Edge simulator",
                    "status": "error",
                }
        if "transaction" in body:
            response["transaction"] = body["transaction"]
        self.publisher.publish(f"{self.base}/bridge/response/{request}", z2mjson.dumps(response))

    # -- control channel ----------------------------------------------------------------------

    def _on_control(self, payload: bytes) -> None:
        response: JsonObject
        try:
            request = parse_control(payload)
            response = {"ok": True, "action": _action_name(request.command)}
            response |= self._execute(request.command)
            if request.request_id is not None:
                response["id"] = request.request_id
            _LOGGER.info("control: %s", payload.decode(errors="replace"))
        except ControlError as error:
            _LOGGER.warning("control command refused (%s): %r", error, payload[:200])
            response = {"ok": False, "error": str(error)}
            try:
                request_id = json.loads(payload).get("id")
                if isinstance(request_id, str | int) and not isinstance(request_id, bool):
                    response["id"] = str(request_id)
            except ValueError, AttributeError:
                pass
        self.publisher.publish(f"{self.control_topic}/response", z2mjson.dumps(response), qos=1)

    def _device_named(self, name: str | None) -> _Paired:
        paired = self._paired.get(name or "")
        if paired is None:
            raise ControlError(f"no device named {name!r}; devices: {', '.join(self._paired)}")
        return paired

    def _execute(self, command: ControlCommand) -> JsonObject:
        moment = self._now()
        match command:
            case ForceOverload(power_w=power, duration_s=duration, device=device):
                if device is not None:
                    self._require_plug(device)
                if power is None:
                    power = self._power_to_overload()
                simulated = self.clock.simulated(duration)
                self.household.force_overload(power, simulated, device)
                return {
                    "power_w": power,
                    "apparent_power_va": round(self.household.apparent_power_va()),
                    "until": self.calendar.local(moment + simulated).isoformat(),
                }
            case ClearOverload():
                self.household.clear_overload()
                return {}
            case StartLoad(device=device, power_w=power, duration_s=duration):
                self._require_plug(device)
                simulated = self.clock.simulated(duration)
                self.household.start_load(device, power, simulated)
                return {"until": self.calendar.local(moment + simulated).isoformat()}
            case StopLoad(device=device):
                self._require_plug(device)
                self.household.stop_load(device)
                return {}
            case HoldHousehold(duration_s=duration):
                simulated = self.clock.simulated(duration)
                self.household.hold(simulated)
                return {"until": self.calendar.local(moment + simulated).isoformat()}
            case ReleaseHousehold():
                self.household.release()
                return {}
            case InjectFault(kind=kind, device=device, duration_s=duration):
                if kind is FaultKind.LINKY_SILENT:
                    meters = [p for p in self._paired.values() if p.device.is_meter]
                    if not meters:
                        raise ControlError("this home has no Linky")
                    paired = meters[0] if device is None else self._device_named(device)
                    if not paired.device.is_meter:
                        raise ControlError(f"{device!r} is not the Linky")
                    device = paired.device.friendly_name
                elif device is not None:
                    self._device_named(device)
                wall = (
                    duration if duration is not None else CONTROL_FAULT_DURATIONS_S.get(kind, 0.0)
                )
                self._inject(Fault(kind, moment, device, self.clock.simulated(wall)))
                return {}
            case Leave(device=device):
                self._leave(self._device_named(device))
                return {}
            case Join(device=device):
                self._join(self._device_named(device), moment)
                return {}
            case Status():
                return self._status()
        raise ControlError("unsupported command")  # pragma: no cover - the match is exhaustive

    def _require_plug(self, device: str) -> None:
        if device not in self.household.plug_names:
            raise ControlError(f"{device!r} is not a metered plug")

    def _power_to_overload(self) -> float:
        """The resistive load that takes the home's apparent power to the overload margin."""
        meter = self.household.meter_reading()
        reactive = math.sqrt(max(0.0, meter.apparent_power_va**2 - meter.active_power_w**2))
        target = OVERLOAD_MARGIN * meter.contract_va
        return max(
            1000.0, round(math.sqrt(max(0.0, target**2 - reactive**2)) - meter.active_power_w)
        )

    def _leave(self, paired: _Paired) -> None:
        if not paired.paired:
            raise ControlError(f"{paired.device.friendly_name} already left")
        paired.paired = False
        self._publish_event(bridge_event("device_leave", paired.device))
        for message in self._device_discovery(paired.device) if self.options.ha_discovery else []:
            self._discovery_topics.discard(message.topic)
            self.publisher.publish(message.topic, b"", qos=1, retain=True)
        if self.options.availability:
            topic = f"{self.base}/{paired.device.friendly_name}/availability"
            self.publisher.publish(topic, b"", qos=1, retain=True)
        self._publish_bridge_devices()

    def _join(self, paired: _Paired, moment: float) -> None:
        if paired.paired:
            raise ControlError(f"{paired.device.friendly_name} is already paired")
        device = paired.device
        paired.paired, paired.last_report, paired.reported = True, None, None
        self._publish_event(bridge_event("device_joined", device))
        self._publish_event(bridge_event("device_interview", device, status="started"))
        self._publish_event(interview_successful(device))
        self._publish_bridge_devices()
        if self.options.ha_discovery:
            self._publish_discovery(self._device_discovery(device))
        self._publish_availability(paired, online=True)
        self._report(paired, moment)

    def _status(self) -> JsonObject:
        snapshot = self.household.snapshot()
        meter = snapshot.meter
        return {
            "time": snapshot.time.isoformat(),
            "speed": self.options.speed,
            "meter": {
                "active_power_w": round(meter.active_power_w, 1),
                "apparent_power_va": round(meter.apparent_power_va, 1),
                "contract_va": meter.contract_va,
                "overloaded": meter.overloaded,
                "tariff_period": meter.tariff_period.value,
            },
            "loads": {
                name: {"plug": load.plug, "power_w": round(load.power_w, 1)}
                for name, load in snapshot.loads.items()
            },
            "plugs": {
                name: {"on": plug.on, "power_w": round(plug.power_w, 1)}
                for name, plug in snapshot.plugs.items()
            },
            "devices": {
                name: {"paired": paired.paired, "online": not paired.offline}
                for name, paired in self._paired.items()
            },
        }


def _action_name(command: ControlCommand) -> str:
    return {
        ForceOverload: "force_overload",
        ClearOverload: "clear_overload",
        StartLoad: "start_load",
        StopLoad: "stop_load",
        HoldHousehold: "hold_household",
        ReleaseHousehold: "release_household",
        InjectFault: "fault",
        Leave: "leave",
        Join: "join",
        Status: "status",
    }[type(command)]


def _set_values(prop: str | None, payload: bytes) -> dict[str, JsonValue]:
    """What a `/set` message asks, whether JSON (`{"state": "OFF"}`) or a bare value (`OFF`)."""
    try:
        text = payload.decode().strip()
    except UnicodeDecodeError:
        raise ValueError("payload is not UTF-8") from None
    try:
        data: JsonValue = json.loads(text)
    except ValueError:
        data = text
    if isinstance(data, dict):
        return data if prop is None else {prop: data.get(prop, data.get("value"))}
    if isinstance(data, list) or data is None or data == "":
        raise ValueError(f"nothing to set in {text[:80]!r}")
    return {prop or "state": data}


def _valid_setting(expose: Expose, value: JsonValue) -> bool:
    """Whether a value fits a settable expose (its converter would refuse it otherwise)."""
    if expose.type == "binary":
        return value in (expose.value_on, expose.value_off)
    if expose.type == "enum":
        return isinstance(value, str) and value in (expose.values or ())
    if expose.type == "numeric":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (expose.value_min is None or value >= expose.value_min)
            and (expose.value_max is None or value <= expose.value_max)
        )
    return isinstance(value, str)
