"""What makes the add-on valid: the Supervisor's rules for an add-on, and the add-on's contract
with the bridge (every option is the bridge setting of the same name, of a compatible type).

The Supervisor's rules are transcribed from its source, `supervisor/addons/validate.py` and
`supervisor/addons/options.py`; each check returns the problems it finds, so a test can show that
a broken copy is caught.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
import re
import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

# Home Assistant's supported architectures since 32-bit systems were dropped (2025.12).
ARCHITECTURES = frozenset({"aarch64", "amd64"})
REQUIRED_KEYS = {"name": str, "version": str, "slug": str, "description": str, "arch": list}
RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
RE_SERVICE = re.compile(r"^(?P<service>mqtt|mysql):(?P<rights>provide|want|need)$")
RE_PORT = re.compile(r"^\d+(?:/tcp|/udp)?$")
RE_IMAGE = re.compile(r"^([a-zA-Z\-\.:\d{}]+/)*?([\-\w{}]+)/([\-\w{}]+)$")
RE_WATCHDOG = re.compile(r"^(?:https?|\[PROTO:\w+\]|tcp):\/\/\[HOST\]:(\[PORT:\d+\]|\d+).*$")
RE_WEBUI = re.compile(r"^(?:https?|\[PROTO:\w+\]):\/\/\[HOST\]:\[PORT:\d+\].*$")
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool"
    r"|email"
    r"|url"
    r"|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>\d+)?,(?P<i_max>\d+)?\))?"
    r"|float(?:\((?P<f_min>[\d\.]+)?,(?P<f_max>[\d\.]+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\)"
    r")\??$"
)

# Options of the add-on itself, which no bridge setting matches.
ADDON_ONLY_OPTIONS = frozenset({"simulator"})
# What the Supervisor's MQTT service provides: never an option.
BROKER_SETTINGS = frozenset(
    {"mqtt_host", "mqtt_port", "mqtt_username", "mqtt_password", "mqtt_tls", "mqtt_ca_file"}
)
# Environment variables with these prefixes are bridge settings (pydantic-settings' naming).
SETTING_PREFIXES = ("MQTT_", "INFLUXDB_", "BRIDGE_", "Z2M_")

# Which Python types of a setting each kind of option may feed.
COMPATIBLE_TYPES: Mapping[str, frozenset[object]] = {
    "bool": frozenset({bool}),
    "int": frozenset({int}),
    "port": frozenset({int}),
    "float": frozenset({float}),
    "str": frozenset({str, Path}),
    "match": frozenset({str, Path}),
    "email": frozenset({str}),
    "url": frozenset({str}),
    "password": frozenset({SecretStr}),
    "list": frozenset({Literal, str}),
}


@dataclass(frozen=True)
class OptionType:
    """One element of an add-on's options schema, such as `int(1,)` or `list(a|b)?`."""

    kind: str
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...]
    optional: bool

    @classmethod
    def parse(cls, element: str) -> OptionType | None:
        """The parsed element, or None when the Supervisor would not know it."""
        match = RE_SCHEMA_ELEMENT.match(element)
        if not match or not element.rstrip("?"):
            return None
        kind = element.split("(", 1)[0].rstrip("?")
        low = next(
            (match[name] for name in ("s_min", "p_min", "i_min", "f_min") if match[name]), None
        )
        high = next(
            (match[name] for name in ("s_max", "p_max", "i_max", "f_max") if match[name]), None
        )
        return cls(
            kind=kind,
            minimum=float(low) if low else None,
            maximum=float(high) if high else None,
            choices=tuple(match.group("list").split("|")) if match.group("list") else (),
            optional=element.endswith("?"),
        )

    def accepts(self, value: object) -> bool:
        """Whether the Supervisor accepts this value for the option (None: not given)."""
        if value is None:
            return False
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind in {"int", "port", "float"}:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            low, high = (1, 65535) if self.kind == "port" else (self.minimum, self.maximum)
            return (low is None or value >= low) and (high is None or value <= high)
        if self.kind == "list":
            return str(value) in self.choices
        if self.kind == "url":
            return (
                isinstance(value, str)
                and re.match(r"^[a-z][a-z0-9+.-]*://[^\s/]+", value) is not None
            )
        if not isinstance(value, str):
            return False
        return (self.minimum is None or len(value) >= self.minimum) and (
            self.maximum is None or len(value) <= self.maximum
        )

    def samples(self) -> list[object]:
        """Values at the edges of what the Supervisor accepts, as the add-on hands them over."""
        if self.kind == "bool":
            return [True, False]
        if self.kind == "port":
            return [1, 65535]
        if self.kind in {"int", "float"}:
            low = self.minimum if self.minimum is not None else -(2**31)
            high = self.maximum if self.maximum is not None else 2**31
            cast = int if self.kind == "int" else float
            return [cast(low), cast(high)]
        if self.kind == "list":
            return list(self.choices)
        if self.kind == "url":
            return ["http://influxdb.local:8086"]
        if self.kind == "email":
            return ["someone@example.org"]
        if self.kind in {"str", "password"}:
            return [
                "x" * int(self.minimum or 0),
                *(["x" * int(self.maximum)] if self.maximum else []),
            ]
        return []


