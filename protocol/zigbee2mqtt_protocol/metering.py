"""Which properties of a device's state make its power, energy and contract readings.

Decided from units and exposes, never from a fixed list of property names, except for the LiXee
ZLinky, whose TIC registers have a meaning that units alone do not tell (its exposes in every
TIC mode: zigbee-herdsman-converters' `lixee.ts`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import re

from .bridge import DeviceDescription
from .exposes import ExposedProperty

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


def plan_for(properties: Mapping[str, PropertyInfo], zlinky: bool = False) -> MeteringPlan:
    """Decide which properties make a device's readings (`zlinky`: read them as TIC registers)."""
    switch = _main_switch(properties)
    if zlinky:
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


def _zlinky_plan(properties: Mapping[str, PropertyInfo], switch: Switch | None) -> MeteringPlan:
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


def _contract_term(properties: Mapping[str, PropertyInfo], prop: str) -> Term | None:
    """A contract register in VA: kVA as they are, amps at Enedis' 5 A per kVA."""
    info = properties.get(prop)
    unit = info.unit if info is not None else None
    if unit == "kVA":
        return Term(prop, 1000.0, ZLINKY_NO_DATA)
    if unit == "A":
        return Term(prop, VOLTS_PER_SUBSCRIBED_AMP, ZLINKY_NO_DATA)
    return None


def _main_switch(properties: Mapping[str, PropertyInfo]) -> Switch | None:
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


def is_zlinky(description: DeviceDescription) -> bool:
    """A LiXee ZLinky on a Linky meter's TIC port."""
    return ZLINKY_MODEL_ID in (description.model_id, description.model)


def properties_of(exposed: Iterable[ExposedProperty]) -> dict[str, PropertyInfo]:
    """What a definition's exposes say about each property."""
    return {
        prop.property: PropertyInfo(
            prop.unit,
            prop.settable,
            Switch(prop.property, prop.value_on or "ON", prop.value_off or "OFF")
            if prop.is_switch_state
            else None,
        )
        for prop in exposed
    }
