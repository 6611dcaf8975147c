"""The devices of one Zigbee2MQTT instance, what they measure, and what role they play.

Pure module (no Home Assistant import). Two sources describe a device: Z2M's Home Assistant
discovery configs (one per entity) and its `bridge/devices` list (one definition per device).
Either alone is enough; together they enrich each other. Classification relies on units and
exposes, never on a fixed list of property names, except for the ZLinky whose TIC registers have
a meaning that units alone do not tell.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
import re

from custom_components.energy_edge.z2m import (
    BridgeDevice,
    DeviceDescription,
    DiscoveredProperty,
    DiscoveryRemoval,
)

ZLINKY_MODEL_ID = "ZLinky_TIC"
# Enedis sells 5 A per kVA: a historic-mode ISOUSC of 30 A is a 6 kVA contract.
VOLTS_PER_SUBSCRIBED_AMP = 200.0
# LiXee's "no data" value for the ZLinky's UINT16 registers (PAPP, SINSTS, ISOUSC, PREF): 0xFFFF.
ZLINKY_NO_DATA = 65535.0

# Properties Z2M adds to most devices' state messages besides their exposes.
BOOKKEEPING_PROPERTIES = frozenset({"last_seen", "linkquality", "update", "update_available"})


class Quantity(StrEnum):
    """What a unit measures, in Energy Edge's base units (W, kWh, VA)."""

    POWER = "power"
    ENERGY = "energy"
    APPARENT_POWER = "apparent_power"


UNITS: dict[str, tuple[Quantity, float]] = {
    "W": (Quantity.POWER, 1.0),
    "kW": (Quantity.POWER, 1000.0),
    "Wh": (Quantity.ENERGY, 0.001),
    "kWh": (Quantity.ENERGY, 1.0),
    "MWh": (Quantity.ENERGY, 1000.0),
    "VA": (Quantity.APPARENT_POWER, 1.0),
    "kVA": (Quantity.APPARENT_POWER, 1000.0),
}

_PHASE_SUFFIX = re.compile(r"^(?P<base>.+?)_(?P<phase>phase_[abc]|ph_[abc]|l[1-9]|p[1-9])$")
_FIRST_PHASES = frozenset({"phase_a", "ph_a", "l1", "p1"})
_STATISTIC_WORDS = frozenset({"max", "min", "peak", "average", "avg", "threshold", "limit"})
_PRODUCTION_WORDS = frozenset(
    {"produced", "received", "returned", "export", "exported", "injected", "generated"}
)
_ZLINKY_TIER = re.compile(r"^current_tier\d+_summ_delivered$")


class DeviceRole(StrEnum):
    """The part an energy device plays in the home."""

    GRID_METER = "grid_meter"
    SUB_METER = "sub_meter"
    SWITCHABLE_LOAD = "switchable_load"


@dataclass(frozen=True, slots=True)
class Term:
    """A state property and the factor that turns its value into the base unit."""

    property: str
    scale: float = 1.0
    no_data: float | None = None  # the raw value a device sends when it has nothing to say


@dataclass(frozen=True, slots=True)
class Switch:
    """How to read and command a device's on/off state."""

    property: str = "state"
    value_on: str = "ON"
    value_off: str = "OFF"


@dataclass(frozen=True, slots=True)
class MeteringPlan:
    """Which properties of a device's state make its power, energy and contract readings."""

    power: tuple[Term, ...] = ()
    apparent_power: tuple[Term, ...] = ()
    imported_energy: tuple[Term, ...] = ()
    # A total that may count the same energy as `imported_energy` (a historic Linky's BASE beside
    # its tariff registers): each message counts the larger of the two, never both.
    imported_energy_total: Term | None = None
    produced_energy: tuple[Term, ...] = ()
    reference_power: Term | None = None
    cutoff_power: Term | None = None
    power_from_apparent: bool = False
    switch: Switch | None = None

    @property
    def is_metered(self) -> bool:
        """The device measures something Energy Edge can account for."""
        return bool(self.power or self.imported_energy or self.apparent_power)

    @property
    def integrates_energy(self) -> bool:
        """Energy must be integrated from power: the device has no energy counter."""
        return bool(self.power or self.power_from_apparent) and not self.imported_energy

    @property
    def watched_properties(self) -> frozenset[str]:
        """Every property the plan reads."""
        terms = (
            *self.power,
            *self.apparent_power,
            *self.imported_energy,
            *((self.imported_energy_total,) if self.imported_energy_total else ()),
            *self.produced_energy,
            *((self.reference_power,) if self.reference_power else ()),
            *((self.cutoff_power,) if self.cutoff_power else ()),
        )
        return frozenset(term.property for term in terms)


@dataclass(slots=True)
class PropertyInfo:
    """What is known about one property of a device."""

    unit: str | None
    settable: bool = False
    switch: Switch | None = None


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
        return ZLINKY_MODEL_ID in (self.description.model_id, self.description.model)

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
            device.exposed = {
                exposed.property: PropertyInfo(
                    exposed.unit,
                    exposed.settable,
                    Switch(exposed.property, exposed.value_on or "ON", exposed.value_off or "OFF")
                    if exposed.is_switch_state
                    else None,
                )
                for exposed in entry.properties
            }
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
            device.plan = plan_for(device, properties)
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


