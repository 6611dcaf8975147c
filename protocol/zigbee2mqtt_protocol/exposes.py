"""A device definition's exposes: its properties, their units, what can be set and how."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import math

import orjson

# zigbee-herdsman-converters' access bits (lib/exposes.ts): the property is published in the
# state message, can be set through <name>/set, can be read through <name>/get.
ACCESS_STATE = 0b001
ACCESS_SET = 0b010
ACCESS_GET = 0b100


@dataclass(frozen=True, slots=True)
class ExposedProperty:
    """One property of a definition's exposes (features flattened)."""

    property: str
    unit: str | None
    settable: bool
    is_switch_state: bool = False
    value_on: str | None = None
    value_off: str | None = None


def flatten_exposes(exposes: list[object], in_switch: bool = False) -> list[ExposedProperty]:
    """Every property of the exposes, the features of composite exposes included."""
    flat: list[ExposedProperty] = []
    for expose in exposes:
        if not isinstance(expose, dict):
            continue
        features = expose.get("features")
        if isinstance(features, list):
            flat.extend(flatten_exposes(features, in_switch or expose.get("type") == "switch"))
            continue
        prop, access, unit = expose.get("property"), expose.get("access"), expose.get("unit")
        if not isinstance(prop, str):
            continue
        value_on, value_off = expose.get("value_on"), expose.get("value_off")
        flat.append(
            ExposedProperty(
                property=prop,
                unit=unit if isinstance(unit, str) else None,
                settable=_settable(access),
                is_switch_state=in_switch and prop.startswith("state"),
                value_on=value_on if isinstance(value_on, str) else None,
                value_off=value_off if isinstance(value_off, str) else None,
            )
        )
    return flat


class SettingKind(StrEnum):
    """The kinds of settable properties in Zigbee2MQTT's exposes."""

    BINARY = "binary"
    NUMERIC = "numeric"
    ENUM = "enum"
    TEXT = "text"
    COMPOSITE = "composite"
    LIST = "list"


type Scalar = str | bool | int | float


@dataclass(frozen=True, slots=True)
class Setting:
    """A property a device accepts on `<name>/set`, with the values it accepts."""

    kind: SettingKind
    choices: tuple[Scalar, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def problem(self, value: object) -> str | None:
        """Why `value` is not acceptable, or None."""
        match self.kind:
            case SettingKind.BINARY | SettingKind.ENUM:
                if any(type(value) is type(choice) and value == choice for choice in self.choices):
                    return None
                return "expected one of " + ", ".join(
                    orjson.dumps(choice).decode() for choice in self.choices
                )
            case SettingKind.NUMERIC:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    return "expected a number"
                if not math.isfinite(value):
                    return "expected a finite number"
                if self.minimum is not None and value < self.minimum:
                    return f"expected at least {self.minimum:g}"
                if self.maximum is not None and value > self.maximum:
                    return f"expected at most {self.maximum:g}"
                return None
            case SettingKind.TEXT:
                return None if isinstance(value, str) else "expected a string"
            case SettingKind.COMPOSITE:
                return None if isinstance(value, dict) else "expected an object"
            case SettingKind.LIST:
                return None if isinstance(value, list) else "expected a list"


def collect_settings(exposes: object, settings: dict[str, Setting]) -> None:
    """Add the settable properties of `exposes` to `settings`, by property."""
    if not isinstance(exposes, list):
        return
    for expose in exposes:
        if not isinstance(expose, dict):
            continue
        prop = expose.get("property")
        if not isinstance(prop, str):
            # switch, light, cover...: a group of features, each with its own property
            collect_settings(expose.get("features"), settings)
            continue
        if not _settable(expose.get("access")):
            continue
        try:
            kind = SettingKind(str(expose.get("type")))
        except ValueError:
            continue
        settings[prop] = _setting(kind, expose)


def _settable(access: object) -> bool:
    return type(access) is int and bool(access & ACCESS_SET)


def _setting(kind: SettingKind, expose: Mapping[str, object]) -> Setting:
    if kind is SettingKind.BINARY:
        choices = tuple(
            value
            for key in ("value_on", "value_off", "value_toggle")
            if isinstance(value := expose.get(key), str | bool)
        )
        return Setting(kind, choices)
    if kind is SettingKind.ENUM:
        values = expose.get("values")
        choices = tuple(v for v in values if isinstance(v, str)) if isinstance(values, list) else ()
        return Setting(kind, choices)
    if kind is SettingKind.NUMERIC:
        low, high = expose.get("value_min"), expose.get("value_max")
        return Setting(
            kind,
            minimum=float(low) if isinstance(low, int | float) else None,
            maximum=float(high) if isinstance(high, int | float) else None,
        )
    return Setting(kind)