def as_bashio_text(value: object) -> str:
    """An option's value as `bashio::config` prints it, hence as the bridge's environment has it."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Breaches of the Supervisor's rules for an add-on's config.yaml."""
    problems = [
        f"required key {key!r} missing or not a {kind.__name__}"
        for key, kind in REQUIRED_KEYS.items()
        if not isinstance(config.get(key), kind)
    ]
    if isinstance(config.get("slug"), str) and not RE_SLUG.match(config["slug"]):
        problems.append(f"slug {config['slug']!r} is not URI friendly")
    architectures = set(config.get("arch") or [])
    if architectures != ARCHITECTURES:
        problems.append(f"arch {sorted(architectures)} is not {sorted(ARCHITECTURES)}")
    problems += [
        f"service {s!r} is not <mqtt|mysql>:<provide|want|need>"
        for s in config.get("services", [])
        if not RE_SERVICE.match(s)
    ]
    for port, host_port in (config.get("ports") or {}).items():
        if not RE_PORT.match(str(port)) or not (host_port is None or 1 <= host_port <= 65535):
            problems.append(f"port mapping {port}: {host_port} is invalid")
    for key, pattern in (("image", RE_IMAGE), ("watchdog", RE_WATCHDOG), ("webui", RE_WEBUI)):
        if key in config and not pattern.match(str(config[key])):
            problems.append(f"{key} {config[key]!r} does not match the Supervisor's pattern")
    if not 10 <= int(config.get("timeout", 10)) <= 300:
        problems.append(f"timeout {config['timeout']} is outside 10..300 s")
    if config.get("init", True) is not False:
        problems.append("init must be false: the base image's s6-overlay v3 is the init")
    schema = config.get("schema") or {}
    options = config.get("options") or {}
    for key, element in schema.items():
        option_type = OptionType.parse(str(element))
        if option_type is None:
            problems.append(f"option {key!r}: unknown schema type {element!r}")
        elif key in options and options[key] is not None and not option_type.accepts(options[key]):
            problems.append(f"option {key!r}: default {options[key]!r} is not a valid {element}")
        elif key not in options and not option_type.optional:
            problems.append(f"option {key!r} is required but has no default nor null in options")
    problems += [
        f"option {key!r} has a default but no schema" for key in options if key not in schema
    ]
    return problems


def setting_members(field: FieldInfo) -> tuple[Any, ...]:
    """The types a bridge setting's annotation joins (`X | None` gives X and None)."""
    annotation = field.annotation
    if get_origin(annotation) in {Union, types.UnionType}:
        return get_args(annotation)
    return (annotation,)


