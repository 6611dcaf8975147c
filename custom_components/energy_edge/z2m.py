"""Zigbee2MQTT's MQTT protocol, as Energy Edge reads it: payloads in, typed values out.

Pure module (no Home Assistant import). Every function either returns a typed value or raises
`RejectedInputError` with a reason that the caller counts; nothing else escapes.
"""

from dataclasses import dataclass
from enum import StrEnum
import math
import re

import orjson

type JsonObject = dict[str, object]
type Payload = str | bytes | bytearray

ZIGBEE2MQTT_IDENTIFIER_PREFIX = "zigbee2mqtt_"
ACCESS_SETTABLE = 0b010

# MQTT wildcards would subscribe to other devices' topics; control characters (NUL among them)
# are refused by MQTT clients. Z2M's own names allow `/`, spaces and accents.
_UNUSABLE_IN_TOPIC = re.compile(r"[+#\x00-\x1f\x7f-\x9f]")

# The Linky's serial number (ADSC, or ADCO in historic mode) and delivery point (PRM) identify a
# household: neither may reach logs or diagnostics, even inside an excerpt of a refused payload.
IDENTITY_PROPERTIES = frozenset({"meter_serial_number", "site_id"})
REDACTED = "**REDACTED**"
_IDENTITY_VALUE = re.compile(
    rf"(?P<key>{'|'.join(sorted(IDENTITY_PROPERTIES))})(?P<sep>['\"]?\s*[:=]\s*['\"]?)[^'\",}}\s]*"
)
_IDENTITY_NUMBER = re.compile(r"\b\d{12,14}\b")  # a serial (12 digits) or PRM (14) on its own

_VALUE_TEMPLATE_PROPERTY = re.compile(
    r"value_json(?:\[\s*['\"](?P<quoted>[^'\"]+)['\"]\s*\]|\.(?P<dotted>[A-Za-z_][\w-]*))"
)


class Rejection(StrEnum):
    """Why a piece of input was not used (counted in diagnostics)."""

    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    BAD_DISCOVERY_CONFIG = "bad_discovery_config"
    BAD_BRIDGE_DEVICE = "bad_bridge_device"
    BAD_AVAILABILITY = "bad_availability"
    BAD_EVENT = "bad_event"
    NUMBER_AS_STRING = "number_as_string"
    NOT_A_NUMBER = "not_a_number"
    NOT_FINITE = "not_finite"
    NEGATIVE_VALUE = "negative_value"
    ABSURD_VALUE = "absurd_value"
    NO_DATA = "no_data"
    CONTRACT_OUT_OF_RANGE = "contract_out_of_range"
    COUNTER_BACKWARDS = "counter_backwards"
    UNKNOWN_PROPERTY = "unknown_property"
    BAD_FRIENDLY_NAME = "bad_friendly_name"


class RejectedInputError(ValueError):
    """Input that Energy Edge refuses, with the reason it is counted under."""

    def __init__(self, reason: Rejection, detail: str) -> None:
        """Keep the reason apart from the human detail, the meter's identity redacted."""
        detail = redacted(detail)
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class DeviceDescription:
    """What Z2M says about the hardware of a device."""

    name: str
    model: str | None = None
    model_id: str | None = None
    manufacturer: str | None = None


@dataclass(frozen=True, slots=True)
class DiscoveredProperty:
    """One property of a device as published in a Z2M HA discovery config."""

    ieee: str
    component: str
    object_id: str
    property: str
    friendly_name: str
    device: DeviceDescription
    unit: str | None = None
    device_class: str | None = None
    settable: bool = False
    value_on: str | None = None
    value_off: str | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryRemoval:
    """An empty retained config: Z2M withdrew one entity of a device."""

    ieee: str
    component: str
    object_id: str


@dataclass(frozen=True, slots=True)
class ExposedProperty:
    """One property from a `bridge/devices` definition's exposes (features flattened)."""

    property: str
    unit: str | None
    settable: bool
    is_switch_state: bool = False
    value_on: str | None = None
    value_off: str | None = None


@dataclass(frozen=True, slots=True)
class BridgeDevice:
    """One entry of Z2M's retained `bridge/devices` list that has a definition."""

    ieee: str
    friendly_name: str
    device: DeviceDescription
    properties: tuple[ExposedProperty, ...]
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    """A `bridge/event` message: `device_joined`, `device_leave`, `device_interview`, ..."""

    type: str
    ieee: str
    friendly_name: str | None


def redacted(text: str) -> str:
    """Text (an excerpt of a payload) without the meter's serial number or delivery point."""
    text = _IDENTITY_VALUE.sub(rf"\g<key>\g<sep>{REDACTED}", text)
    return _IDENTITY_NUMBER.sub(REDACTED, text)


