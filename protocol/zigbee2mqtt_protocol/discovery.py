"""The Home Assistant discovery configs Zigbee2MQTT publishes (one retained config per entity)."""

from dataclasses import dataclass
import re

from .bridge import DeviceDescription
from .errors import RejectedInputError, Rejection
from .payloads import Payload, decode_object
from .topics import parse_discovery_topic, topic_name

# Zigbee2MQTT names its devices in discovery configs `zigbee2mqtt_<ieee>`.
ZIGBEE2MQTT_IDENTIFIER_PREFIX = "zigbee2mqtt_"
# HA's MQTT components whose configs carry a device's readings and its switch.
READING_COMPONENTS = ("sensor", "switch")

_VALUE_TEMPLATE_PROPERTY = re.compile(
    r"value_json(?:\[\s*['\"](?P<quoted>[^'\"]+)['\"]\s*\]|\.(?P<dotted>[A-Za-z_][\w-]*))"
)


@dataclass(frozen=True, slots=True)
class DiscoveredProperty:
    """One property of a device as published in a Zigbee2MQTT HA discovery config."""

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
    """An empty retained config: Zigbee2MQTT withdrew one entity of a device."""

    ieee: str
    component: str
    object_id: str


def property_of_template(template: str) -> str | None:
    """The state property a `value_template` reads, e.g. `power` in `value_json["power"]`."""
    match = _VALUE_TEMPLATE_PROPERTY.search(template)
    if match is None:
        return None
    return match.group("quoted") or match.group("dotted")


def parse_discovery_config(
    topic: str, payload: Payload, discovery_prefix: str, base_topic: str
) -> DiscoveredProperty | DiscoveryRemoval | None:
    """Read one retained HA discovery config published by Zigbee2MQTT.

    Returns None for configs that are not about a device of this Zigbee2MQTT instance (another
    integration, another base topic, the bridge itself), and raises `RejectedInputError` for
    configs that claim to be Zigbee2MQTT's but lack what it always sends.
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
        config = decode_object(payload)
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


def _optional_text(*values: object) -> bool:
    return all(value is None or isinstance(value, str) for value in values)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
