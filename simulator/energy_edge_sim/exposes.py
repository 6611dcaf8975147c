"""Zigbee2MQTT "exposes": how a device definition describes what it publishes and accepts.

The builders follow zigbee-herdsman-converters' presets (`e.power()`, `e.switch()`...), so the
definitions in `bridge/devices` and the discovery configs derived from them read as Z2M's own.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from .z2mjson import JsonObject, JsonValue

ACCESS_STATE = 0b001  # published in the device's state message
ACCESS_SET = 0b010  # settable through <name>/set
ACCESS_GET = 0b100  # readable through <name>/get
ACCESS_ALL = ACCESS_STATE | ACCESS_SET | ACCESS_GET

type BinaryValue = str | bool


@dataclass(frozen=True, kw_only=True)
class Expose:
    """One expose: a generic feature (numeric, binary, enum, text) or a composite (switch)."""

    type: str
    name: str | None = None
    label: str | None = None
    access: int | None = None
    property: str | None = None
    description: str | None = None
    category: str | None = None
    unit: str | None = None
    value_min: float | None = None
    value_max: float | None = None
    value_step: float | None = None
    values: tuple[str, ...] | None = None
    value_on: BinaryValue | None = None
    value_off: BinaryValue | None = None
    value_toggle: str | None = None
    endpoint: str | None = None
    # Hints for Home Assistant carried by the definition, e.g. {"entityCategory": "diagnostic"}.
    homeassistant: Mapping[str, str] = field(default_factory=dict)
    features: tuple[Expose, ...] = ()

    def settable(self) -> bool:
        """It can be set through `/set`."""
        return bool((self.access or 0) & ACCESS_SET)

    def leaves(self) -> tuple[Expose, ...]:
        """The expose itself, or the features of a composite."""
        return self.features or (self,)

    def to_json(self) -> JsonObject:
        """The expose as Zigbee2MQTT serialises it (absent fields omitted)."""
        data: JsonObject = {"type": self.type}
        for key in (
            "name",
            "label",
            "access",
            "property",
            "description",
            "category",
            "unit",
            "value_min",
            "value_max",
            "value_step",
            "value_on",
            "value_off",
            "value_toggle",
            "endpoint",
        ):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.values is not None:
            data["values"] = list(self.values)
        if self.homeassistant:
            data["homeassistant"] = dict(self.homeassistant)
        if self.features:
            data["features"] = [feature.to_json() for feature in self.features]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Expose:
        """Read an expose as Zigbee2MQTT publishes it; unknown keys are ignored."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        def number(key: str) -> float | None:
            value = data.get(key)
            return value if isinstance(value, int | float) and not isinstance(value, bool) else None

        def binary(key: str) -> BinaryValue | None:
            value = data.get(key)
            return value if isinstance(value, str | bool) else None

        values = data.get("values")
        features = data.get("features")
        hints = data.get("homeassistant")
        access = number("access")
        return cls(
            type=text("type") or "",
            name=text("name"),
            label=text("label"),
            access=None if access is None else int(access),
            property=text("property"),
            description=text("description"),
            category=text("category"),
            unit=text("unit"),
            value_min=number("value_min"),
            value_max=number("value_max"),
            value_step=number("value_step"),
            values=tuple(str(v) for v in values) if isinstance(values, list) else None,
            value_on=binary("value_on"),
            value_off=binary("value_off"),
            value_toggle=text("value_toggle"),
            endpoint=text("endpoint"),
            homeassistant={k: str(v) for k, v in hints.items()} if isinstance(hints, dict) else {},
            features=tuple(
                cls.from_json(cast("Mapping[str, JsonValue]", feature))
                for feature in features
                if isinstance(feature, dict)
            )
            if isinstance(features, list)
            else (),
        )


def default_label(name: str) -> str:
    """Zigbee-herdsman-converters' label: first letter up, underscores as spaces."""
    return (name[:1].upper() + name[1:]).replace("_", " ")


def numeric(
    name: str,
    access: int,
    *,
    unit: str | None = None,
    description: str | None = None,
    prop: str | None = None,
    label: str | None = None,
    category: str | None = None,
    value_min: float | None = None,
    value_max: float | None = None,
    value_step: float | None = None,
    homeassistant: Mapping[str, str] | None = None,
) -> Expose:
    """A number (`e.numeric(...)`)."""
    return Expose(
        type="numeric",
        name=name,
        label=label or default_label(name),
        access=access,
        property=prop or name,
        description=description,
        category=category,
        unit=unit,
        value_min=value_min,
        value_max=value_max,
        value_step=value_step,
        homeassistant=homeassistant or {},
    )


def binary(
    name: str,
    access: int,
    value_on: BinaryValue,
    value_off: BinaryValue,
    *,
    description: str | None = None,
    label: str | None = None,
    category: str | None = None,
    value_toggle: str | None = None,
) -> Expose:
    """A two-state value (`e.binary(...)`)."""
    return Expose(
        type="binary",
        name=name,
        label=label or default_label(name),
        access=access,
        property=name,
        description=description,
        category=category,
        value_on=value_on,
        value_off=value_off,
        value_toggle=value_toggle,
    )


def enum(
    name: str,
    access: int,
    values: Sequence[str],
    *,
    description: str | None = None,
    label: str | None = None,
    category: str | None = None,
) -> Expose:
    """One of a set of values (`e.enum(...)`)."""
    return Expose(
        type="enum",
        name=name,
        label=label or default_label(name),
        access=access,
        property=name,
        description=description,
        category=category,
        values=tuple(values),
    )


def text(
    name: str, access: int, *, prop: str | None = None, description: str | None = None
) -> Expose:
    """Free text (`e.text(...)`)."""
    return Expose(
        type="text",
        name=name,
        label=default_label(name),
        access=access,
        property=prop or name,
        description=description,
    )


def switch() -> Expose:
    """The on/off switch of a plug (`e.switch()`)."""
    return Expose(
        type="switch",
        features=(
            binary(
                "state",
                ACCESS_ALL,
                "ON",
                "OFF",
                value_toggle="TOGGLE",
                description="On/off state of the switch",
            ),
        ),
    )


def power(access: int = ACCESS_STATE) -> Expose:
    """`e.power()`."""
    return numeric("power", access, unit="W", description="Instantaneous measured power")


def current(access: int = ACCESS_STATE) -> Expose:
    """`e.current()`."""
    return numeric(
        "current", access, unit="A", description="Instantaneous measured electrical current"
    )


def voltage(access: int = ACCESS_STATE, *, diagnostic: bool = False) -> Expose:
    """`e.voltage()`; modern extends mark it diagnostic for Home Assistant."""
    return numeric(
        "voltage",
        access,
        unit="V",
        description="Measured electrical potential value",
        homeassistant={"entityCategory": "diagnostic"} if diagnostic else None,
    )


def energy(access: int = ACCESS_STATE) -> Expose:
    """`e.energy()`."""
    return numeric("energy", access, unit="kWh", description="Sum of consumed energy")


def identify() -> Expose:
    """`e.identify()`: a set-only enum that Home Assistant shows as a button."""
    return enum(
        "identify",
        ACCESS_SET,
        ["identify"],
        description="Initiate device identification",
        category="config",
    )


def linkquality() -> Expose:
    """The link quality that Zigbee2MQTT adds to every device."""
    return numeric(
        "linkquality",
        ACCESS_STATE,
        unit="lqi",
        description="Link quality (signal strength)",
        category="diagnostic",
        value_min=0,
        value_max=255,
    )