def setting_types(field: FieldInfo) -> set[object]:
    """The Python types a bridge setting holds, Literal standing for any Literal[...]."""
    held = {
        Literal if get_origin(member) is Literal else member for member in setting_members(field)
    }
    return held - {type(None)}


def literal_values(field: FieldInfo) -> tuple[object, ...] | None:
    """The values a Literal setting allows, or None when the setting is no Literal."""
    return next((get_args(m) for m in setting_members(field) if get_origin(m) is Literal), None)


def bridge_value(settings: type[BaseSettings], key: str, text: str | None = None) -> object:
    """The value the bridge gives a setting from this text (its default if None), the
    environment aside; raises ValidationError when the bridge refuses the text."""
    given = {} if text is None else {key: text}
    return getattr(settings.model_validate(given), key)


def option_problems(
    key: str, option_type: OptionType, default: object, settings: type[BaseSettings]
) -> list[str]:
    """How one option fails to be the bridge setting of the same name."""
    if key in BROKER_SETTINGS:
        return [f"option {key!r}: the broker comes from the Supervisor, not from options"]
    field = settings.model_fields.get(key)
    if field is None:
        return [f"option {key!r} is no setting of {settings.__name__}"]
    held = setting_types(field)
    if not held & COMPATIBLE_TYPES[option_type.kind]:
        return [f"option {key!r} is a {option_type.kind}, the setting holds {held}"]
    problems = []
    literal = literal_values(field)
    if (
        option_type.kind == "list"
        and literal is not None
        and set(option_type.choices) != set(literal)
    ):
        problems.append(f"option {key!r} offers {option_type.choices}, the setting {literal}")
    for sample in option_type.samples():
        try:
            bridge_value(settings, key, as_bashio_text(sample))
        except ValidationError as error:
            reason = error.errors()[0]["msg"]
            problems.append(f"option {key!r} accepts {sample!r}; the bridge refuses it: {reason}")
    if default is not None:
        bridge_default = bridge_value(settings, key)
        if bridge_value(settings, key, as_bashio_text(default)) != bridge_default:
            problems.append(f"option {key!r}: default {default!r}, the bridge's {bridge_default!r}")
    return problems


def bridge_problems(config: Mapping[str, Any], settings: type[BaseSettings]) -> list[str]:
    """Options that are not the bridge setting of the same name with a compatible type, that
    accept values the bridge refuses, or whose default is not the bridge's."""
    options = config.get("options") or {}
    problems = []
    for key, element in (config.get("schema") or {}).items():
        option_type = OptionType.parse(str(element))
        if key not in ADDON_ONLY_OPTIONS and option_type is not None:
            problems += option_problems(key, option_type, options.get(key), settings)
    return problems


def environment_problems(variables: list[str], settings: type[BaseSettings]) -> list[str]:
    """Variables that look like bridge settings but name none (a typo the bridge would ignore)."""
    fields = {name.upper() for name in settings.model_fields}
    return [
        f"{name} is no bridge setting"
        for name in variables
        if name.startswith(SETTING_PREFIXES) and name not in fields
    ]


def translation_problems(config: Mapping[str, Any], translations: Mapping[str, Any]) -> list[str]:
    """Options or ports a translation does not name and describe, and names of no option."""
    problems = []
    schema = set(config.get("schema") or {})
    described = translations.get("configuration") or {}
    problems += [f"option {key!r} is not translated" for key in sorted(schema - set(described))]
    problems += [
        f"{key!r} is translated but is no option" for key in sorted(set(described) - schema)
    ]
    for key, entry in described.items():
        if not isinstance(entry, Mapping) or not entry.get("name") or not entry.get("description"):
            problems.append(f"option {key!r} lacks a name or a description")
    ports = {str(port).lower() for port in config.get("ports") or {}}
    network = {str(port).lower() for port in translations.get("network") or {}}
    if ports != network:
        problems.append(f"ports described {sorted(network)} are not the ports {sorted(ports)}")
    return problems
