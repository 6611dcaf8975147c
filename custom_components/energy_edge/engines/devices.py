"""The devices of one Zigbee2MQTT instance, what they measure, and what role they play.

Pure module (no Home Assistant import). Two sources describe a device: Z2M's Home Assistant
discovery configs (one per entity) and its `bridge/devices` list (one definition per device).
Either alone is enough; together they enrich each other. What each property measures comes from
the protocol library's metering plans; the roles (grid meter, sub-meter, switchable load) are
Energy Edge's.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from zigbee2mqtt_protocol.bridge import BridgeDevice, DeviceDescription
from zigbee2mqtt_protocol.discovery import DiscoveredProperty, DiscoveryRemoval
from zigbee2mqtt_protocol.metering import (
    BOOKKEEPING_PROPERTIES,
    MeteringPlan,
    PropertyInfo,
    Switch,
    is_zlinky,
    plan_for,
    properties_of,
)


class DeviceRole(StrEnum):
    """The part an energy device plays in the home."""

    GRID_METER = "grid_meter"
    SUB_METER = "sub_meter"
    SWITCHABLE_LOAD = "switchable_load"


@dataclass(slots=True)
class EnergyDevice:
    """A Zigbee device as Energy Edge knows it, keyed by its IEEE address."""

    ieee: str
    friendly_name: str
    description: DeviceDescription
    discovered: dict[tuple[str, str], DiscoveredProperty] = field(default_factory=dict)
    exposed: dict[str, PropertyInfo] = field(default_factory=dict)
    in_bridge_list: bool | None = None
    disabled: bool = False
    left: bool = False
    role: DeviceRole | None = None
    plan: MeteringPlan = field(default_factory=MeteringPlan)
    known_properties: frozenset[str] = frozenset()
    managed: bool = False  # present and measuring energy, as of the last refresh

    @property
    def present(self) -> bool:
        """Z2M currently has this device (it was not removed, did not leave, is not disabled)."""
        if self.left or self.disabled:
            return False
        if self.in_bridge_list is not None:
            return self.in_bridge_list
        return bool(self.discovered)

    @property
    def is_zlinky(self) -> bool:
        """A LiXee ZLinky on a Linky meter's TIC port."""
        return is_zlinky(self.description)

    def properties(self) -> dict[str, PropertyInfo]:
        """Every property known from either source (discovery configs refine exposes)."""
        merged = dict(self.exposed)
        for found in self.discovered.values():
            switch = (
                Switch(found.property, found.value_on or "ON", found.value_off or "OFF")
                if found.component == "switch"
                else None
            )
            known = merged.get(found.property)
            merged[found.property] = PropertyInfo(
                unit=found.unit or (known.unit if known else None),
                settable=found.settable and found.component != "sensor",
                switch=switch or (known.switch if known else None),
            )
        return merged