def plan_for(device: EnergyDevice, properties: dict[str, PropertyInfo]) -> MeteringPlan:
    """Decide which properties make the device's readings."""
    switch = _main_switch(properties)
    if device.is_zlinky:
        return _zlinky_plan(properties, switch)
    by_quantity: dict[Quantity, list[Term]] = {quantity: [] for quantity in Quantity}
    produced: list[Term] = []
    for prop, info in properties.items():
        unit = UNITS.get(info.unit or "")
        if unit is None or info.settable or _is_statistic(prop):
            continue
        quantity, scale = unit
        if quantity is Quantity.ENERGY and _is_production(prop):
            produced.append(Term(prop, scale))
        else:
            by_quantity[quantity].append(Term(prop, scale))
    return MeteringPlan(
        power=_main_reading(by_quantity[Quantity.POWER], "power"),
        apparent_power=_main_reading(by_quantity[Quantity.APPARENT_POWER], "power_apparent"),
        imported_energy=_main_reading(by_quantity[Quantity.ENERGY], "energy"),
        produced_energy=_main_reading(produced, "produced_energy"),
        switch=switch,
    )


def _zlinky_plan(properties: dict[str, PropertyInfo], switch: Switch | None) -> MeteringPlan:
    """The TIC registers of a Linky meter, standard or historic mode, one or three phases.

    `available_power` is PREF (kVA) in standard mode and ISOUSC (A) in historic mode; only
    standard mode has the cut-off power PCOUP (`power_threshold`, kVA).
    """
    apparent = next(
        (
            Term(prop, no_data=ZLINKY_NO_DATA)
            for prop in ("total_apparent_power", "apparent_power")
            if prop in properties
        ),
        None,
    )
    tiers = tuple(Term(prop) for prop in sorted(properties) if _ZLINKY_TIER.match(prop))
    total = Term("current_summ_delivered") if "current_summ_delivered" in properties else None
    imported: tuple[Term, ...] = (total,) if total else tiers
    historic = (info := properties.get("available_power")) is not None and info.unit == "A"
    if historic and tiers and total:
        # Z2M exposes BASE beside Tempo's six registers, and fills it with HCJB + HPJB when the
        # ZLinky sends 0 (BBR has no BASE): the registers are the truth, BASE when they are idle.
        imported = tiers
    apparent_terms = (apparent,) if apparent else ()
    return MeteringPlan(
        power=apparent_terms,
        apparent_power=apparent_terms,
        imported_energy=imported,
        imported_energy_total=total if imported is tiers and total else None,
        produced_energy=(Term("current_summ_received"),)
        if "current_summ_received" in properties
        else (),
        reference_power=_contract_term(properties, "available_power"),
        cutoff_power=_contract_term(properties, "power_threshold"),
        power_from_apparent=apparent is not None,
        switch=switch,
    )


def _contract_term(properties: dict[str, PropertyInfo], prop: str) -> Term | None:
    """A contract register in VA: kVA as they are, amps at Enedis' 5 A per kVA."""
    info = properties.get(prop)
    unit = info.unit if info is not None else None
    if unit == "kVA":
        return Term(prop, 1000.0, ZLINKY_NO_DATA)
    if unit == "A":
        return Term(prop, VOLTS_PER_SUBSCRIBED_AMP, ZLINKY_NO_DATA)
    return None


def _main_switch(properties: dict[str, PropertyInfo]) -> Switch | None:
    switches = sorted(
        (info.switch for info in properties.values() if info.switch is not None),
        key=lambda switch: (switch.property != "state", switch.property),
    )
    return switches[0] if switches else None


def _main_reading(terms: list[Term], canonical: str) -> tuple[Term, ...]:
    """The terms whose sum is the device's reading, from phase and endpoint variants.

    A `total` property wins; otherwise one family of properties (`power`, `power_phase_b`, ...)
    is summed, unless its unsuffixed member is the total of suffixed members that include the
    first phase.
    """
    if not terms:
        return ()
    families: dict[str, list[tuple[str | None, Term]]] = {}
    for term in terms:
        match = _PHASE_SUFFIX.match(term.property)
        base, phase = (match["base"], match["phase"]) if match else (term.property, None)
        families.setdefault(base, []).append((phase, term))
    base = min(families, key=lambda name: ("total" not in name.split("_"), name != canonical, name))
    members = families[base]
    whole = [term for phase, term in members if phase is None]
    if whole and (len(members) == 1 or any(phase in _FIRST_PHASES for phase, _ in members)):
        return (whole[0],)
    return tuple(sorted((term for _, term in members), key=lambda term: term.property))


def _is_statistic(prop: str) -> bool:
    return not _STATISTIC_WORDS.isdisjoint(prop.lower().split("_"))


def _is_production(prop: str) -> bool:
    return not _PRODUCTION_WORDS.isdisjoint(prop.lower().split("_"))
