"""What the bridge knows about each device: identity, availability, last values.

The ingest writes it, the API reads it. Devices are known from `bridge/devices` (friendly name,
IEEE address, model, metering plan) and from their own messages; a rename in `bridge/devices`
carries the last values over to the new name.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
import logging
import threading
from types import MappingProxyType

from zigbee2mqtt_protocol.bridge import BridgeDevice
from zigbee2mqtt_protocol.exposes import ExposedProperty
from zigbee2mqtt_protocol.metering import MeteringPlan, is_zlinky, plan_for, properties_of

from . import schema
from .line_protocol import tag_set
from .settings import DEFAULT_MAX_SITES

_LOGGER = logging.getLogger(__name__)

# Devices remembered in every site together, from device lists and from messages on new
# topics: this many per site of BRIDGE_MAX_SITES (a home of plugs and a meter), 1,000 by
# default; one home may take them all, far beyond any Zigbee network.
MAX_DEVICES_PER_SITE = 20


@dataclass(frozen=True, slots=True)
class DeviceView:
    """One device as the API shows it."""

    name: str
    ieee: str | None
    model: str | None
    vendor: str | None
    description: str | None
    online: bool | None  # None until an availability message says
    last_seen_ns: int | None
    last_values: Mapping[str, object]
    site: str = ""  # the home, from the base topic's + level; "" without one
    plan: MeteringPlan | None = None  # how its state makes power and energy, once listed
    zlinky: bool = False  # a LiXee ZLinky on a Linky's TIC port
    disabled: bool = False  # disabled in Zigbee2MQTT: it says nothing, it counts for nothing


@dataclass(frozen=True, slots=True)
class Zigbee2MqttView:
    """What the bridge knows of one home's Zigbee2MQTT (`bridge/state`)."""

    online: bool | None  # None until `bridge/state` says
    listening_since_ns: int  # since the bridge listens, or since Zigbee2MQTT came back


@dataclass(slots=True)
class _Entry:
    name: str
    site: str
    device: BridgeDevice | None = None
    plan: MeteringPlan | None = None
    zlinky: bool = False
    online: bool | None = None
    last_seen_ns: int | None = None
    last_values: Mapping[str, object] = field(default_factory=dict)
    tags: str = ""

    def retag(self) -> None:
        self.tags = tag_set(
            {
                schema.TAG_DEVICE: self.name,
                schema.TAG_IEEE: self.device.ieee if self.device else None,
                schema.TAG_MODEL: self.device.model if self.device else None,
                schema.TAG_SITE: self.site,
            }
        )

    def view(self) -> DeviceView:
        device = self.device
        return DeviceView(
            name=self.name,
            site=self.site,
            ieee=device.ieee if device else None,
            model=device.model if device else None,
            vendor=device.vendor if device else None,
            description=device.description if device else None,
            online=self.online,
            last_seen_ns=self.last_seen_ns,
            last_values=MappingProxyType(dict(self.last_values)),
            plan=self.plan,
            zlinky=self.zlinky,
            disabled=device.disabled if device else False,
        )


@dataclass(slots=True)
class _Zigbee2Mqtt:
    online: bool | None = None
    back_online_ns: int = 0  # when it last came back online after being offline