def loads_object(payload: Payload) -> JsonObject:
    """Parse a JSON object, or reject it."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise RejectedInputError(Rejection.NOT_JSON, _excerpt(payload)) from err
    if not isinstance(value, dict):
        raise RejectedInputError(Rejection.NOT_AN_OBJECT, _excerpt(payload))
    return value


def parse_online(payload: Payload) -> bool:
    """Read `{"state":"online"}` / `{"state":"offline"}` (or Z2M's legacy plain strings)."""
    text = _text(payload).strip()
    if text in ("online", "offline"):
        return text == "online"
    try:
        state = loads_object(text).get("state")
    except RejectedInputError as err:
        raise RejectedInputError(Rejection.BAD_AVAILABILITY, err.detail) from err
    if state not in ("online", "offline"):
        raise RejectedInputError(Rejection.BAD_AVAILABILITY, _excerpt(text))
    return state == "online"


def property_of_template(template: str) -> str | None:
    """The state property a Z2M `value_template` reads, e.g. `power` in `value_json["power"]`."""
    match = _VALUE_TEMPLATE_PROPERTY.search(template)
    if match is None:
        return None
    return match.group("quoted") or match.group("dotted")


def parse_discovery_topic(topic: str, discovery_prefix: str) -> tuple[str, str, str] | None:
    """Split `<prefix>/<component>/<node_id>/<object_id>/config`; None for other topics."""
    if not topic.startswith(f"{discovery_prefix}/"):
        return None
    parts = topic.removeprefix(f"{discovery_prefix}/").split("/")
    if len(parts) != 4 or parts[3] != "config":
        return None
    return parts[0], parts[1], parts[2]


def parse_discovery_config(
    topic: str, payload: Payload, discovery_prefix: str, base_topic: str
) -> DiscoveredProperty | DiscoveryRemoval | None:
    """Read one retained HA discovery config published by Zigbee2MQTT.

    Returns None for configs that are not about a device of this Z2M instance (another
    integration, another base topic, the bridge itself), and raises `RejectedInputError` for
    configs that claim to be Z2M's but lack what Z2M always sends.
    """
    parsed = parse_discovery_topic(topic, discovery_prefix)
    if parsed is None:
        return None
    component, ieee, object_id = parsed
    if not ieee.startswith("0x"):
        return None  # the bridge's own entities use `<hash>_<coordinator ieee>`
    if not payload.strip():
        return DiscoveryRemoval(ieee, component, object_id)
    try:
        config = loads_object(payload)
    except RejectedInputError as err:
        raise RejectedInputError(Rejection.BAD_DISCOVERY_CONFIG, err.detail) from err
    device = config.get("device")
    if not isinstance(device, dict):
        raise RejectedInputError(Rejection.BAD_DISCOVERY_CONFIG, "no device")
    identifiers = device.get("identifiers")
    if not isinstance(identifiers, list) or f"{ZIGBEE2MQTT_IDENTIFIER_PREFIX}{ieee}" not in (
        identifiers
    ):
        return None  # not published by Zigbee2MQTT for this node
    state_topic = config.get("state_topic")
    if state_topic is None:
        return None  # entities without state (buttons) carry no reading
    if not isinstance(state_topic, str):
        raise RejectedInputError(Rejection.BAD_DISCOVERY_CONFIG, "state_topic is not text")
    if not state_topic.startswith(f"{base_topic}/"):
        return None  # another Zigbee2MQTT instance shares the discovery prefix
    template = config.get("value_template")
    prop = property_of_template(template) if isinstance(template, str) else None
    if prop is None:
        raise RejectedInputError(Rejection.BAD_DISCOVERY_CONFIG, "no readable value_template")
    unit = config.get("unit_of_measurement")
    device_class = config.get("device_class")
    name = device.get("name")
    if not _optional_text(unit, device_class) or not isinstance(name, str):
        raise RejectedInputError(Rejection.BAD_DISCOVERY_CONFIG, "wrong field types")
    payload_on, payload_off = config.get("payload_on"), config.get("payload_off")
    return DiscoveredProperty(
        ieee=ieee,
        component=component,
        object_id=object_id,
        property=prop,
        friendly_name=topic_name(state_topic.removeprefix(f"{base_topic}/"), ieee),
        device=DeviceDescription(
            name=name,
            model=_text_or_none(device.get("model")),
            model_id=_text_or_none(device.get("model_id")),
            manufacturer=_text_or_none(device.get("manufacturer")),
        ),
        unit=unit if isinstance(unit, str) else None,
        device_class=device_class if isinstance(device_class, str) else None,
        settable="command_topic" in config,
        value_on=payload_on if isinstance(payload_on, str) else None,
        value_off=payload_off if isinstance(payload_off, str) else None,
    )


def parse_bridge_devices(payload: Payload) -> tuple[list[BridgeDevice], list[RejectedInputError]]:
    """Read Z2M's `bridge/devices` list; entries that cannot be read are returned as rejections."""
    try:
        entries = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise RejectedInputError(Rejection.NOT_JSON, _excerpt(payload)) from err
    if not isinstance(entries, list):
        raise RejectedInputError(
            Rejection.NOT_AN_OBJECT, f"bridge/devices is not a list: {_excerpt(payload)}"
        )
    devices: list[BridgeDevice] = []
    rejections: list[RejectedInputError] = []
    for entry in entries:
        try:
            device = _bridge_device(entry)
        except RejectedInputError as err:
            rejections.append(err)
            continue
        if device is not None:
            devices.append(device)
    return devices, rejections


def _bridge_device(entry: object) -> BridgeDevice | None:
    if not isinstance(entry, dict):
        raise RejectedInputError(
            Rejection.BAD_BRIDGE_DEVICE, f"entry is not an object: {entry!r:.80}"
        )
    ieee, friendly_name = entry.get("ieee_address"), entry.get("friendly_name")
    if not isinstance(ieee, str) or not isinstance(friendly_name, str):
        raise RejectedInputError(Rejection.BAD_BRIDGE_DEVICE, f"no address or name: {entry!r:.80}")
    definition = entry.get("definition")
    if entry.get("type") == "Coordinator" or definition is None:
        return None  # the coordinator, or a device Z2M does not support (yet)
    topic_name(friendly_name, ieee)
    if not isinstance(definition, dict) or not isinstance(definition.get("exposes"), list):
        raise RejectedInputError(Rejection.BAD_BRIDGE_DEVICE, f"{ieee}: definition without exposes")
    model_id = entry.get("model_id")
    return BridgeDevice(
        ieee=ieee,
        friendly_name=friendly_name,
        device=DeviceDescription(
            name=friendly_name,
            model=_text_or_none(definition.get("description")),
            model_id=model_id
            if isinstance(model_id, str)
            else _text_or_none(definition.get("model")),
            manufacturer=_text_or_none(definition.get("vendor")),
        ),
        properties=tuple(_flatten_exposes(definition["exposes"])),
        disabled=entry.get("disabled") is True,
    )


def _flatten_exposes(exposes: list[object], in_switch: bool = False) -> list[ExposedProperty]:
    flat: list[ExposedProperty] = []
    for expose in exposes:
        if not isinstance(expose, dict):
            continue
        features = expose.get("features")
        if isinstance(features, list):
            flat.extend(_flatten_exposes(features, in_switch or expose.get("type") == "switch"))
            continue
        prop, access, unit = expose.get("property"), expose.get("access"), expose.get("unit")
        if not isinstance(prop, str):
            continue
        value_on, value_off = expose.get("value_on"), expose.get("value_off")
        flat.append(
            ExposedProperty(
                property=prop,
                unit=unit if isinstance(unit, str) else None,
                settable=isinstance(access, int) and bool(access & ACCESS_SETTABLE),
                is_switch_state=in_switch and prop.startswith("state"),
                value_on=value_on if isinstance(value_on, str) else None,
                value_off=value_off if isinstance(value_off, str) else None,
            )
        )
    return flat


def topic_name(friendly_name: str, ieee: str) -> str:
    """A friendly name that can stand in MQTT topics (`<base>/<name>`), or a rejection.

    A name with a wildcard would subscribe to other devices' messages (`+` to every device's).
    """
    if not friendly_name or _UNUSABLE_IN_TOPIC.search(friendly_name):
        raise RejectedInputError(Rejection.BAD_FRIENDLY_NAME, f"{ieee}: {friendly_name!r:.80}")
    return friendly_name


def parse_bridge_event(payload: Payload) -> BridgeEvent:
    """Read a `bridge/event` message about a device."""
    event = loads_object(payload)
    data = event.get("data")
    kind = event.get("type")
    if not isinstance(data, dict) or not isinstance(kind, str):
        raise RejectedInputError(Rejection.BAD_EVENT, _excerpt(payload))
    ieee, name = data.get("ieee_address"), data.get("friendly_name")
    if not isinstance(ieee, str):
        raise RejectedInputError(Rejection.BAD_EVENT, _excerpt(payload))
    return BridgeEvent(kind, ieee, name if isinstance(name, str) else None)


def as_number(prop: str, value: object) -> tuple[float, Rejection | None]:
    """A finite number from a state value; numbers sent as strings are accepted but noted."""
    if type(value) is float or type(value) is int:  # the usual case first, exactly
        number = float(value)
        note = None
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError as err:
            raise RejectedInputError(Rejection.NOT_A_NUMBER, f"{prop}={value!r:.40}") from err
        note = Rejection.NUMBER_AS_STRING
    else:
        raise RejectedInputError(Rejection.NOT_A_NUMBER, f"{prop}={value!r:.40}")
    if not math.isfinite(number):
        raise RejectedInputError(Rejection.NOT_FINITE, f"{prop}={value!r:.40}")
    return number, note


def _optional_text(*values: object) -> bool:
    return all(value is None or isinstance(value, str) for value in values)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _text(payload: Payload) -> str:
    return payload if isinstance(payload, str) else bytes(payload).decode(errors="replace")


def _excerpt(payload: Payload) -> str:
    return _text(payload)[:80]
