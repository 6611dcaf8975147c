"""Zigbee2MQTT's MQTT protocol as the bridge reads it: topics, payloads, device lists, commands.

Pure values and functions (no MQTT client, no clock, no I/O), so that every rule can be tested
with plain payloads. Bad input becomes a `MalformedPayloadError` with a reason, never another error.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import json
import math
import re

# Zigbee2MQTT's largest messages (bridge/devices of a big network) stay far below this; a state
# message is a few hundred bytes. Anything bigger is refused before parsing.
MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_STATE_BYTES = 64 * 1024
# `update: {installed_version: ...}` is one level; a few more cover every converter.
MAX_NESTING = 4
# Topics repeat: each is classified once, up to this many (two per device of the default
# BRIDGE_MAX_SITES, ten times over); past it the memo starts afresh (classifying is cheap).
MAX_TOPICS = 10_000

_JSON = json.JSONDecoder()
_isfinite = math.isfinite
_NUMBER_AS_TEXT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
_ACCESS_SET = 2  # exposes' access bit: the property can be set through <name>/set


class MalformedPayloadError(ValueError):
    """A payload the bridge cannot use; the message says why."""


class TopicKind(StrEnum):
    """What a topic under the Zigbee2MQTT base topic carries."""

    DEVICE_STATE = "device_state"
    AVAILABILITY = "availability"
    BRIDGE_STATE = "bridge_state"
    BRIDGE_EVENT = "bridge_event"
    BRIDGE_DEVICES = "bridge_devices"
    OTHER = "other"  # commands (/set, /get), bridge requests and responses, logs...


@dataclass(frozen=True, slots=True)
class Topic:
    """A classified topic; `device` is the friendly name for device topics, `site` the home
    the base topic's `+` level named ("" without one)."""

    kind: TopicKind
    device: str = ""
    site: str = ""


_BRIDGE_TOPICS = {
    "bridge/state": TopicKind.BRIDGE_STATE,
    "bridge/event": TopicKind.BRIDGE_EVENT,
    "bridge/devices": TopicKind.BRIDGE_DEVICES,
}
_OTHER = Topic(TopicKind.OTHER)


class Topics:
    """Classifies the topics under one Zigbee2MQTT base topic, or under a pattern with one
    `+` level naming the home (`homes/+/zigbee2mqtt`: one Zigbee2MQTT per home)."""

    def __init__(self, base_topic: str) -> None:
        self.base_topic = base_topic
        self.subscription = f"{base_topic}/#"
        before, wildcard, after = base_topic.partition("+")
        self.has_sites = bool(wildcard)
        # With a site level: `before` ends with "/" (or is empty), `after` starts with "/".
        self._prefix = before if wildcard else f"{base_topic}/"
        self._suffix = f"{after}/"
        self._known: dict[str, Topic] = {}

    def classify(self, topic: str) -> Topic:
        """Say what a topic carries. Friendly names may contain slashes."""
        known = self._known.get(topic)
        if known is None:
            if len(self._known) >= MAX_TOPICS:  # a flood of new topics: start afresh
                self._known.clear()
            known = self._known[topic] = self._classify(topic)
        return known

    def _classify(self, topic: str) -> Topic:
        if not topic.startswith(self._prefix):
            return _OTHER
        rest = topic[len(self._prefix) :]
        if not self.has_sites:
            return _classify_under_base(rest, "")
        site, slash, _ = rest.partition("/")
        rest = rest[len(site) :]
        if not (slash and rest.startswith(self._suffix)):
            return _OTHER
        return _classify_under_base(rest[len(self._suffix) :], site)

    def command_topic(self, device: str, site: str = "") -> str:
        """Where a device's commands go; with a site level, in the device's home."""
        if not self.has_sites:
            return f"{self._prefix}{device}/set"
        if not site or any(character in site for character in "/+#\0"):
            raise ValueError(f"{site!r} is not a site: one topic level without wildcards")
        return f"{self._prefix}{site}{self._suffix}{device}/set"