class DeviceRegistry:
    """Devices by site and friendly name (two homes may each have a `kettle`). Thread-safe:
    one writer (the ingest), many readers (the API)."""

    def __init__(self, max_sites: int = DEFAULT_MAX_SITES) -> None:
        self._lock = threading.Lock()
        self._sites: dict[str, dict[str, _Entry]] = {}
        self._size = 0  # entries in every site
        self._max_sites = max_sites
        self._max_devices = max_sites * MAX_DEVICES_PER_SITE
        self._zigbee2mqtt: dict[str, _Zigbee2Mqtt] = {}  # by site, at most max_sites
        self._listening_since_ns = 0

    def start_listening(self, time_ns: int) -> None:
        """The bridge starts listening: a meter gets its full delay to speak
        (`home.METER_SILENCE_S`) from now."""
        with self._lock:
            self._listening_since_ns = time_ns

    def record_bridge_state(self, online: bool, time_ns: int, site: str = "") -> None:
        """Remember whether a home's Zigbee2MQTT is online (its devices are unavailable while
        it is not); back online, its meter gets its full delay to speak again. Kept for
        `max_sites` homes: beyond, a home's Zigbee2MQTT is taken as online."""
        with self._lock:
            known = self._zigbee2mqtt.get(site)
            if known is None:
                if len(self._zigbee2mqtt) >= self._max_sites:
                    return
                known = self._zigbee2mqtt[site] = _Zigbee2Mqtt()
            if online and known.online is False:
                known.back_online_ns = time_ns
            known.online = online

    def zigbee2mqtt(self, site: str = "") -> Zigbee2MqttView:
        """A home's Zigbee2MQTT as far as the bridge knows."""
        with self._lock:
            known = self._zigbee2mqtt.get(site)
            if known is None:
                return Zigbee2MqttView(None, self._listening_since_ns)
            return Zigbee2MqttView(
                known.online, max(known.back_online_ns, self._listening_since_ns)
            )

    def admits(self, site: str) -> bool:
        """Whether a site's devices are remembered: a known site, or room for one more."""
        with self._lock:
            return site in self._sites or len(self._sites) < self._max_sites

    def replace_devices(self, devices: Iterable[BridgeDevice], site: str = "") -> bool:
        """Take a site's new `bridge/devices` list: follow renames, forget devices that left.

        Past `max_sites` x MAX_DEVICES_PER_SITE devices in every site together, the list's
        last devices are left out (and logged). True when the site is remembered with its
        list, or the list was empty; False when it is not remembered: a new site beyond
        `max_sites`, or no room for any device."""
        # Each device's metering plan is decided here, once per list, not per request.
        planned = [_metering(device) for device in devices]
        with self._lock:
            old = self._sites.get(site, {})
            if site not in self._sites and len(self._sites) >= self._max_sites:
                return False
            room = self._max_devices - (self._size - len(old))
            by_ieee = {e.device.ieee: e for e in old.values() if e.device is not None}
            entries: dict[str, _Entry] = {}
            listed = False
            for device, plan, zlinky in planned:
                listed = True
                if len(entries) >= room:
                    _LOGGER.warning(
                        "site %r: devices from %r on left out, %d devices are known already",
                        site,
                        device.friendly_name,
                        self._max_devices,
                    )
                    break
                name = device.friendly_name
                entry = by_ieee.get(device.ieee) or old.get(name) or _Entry(name, site)
                if entry.name != name:
                    _LOGGER.info("device %s renamed %r -> %r", device.ieee, entry.name, name)
                entry.name = name
                entry.device, entry.plan, entry.zlinky = device, plan, zlinky
                entry.retag()
                entries[name] = entry
            # Devices seen only through their messages (groups, or before bridge/devices) stay.
            for name, entry in old.items():
                if entry.device is None and name not in entries and len(entries) < room:
                    entries[name] = entry
            if entries:
                self._sites[site] = entries
            else:  # an empty home holds no place among max_sites
                self._sites.pop(site, None)
            self._size += len(entries) - len(old)
            return bool(entries) or not listed

    def record_state(
        self, name: str, values: Mapping[str, object], time_ns: int, site: str = ""
    ) -> str:
        """Remember a device's last values; returns the device's tag set for its points."""
        with self._lock:
            entry = self._entry(name, site)
            if entry is None:
                return _tags_of_unknown(name, site)
            entry.last_values = values
            entry.last_seen_ns = time_ns
            return entry.tags

    def record_availability(self, name: str, online: bool, site: str = "") -> str:
        """Remember a device's availability; returns the device's tag set for its points."""
        with self._lock:
            entry = self._entry(name, site)
            if entry is None:
                return _tags_of_unknown(name, site)
            entry.online = online
            return entry.tags

    def _entry(self, name: str, site: str) -> _Entry | None:
        entries = self._sites.get(site)
        entry = entries.get(name) if entries is not None else None
        if entry is None and self._size < self._max_devices:
            if entries is None:
                if len(self._sites) >= self._max_sites:
                    return None
                entries = self._sites[site] = {}
            entry = entries[name] = _Entry(name, site)
            entry.retag()
            self._size += 1
        return entry

    def views(self, site: str | None = None) -> list[DeviceView]:
        """Every device, or a site's, sorted by site then name."""
        with self._lock:
            sites = sorted(self._sites) if site is None else [site]
            return [
                entries[name].view()
                for entries in (self._sites.get(each, {}) for each in sites)
                for name in sorted(entries)
            ]

    def view(self, name: str, site: str = "") -> DeviceView | None:
        """One device by friendly name (and site)."""
        with self._lock:
            entry = self._sites.get(site, {}).get(name)
            return entry.view() if entry else None

    def device(self, name: str, site: str = "") -> BridgeDevice | None:
        """A device's definition from `bridge/devices`, when known."""
        with self._lock:
            entry = self._sites.get(site, {}).get(name)
            return entry.device if entry else None

    def sites_of(self, name: str) -> list[str]:
        """The sites that have a device of this name, sorted."""
        with self._lock:
            return sorted(site for site, entries in self._sites.items() if name in entries)

    def sites(self) -> list[str]:
        """Every site a device is known in, sorted."""
        with self._lock:
            return sorted(site for site, entries in self._sites.items() if entries)


# Homes have the same models: one plan per distinct definition, not per device (a flood of
# distinct definitions starts the memo afresh rather than growing it without bound).
_PLANS: dict[tuple[tuple[ExposedProperty, ...], bool], MeteringPlan] = {}
MAX_PLANS = 1_000


def _metering(device: BridgeDevice) -> tuple[BridgeDevice, MeteringPlan, bool]:
    """A device without its exposes (its plan says what they measure, its settings what it
    accepts), its metering plan, and whether it is a ZLinky (read as TIC registers)."""
    zlinky = is_zlinky(device.device)
    key = (device.properties, zlinky)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) >= MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[key] = plan_for(properties_of(device.properties), zlinky)
    return replace(device, properties=()), plan, zlinky


def _tags_of_unknown(name: str, site: str) -> str:
    return tag_set({schema.TAG_DEVICE: name, schema.TAG_SITE: site})
