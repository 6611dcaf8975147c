"""What the bridge knows about each device: identity, availability, last values.

The ingest writes it, the API reads it. Devices are known from `bridge/devices` (friendly name,
IEEE address, model) and from their own messages; a rename in `bridge/devices` carries the
last values over to the new name.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import logging
import threading
from types import MappingProxyType

from . import schema
from .line_protocol import tag_set
from .z2m import Device

_LOGGER = logging.getLogger(__name__)

# Messages on new topics create entries; this many is far beyond any Zigbee network.
MAX_DEVICES = 10_000


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


@dataclass(slots=True)
class _Entry:
    name: str
    device: Device | None = None
    online: bool | None = None
    last_seen_ns: int | None = None
    last_values: Mapping[str, object] = field(default_factory=dict)
    tags: str = ""

    def retag(self) -> None:
        ieee = self.device.ieee if self.device else None
        model = self.device.model if self.device else None
        self.tags = tag_set(
            {schema.TAG_DEVICE: self.name, schema.TAG_IEEE: ieee, schema.TAG_MODEL: model}
        )

    def view(self) -> DeviceView:
        device = self.device
        return DeviceView(
            name=self.name,
            ieee=device.ieee if device else None,
            model=device.model if device else None,
            vendor=device.vendor if device else None,
            description=device.description if device else None,
            online=self.online,
            last_seen_ns=self.last_seen_ns,
            last_values=MappingProxyType(dict(self.last_values)),
        )


class DeviceRegistry:
    """Devices by friendly name. Thread-safe: one writer (the ingest), many readers (the API)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def replace_devices(self, devices: Iterable[Device]) -> None:
        """Take a new `bridge/devices` list: follow renames, forget devices that left."""
        with self._lock:
            old = self._entries
            by_ieee = {e.device.ieee: e for e in old.values() if e.device is not None}
            entries: dict[str, _Entry] = {}
            for device in devices:
                entry = by_ieee.get(device.ieee) or old.get(device.name) or _Entry(device.name)
                if entry.name != device.name:
                    _LOGGER.info("device %s renamed %r -> %r", device.ieee, entry.name, device.name)
                entry.name = device.name
                entry.device = device
                entry.retag()
                entries[device.name] = entry
            # Devices seen only through their messages (groups, or before bridge/devices) stay.
            for name, entry in old.items():
                if entry.device is None and name not in entries:
                    entries[name] = entry
            self._entries = entries

    def record_state(self, name: str, values: Mapping[str, object], time_ns: int) -> str:
        """Remember a device's last values; returns the device's tag set for its points."""
        with self._lock:
            entry = self._entry(name)
            if entry is None:
                return _tags_of_unknown(name)
            entry.last_values = values
            entry.last_seen_ns = time_ns
            return entry.tags

    def record_availability(self, name: str, online: bool) -> str:
        """Remember a device's availability; returns the device's tag set for its points."""
        with self._lock:
            entry = self._entry(name)
            if entry is None:
                return _tags_of_unknown(name)
            entry.online = online
            return entry.tags

    def _entry(self, name: str) -> _Entry | None:
        entry = self._entries.get(name)
        if entry is None and len(self._entries) < MAX_DEVICES:
            entry = self._entries[name] = _Entry(name)
            entry.retag()
        return entry

    def views(self) -> list[DeviceView]:
        """Every device, sorted by name."""
        with self._lock:
            return [self._entries[name].view() for name in sorted(self._entries)]

    def view(self, name: str) -> DeviceView | None:
        """One device by friendly name."""
        with self._lock:
            entry = self._entries.get(name)
            return entry.view() if entry else None

    def device(self, name: str) -> Device | None:
        """A device's definition from `bridge/devices`, when known."""
        with self._lock:
            entry = self._entries.get(name)
            return entry.device if entry else None


def _tags_of_unknown(name: str) -> str:
    return tag_set({schema.TAG_DEVICE: name})