@dataclass(slots=True)
class CatalogChange:
    """What one input changed in the catalog."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    renamed: dict[str, tuple[str, str]] = field(default_factory=dict)
    updated: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        """True when anything changed."""
        return bool(self.added or self.removed or self.renamed or self.updated)


class DeviceCatalog:
    """Every device of one Z2M instance, merged from both sources and classified."""

    def __init__(self, main_meter: str | None = None) -> None:
        """Start empty; `main_meter` is the IEEE address the user chose as grid meter."""
        self._devices: dict[str, EnergyDevice] = {}
        self._main_meter = main_meter
        self._bridge_list_seen = False
        self.grid_meter: str | None = None

    def __iter__(self) -> Iterator[EnergyDevice]:
        """Every device ever seen, present or not."""
        return iter(list(self._devices.values()))

    def get(self, ieee: str) -> EnergyDevice | None:
        """One device by IEEE address."""
        return self._devices.get(ieee)

    def __getitem__(self, ieee: str) -> EnergyDevice:
        """One device that the catalog is known to hold."""
        return self._devices[ieee]

    def energy_devices(self) -> list[EnergyDevice]:
        """Present devices that measure energy, in a stable order."""
        return sorted(
            (device for device in self._devices.values() if device.managed),
            key=lambda device: device.ieee,
        )

    def apply_discovery(self, found: DiscoveredProperty | DiscoveryRemoval) -> CatalogChange:
        """Take one discovery config (or its removal) into account."""
        if isinstance(found, DiscoveryRemoval):
            device = self._devices.get(found.ieee)
            if (
                device is None
                or device.discovered.pop((found.component, found.object_id), None) is None
            ):
                return CatalogChange()
            return self._refresh([device.ieee], {device.ieee: device.friendly_name})
        device = self._devices.get(found.ieee)
        if device is None:
            device = self._devices[found.ieee] = EnergyDevice(
                found.ieee,
                found.friendly_name,
                found.device,
                # once Z2M's list is known, a device joins when the list names it
                in_bridge_list=False if self._bridge_list_seen else None,
            )
        old_name = device.friendly_name
        device.discovered[(found.component, found.object_id)] = found
        device.left = False
        if device.in_bridge_list is None:
            device.friendly_name = found.friendly_name
            device.description = found.device
        return self._refresh([device.ieee], {device.ieee: old_name})

    def apply_bridge_devices(
        self, listed: list[BridgeDevice], complete: bool = True
    ) -> CatalogChange:
        """Take a new `bridge/devices` list into account: it is authoritative for names.

        Devices missing from a complete list are gone; a list with unreadable entries
        (`complete=False`) only adds and updates, since a missing device may be an unreadable one.
        """
        old_names = {ieee: device.friendly_name for ieee, device in self._devices.items()}
        self._bridge_list_seen = True
        seen = set()
        for entry in listed:
            seen.add(entry.ieee)
            device = self._devices.get(entry.ieee)
            if device is None:
                device = self._devices[entry.ieee] = EnergyDevice(
                    entry.ieee, entry.friendly_name, entry.device
                )
            device.friendly_name = entry.friendly_name
            device.description = entry.device
            device.in_bridge_list = True
            device.disabled = entry.disabled
            device.left = False
            device.exposed = properties_of(entry.properties)
        for ieee, device in self._devices.items():
            if ieee not in seen and complete:
                device.in_bridge_list = False
        return self._refresh(list(self._devices), old_names)

    def mark_left(self, ieee: str) -> CatalogChange:
        """The device left the network (`device_leave`)."""
        device = self._devices.get(ieee)
        if device is None or device.left:
            return CatalogChange()
        device.left = True
        return self._refresh([ieee], {ieee: device.friendly_name})

    def set_main_meter(self, ieee: str | None) -> CatalogChange:
        """The user chose another grid meter (None: the ZLinky, if any)."""
        self._main_meter = ieee
        return self._refresh(list(self._devices), {})

    def _refresh(self, ieees: list[str], old_names: dict[str, str]) -> CatalogChange:
        """Re-classify devices and report what changed for their users."""
        before = {
            ieee: (device.managed, device.role, device.plan, device.known_properties)
            for ieee, device in self._devices.items()
        }
        for ieee in ieees:
            device = self._devices[ieee]
            properties = device.properties()
            device.known_properties = frozenset(properties) | BOOKKEEPING_PROPERTIES
            device.plan = plan_for(properties, device.is_zlinky)
        self.grid_meter = self._choose_grid_meter()
        change = CatalogChange()
        for ieee, device in self._devices.items():
            device.role = classify(device, self.grid_meter)
            was_managed, role, plan, known = before[ieee]
            device.managed = device.present and device.role is not None
            if device.managed and not was_managed:
                change.added.add(ieee)
            elif was_managed and not device.managed:
                change.removed.add(ieee)
            elif device.managed and (role, plan, known) != (
                device.role,
                device.plan,
                device.known_properties,
            ):
                change.updated.add(ieee)
            old_name = old_names.get(ieee)
            if device.managed and old_name is not None and old_name != device.friendly_name:
                change.renamed[ieee] = (old_name, device.friendly_name)
        return change

    def _choose_grid_meter(self) -> str | None:
        chosen = self._devices.get(self._main_meter) if self._main_meter else None
        if chosen is not None and chosen.present and chosen.plan.is_metered:
            return chosen.ieee
        linkies = sorted(
            ieee
            for ieee, device in self._devices.items()
            if device.present and device.is_zlinky and device.plan.is_metered
        )
        return linkies[0] if linkies else None


def is_individual_device(device: EnergyDevice) -> bool:
    """A metered part of the home (a plug, a DIN-rail meter), not the grid meter."""
    return device.role in (DeviceRole.SUB_METER, DeviceRole.SWITCHABLE_LOAD)


def classify(device: EnergyDevice, grid_meter: str | None) -> DeviceRole | None:
    """The role of a device, or None when it measures no energy."""
    if device.ieee == grid_meter:
        return DeviceRole.GRID_METER
    if not device.plan.is_metered:
        return None
    return DeviceRole.SWITCHABLE_LOAD if device.plan.switch else DeviceRole.SUB_METER