def _classify_under_base(rest: str, site: str) -> Topic:
    """What the part of a topic after the base topic carries."""
    if rest.startswith("bridge/"):
        return Topic(_BRIDGE_TOPICS.get(rest, TopicKind.OTHER), site=site)
    name, _, last = rest.rpartition("/")
    if last == "availability" and name:
        return Topic(TopicKind.AVAILABILITY, name, site)
    # <name>/set, <name>/get and <name>/set/<property> are commands, not readings.
    if last in {"set", "get"} or name.rpartition("/")[2] in {"set", "get"}:
        return _OTHER
    return Topic(TopicKind.DEVICE_STATE, rest, site) if rest else _OTHER


def decode_json(payload: bytes, limit: int = MAX_PAYLOAD_BYTES) -> object:
    """Decode a JSON payload of at most `limit` bytes."""
    if len(payload) > limit:
        raise MalformedPayloadError(f"payload of {len(payload)} bytes exceeds {limit}")
    try:
        # MQTT payloads are UTF-8: decoding directly skips json.loads's encoding detection.
        return _JSON.decode(payload.decode())
    except RecursionError as error:
        raise MalformedPayloadError("JSON nested too deeply") from error
    except ValueError as error:  # also invalid UTF-8
        raise MalformedPayloadError(f"not JSON: {error}") from error


def decode_object(payload: bytes, limit: int = MAX_PAYLOAD_BYTES) -> dict[str, object]:
    """Decode a payload that must be a JSON object."""
    value = decode_json(payload, limit)
    if not isinstance(value, dict):
        raise MalformedPayloadError(f"expected a JSON object, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class Reading:
    """The numeric fields of one device state message, and the properties left out as bad."""

    fields: dict[str, float]
    rejected: tuple[str, ...] = ()


def read_state(payload: bytes) -> tuple[dict[str, object], Reading]:
    """Parse a device state message into its JSON object and its numeric fields.

    Numbers become floats, ON/OFF 1/0, booleans 1/0, nested objects are flattened with `_`;
    other strings, lists and nulls are left out. NaN, infinities, numbers sent as strings and
    names InfluxDB reserves (`time`, `_...`) are left out and named in `rejected`.
    """
    state = decode_object(payload, MAX_STATE_BYTES)
    fields: dict[str, float] = {}
    rejected: list[str] = []
    _flatten(state, "", fields, rejected, 0)
    fields.pop("", None)  # an empty key cannot be a field
    # InfluxDB refuses a whole point with a field named `time` or `_...` (its own columns).
    for name in [name for name in fields if name[0] == "_" or name == "time"]:
        del fields[name]
        rejected.append(name)
    return state, Reading(fields, tuple(rejected))


def last_seen_ms(state: Mapping[str, object]) -> int | None:
    """When the device was last seen, in ms since the epoch, from the `last_seen` property
    Zigbee2MQTT adds with its `advanced.last_seen` option: `epoch` (ms, a number),
    `ISO_8601` (UTC, `...Z`) or `ISO_8601_local` (with its offset); None when absent or
    unreadable (the option is `disable` by default)."""
    value = state.get("last_seen")
    if type(value) is int or type(value) is float:
        return int(value) if _isfinite(value) and value > 0 else None
    if type(value) is str:
        try:
            seen = datetime.fromisoformat(value)
        except ValueError:
            return None
        if seen.tzinfo is None:  # no offset: not one of Zigbee2MQTT's formats
            return None
        return round(seen.timestamp() * 1000)
    return None


def _flatten(
    values: Mapping[str, object],
    prefix: str,
    fields: dict[str, float],
    rejected: list[str],
    depth: int,
) -> None:
    # Dispatch on the exact type (JSON gives no subclasses): the hot path of the ingest.
    for key, value in values.items():
        kind = type(value)
        if kind is float:
            if _isfinite(value):  # type: ignore[arg-type]
                fields[prefix + key] = value  # type: ignore[assignment]
            else:
                rejected.append(prefix + key)
        elif kind is int:
            try:
                fields[prefix + key] = float(value)  # type: ignore[arg-type]
            except OverflowError:
                rejected.append(prefix + key)
        elif kind is str:
            if value == "ON":
                fields[prefix + key] = 1.0
            elif value == "OFF":
                fields[prefix + key] = 0.0
            elif _NUMBER_AS_TEXT.fullmatch(value):  # type: ignore[call-overload]
                rejected.append(prefix + key)
        elif kind is bool:
            fields[prefix + key] = 1.0 if value else 0.0
        elif kind is dict:
            if depth < MAX_NESTING:
                _flatten(value, f"{prefix}{key}_", fields, rejected, depth + 1)  # type: ignore[arg-type]
            else:
                rejected.append(prefix + key)


def read_online(payload: bytes) -> bool:
    """Parse an availability or bridge state: `{"state": "online"}` or the legacy `online`."""
    text = payload.strip()
    if text in {b"online", b"offline"}:
        return text == b"online"
    state = decode_object(payload).get("state")
    if state not in {"online", "offline"}:
        raise MalformedPayloadError(f"state must be online or offline, got {state!r}")
    return state == "online"


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    """An event from `bridge/event` (device_joined, device_leave, device_interview, ...)."""

    type: str
    device: str | None = None
    ieee: str | None = None


def read_bridge_event(payload: bytes) -> BridgeEvent:
    """Parse `{"type": ..., "data": {"friendly_name": ..., "ieee_address": ...}}`."""
    event = decode_object(payload)
    kind = event.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedPayloadError("bridge event without a type")
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    name = data.get("friendly_name")
    ieee = data.get("ieee_address")
    return BridgeEvent(
        kind,
        name if isinstance(name, str) and name else None,
        ieee if isinstance(ieee, str) and ieee else None,
    )


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
                return "expected one of " + ", ".join(json.dumps(c) for c in self.choices)
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


@dataclass(frozen=True, slots=True)
class Device:
    """A device from `bridge/devices`: its identity and what it accepts on `/set`."""

    ieee: str
    name: str
    model: str | None = None
    vendor: str | None = None
    description: str | None = None
    settings: Mapping[str, Setting] = field(default_factory=dict)

    def command_problems(self, command: Mapping[str, object]) -> list[str]:
        """Everything wrong with a command for this device (empty when it is valid)."""
        if not command:
            return ["the command sets no property"]
        problems = []
        for name, value in command.items():
            setting = self.settings.get(name)
            if setting is None:
                settable = ", ".join(sorted(self.settings)) or "none"
                problems.append(f"{name}: not settable on {self.name} (settable: {settable})")
            elif (problem := setting.problem(value)) is not None:
                problems.append(f"{name}: {problem}")
        return problems


def read_devices(payload: bytes) -> list[Device]:
    """Parse `bridge/devices`, leaving out the coordinator and entries without identity."""
    return devices_of(decode_json(payload))


def devices_of(entries: object) -> list[Device]:
    """The devices of `bridge/devices` once decoded from JSON (see `read_devices`)."""
    if not isinstance(entries, list):
        raise MalformedPayloadError("bridge/devices must be a JSON array")
    devices = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") == "Coordinator":
            continue
        ieee = entry.get("ieee_address")
        name = entry.get("friendly_name")
        if not (isinstance(ieee, str) and ieee and isinstance(name, str) and name):
            continue
        definition = entry.get("definition")
        definition = definition if isinstance(definition, dict) else {}
        settings: dict[str, Setting] = {}
        _collect_settings(definition.get("exposes"), settings)
        devices.append(
            Device(
                ieee=ieee,
                name=name,
                model=_text(definition.get("model")),
                vendor=_text(definition.get("vendor")),
                description=_text(definition.get("description")),
                settings=settings,
            )
        )
    return devices


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _collect_settings(exposes: object, settings: dict[str, Setting]) -> None:
    if not isinstance(exposes, list):
        return
    for expose in exposes:
        if not isinstance(expose, dict):
            continue
        prop = expose.get("property")
        if not isinstance(prop, str):
            # switch, light, cover...: a group of features, each with its own property
            _collect_settings(expose.get("features"), settings)
            continue
        access = expose.get("access")
        if not isinstance(access, int) or not access & _ACCESS_SET:
            continue
        try:
            kind = SettingKind(str(expose.get("type")))
        except ValueError:
            continue
        settings[prop] = _setting(kind, expose)


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
