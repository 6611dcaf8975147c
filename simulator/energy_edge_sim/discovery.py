"""Home Assistant MQTT discovery, derived from exposes by the rules of Zigbee2MQTT 2.12.

Zigbee2MQTT's Home Assistant extension turns each expose into one entity config: the expose type
picks the component, lookup tables add classes and icons, units decide the rest (W -> power,
Wh/kWh -> energy, A -> current; V, VA, VAR, kVA get no class), and a device class removes the name
so Home Assistant names the entity. Configs are retained, QoS 1, JSON with sorted keys.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .exposes import ACCESS_SET, ACCESS_STATE, Expose
from .z2mjson import JsonObject, JsonValue

Z2M_VERSION = "2.12.1"
ORIGIN: JsonObject = {"name": "Zigbee2MQTT", "sw": Z2M_VERSION, "url": "https://www.zigbee2mqtt.io"}
UPDATE_PICTURE = "https://github.com/Koenkk/zigbee2mqtt/raw/master/images/logo.png"
UPDATE_TEMPLATE = (
    "{\"latest_version\":\"{{ value_json['update']['latest_version'] }}\","
    "\"installed_version\":\"{{ value_json['update']['installed_version'] }}\","
    "\"update_percentage\":{{ value_json['update'].get('progress', 'null') }},"
    "\"in_progress\":{{ (value_json['update']['state'] == 'updating')|lower }}}"
)
LOG_LEVELS = ["error", "warning", "info", "debug"]

# Zigbee2MQTT's lookup tables, for the properties energy devices expose.
BINARY_LOOKUP: dict[str, JsonObject] = {
    "auto_off": {"icon": "mdi:flash-auto"},
    "button_lock": {"entity_category": "config", "icon": "mdi:lock"},
    "child_lock": {"entity_category": "config", "icon": "mdi:account-lock"},
    "consumer_connected": {"device_class": "plug"},
    "led_disabled_night": {"entity_category": "config", "icon": "mdi:led-off"},
    "led_enable": {"entity_category": "config", "icon": "mdi:led-on"},
    "power_outage_memory": {"entity_category": "config", "icon": "mdi:memory"},
}
NUMERIC_LOOKUP: dict[str, JsonObject] = {
    "ac_frequency": {"device_class": "frequency", "state_class": "measurement"},
    "current": {"device_class": "current", "state_class": "measurement"},
    "current_phase_b": {"device_class": "current", "state_class": "measurement"},
    "current_phase_c": {"device_class": "current", "state_class": "measurement"},
    "device_temperature": {
        "device_class": "temperature",
        "entity_category": "diagnostic",
        "state_class": "measurement",
    },
    "energy": {"device_class": "energy", "state_class": "total_increasing"},
    "linkquality": {
        "enabled_by_default": False,
        "entity_category": "diagnostic",
        "icon": "mdi:signal",
        "state_class": "measurement",
    },
    "overload_protection": {"icon": "mdi:flash"},
    "power": {"device_class": "power", "state_class": "measurement"},
    "power_factor": {
        "device_class": "power_factor",
        "enabled_by_default": False,
        "entity_category": "diagnostic",
        "state_class": "measurement",
    },
    "power_phase_b": {"device_class": "power", "state_class": "measurement"},
    "power_phase_c": {"device_class": "power", "state_class": "measurement"},
    "voltage": {"device_class": "voltage", "state_class": "measurement"},
    "voltage_phase_b": {"device_class": "voltage", "state_class": "measurement"},
    "voltage_phase_c": {"device_class": "voltage", "state_class": "measurement"},
}
ENUM_LOOKUP: dict[str, JsonObject] = {
    "identify": {"device_class": "identify"},
    "power_on_behavior": {"entity_category": "config", "icon": "mdi:power-settings"},
    "power_outage_memory": {"entity_category": "config", "icon": "mdi:power-settings"},
}
# Units that give a numeric sensor its class, whatever its name.
UNIT_CLASSES: dict[str, JsonObject] = {
    unit: {"device_class": device_class, "state_class": state_class}
    for units, device_class, state_class in (
        (("Wh", "kWh"), "energy", "total_increasing"),
        (("A", "mA"), "current", "measurement"),
        (("mW", "W", "kW"), "power", "measurement"),
    )
    for unit in units
}


@dataclass(frozen=True)
class DiscoverySettings:
    """What shapes the configs: Zigbee2MQTT's base topic, HA's prefix, the availability feature."""

    base_topic: str = "zigbee2mqtt"
    discovery_prefix: str = "homeassistant"
    availability: bool = False
    last_seen: bool = False  # Zigbee2MQTT's `advanced.last_seen: ISO_8601`


@dataclass(frozen=True)
class DiscoverableDevice:
    """What the Home Assistant extension knows about a paired device."""

    ieee_address: str
    friendly_name: str
    model: str
    vendor: str
    description: str
    exposes: Sequence[Expose]
    supports_ota: bool = False
    software_build_id: str | None = None
    hardware_version: int | None = None


@dataclass(frozen=True)
class BridgeIdentity:
    """The coordinator, as the bridge's own Home Assistant device."""

    ieee_address: str
    coordinator_type: str
    coordinator_revision: int | str


@dataclass(frozen=True)
class DiscoveryMessage:
    """One retained config to publish (QoS 1)."""

    topic: str
    payload: JsonObject


@dataclass
class _Entry:
    component: str
    object_id: str
    payload: JsonObject


def _template(prop: str) -> str:
    return f'{{{{ value_json["{prop}"] }}}}'


def _js_string(value: JsonValue) -> str:
    """`value.toString()` in JavaScript."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expose_entries(expose: Expose) -> list[_Entry]:
    """Zigbee2MQTT's `exposeToConfig` for one expose of a device."""
    endpoint = expose.endpoint
    entries: list[_Entry] = []
    label = expose.label or ""
    name: JsonValue = f"{label} {endpoint}" if endpoint else label
    prop = expose.property or ""
    access = expose.access or 0
    if expose.type == "switch":
        state = next(f for f in expose.features if f.name == "state")
        entries.append(
            _Entry(
                "switch",
                f"switch_{endpoint}" if endpoint else "switch",
                {
                    "name": endpoint.capitalize() if endpoint else None,
                    "payload_off": state.value_off,
                    "payload_on": state.value_on,
                    "value_template": _template(state.property or "state"),
                    "command_topic": True,
                    "command_topic_prefix": endpoint,
                },
            )
        )
    elif expose.type == "binary":
        lookup = BINARY_LOOKUP.get(expose.name or "", {})
        if access & ACCESS_SET:
            template = (
                f'{{% if value_json["{prop}"] %}}true{{% else %}}false{{% endif %}}'
                if isinstance(expose.value_on, bool)
                else _template(prop)
            )
            payload: JsonObject = {
                "name": name,
                "value_template": template,
                "payload_on": _js_string(expose.value_on),
                "payload_off": _js_string(expose.value_off),
                "command_topic": True,
                "command_topic_prefix": endpoint,
                "command_topic_postfix": prop,
            }
            object_id = f"switch_{expose.name}_{endpoint}" if endpoint else f"switch_{expose.name}"
            entries.append(_Entry("switch", object_id, payload | lookup))
        else:
            payload = {
                "name": name,
                "value_template": _template(prop),
                "payload_on": expose.value_on,
                "payload_off": expose.value_off,
            }
            object_id = f"{expose.name}_{endpoint}" if endpoint else f"{expose.name}"
            entries.append(_Entry("binary_sensor", object_id, payload | lookup))
    elif expose.type == "numeric":
        lookup = NUMERIC_LOOKUP.get(expose.name or "", {})
        object_id = f"{expose.name}_{endpoint}" if endpoint else f"{expose.name}"
        unit: JsonObject = {"unit_of_measurement": expose.unit} if expose.unit else {}
        if access & ACCESS_SET:
            payload = {
                "name": name,
                "value_template": _template(prop),
                "command_topic": True,
                "command_topic_prefix": endpoint,
                "command_topic_postfix": prop,
                **unit,
                **({"step": expose.value_step} if expose.value_step else {}),
                **lookup,
            }
            if lookup.get("device_class") != "temperature":
                payload.pop("device_class", None)
            if expose.value_min is not None:
                payload["min"] = expose.value_min
            if expose.value_max is not None:
                payload["max"] = expose.value_max
            entries.append(_Entry("number", object_id, payload))
        else:
            payload = {
                "name": name,
                "value_template": _template(prop),
                "enabled_by_default": True,
                **unit,
                **lookup,
                **UNIT_CLASSES.get(expose.unit or "", {}),
            }
            if payload.get("device_class") and not payload.get("unit_of_measurement"):
                del payload["device_class"]
            if payload.get("entity_category") == "config":
                payload["entity_category"] = "diagnostic"
            entries.append(_Entry("sensor", object_id, payload))
    elif expose.type == "enum":
        lookup = ENUM_LOOKUP.get(expose.name or "", {})
        values = expose.values or ()
        state_template = _template(prop) if access & ACCESS_STATE else None
        if access & ACCESS_SET and len(values) == 1:
            payload = {
                "name": name,
                "state_topic": False,
                "command_topic_prefix": endpoint,
                "command_topic": True,
                "command_topic_postfix": prop,
                "payload_press": values[0],
            }
            entries.append(_Entry("button", prop, payload | lookup))
        elif access & ACCESS_SET:
            payload = {
                "name": name,
                "value_template": state_template,
                "state_topic": bool(access & ACCESS_STATE),
                "command_topic_prefix": endpoint,
                "command_topic": True,
                "command_topic_postfix": prop,
                "options": list(values),
            }
            entries.append(_Entry("select", prop, payload | lookup))
        elif access & ACCESS_STATE:
            entries.append(
                _Entry("sensor", prop, {"name": name, "value_template": state_template} | lookup)
            )
    elif expose.type == "text":
        if access & ACCESS_SET:
            payload = {
                "name": name,
                "state_topic": bool(access & ACCESS_STATE),
                "value_template": _template(prop),
                "command_topic_prefix": endpoint,
                "command_topic": True,
                "command_topic_postfix": prop,
            }
            entries.append(_Entry("text", prop, payload))
        elif access & ACCESS_STATE:
            template = (
                f"{{{{ value_json[\"{prop}\"] | default('',True) | string | "
                "truncate(254, True, '', 0) }}"
            )
            entries.append(_Entry("sensor", prop, {"name": name, "value_template": template}))
    else:
        raise ValueError(f"exposes of type {expose.type!r} are not supported")

    category = expose.category or expose.homeassistant.get("entityCategory")
    for entry in entries:
        if category in {"config", "diagnostic"}:
            entry.payload["entity_category"] = category
        if (
            entry.component in {"binary_sensor", "sensor"}
            and entry.payload.get("entity_category") == "config"
        ):
            entry.payload["entity_category"] = "diagnostic"
        if entry.payload.get("device_class"):
            entry.payload.pop("name", None)
    return entries


def _update_entry(ieee_address: str, base_topic: str) -> _Entry:
    return _Entry(
        "update",
        "update",
        {
            "name": None,
            "entity_picture": UPDATE_PICTURE,
            "state_topic": True,
            "device_class": "firmware",
            "entity_category": "config",
            "command_topic": f"{base_topic}/bridge/request/device/ota_update/update",
            "payload_install": f'{{"id": "{ieee_address}"}}',
            "value_template": UPDATE_TEMPLATE,
        },
    )


def _bridge_entries(base_topic: str) -> list[_Entry]:
    bridge = f"{base_topic}/bridge"
    return [
        _Entry(
            "binary_sensor",
            "connection_state",
            {
                "name": "Connection state",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "state_topic": True,
                "state_topic_postfix": "state",
                "value_template": "{{ value_json.state }}",
                "payload_on": "online",
                "payload_off": "offline",
                "availability": False,
            },
        ),
        _Entry(
            "binary_sensor",
            "restart_required",
            {
                "name": "Restart required",
                "device_class": "problem",
                "entity_category": "diagnostic",
                "enabled_by_default": False,
                "state_topic": True,
                "state_topic_postfix": "info",
                "value_template": "{{ value_json.restart_required }}",
                "payload_on": True,
                "payload_off": False,
            },
        ),
        _Entry(
            "button",
            "restart",
            {
                "name": "Restart",
                "device_class": "restart",
                "state_topic": False,
                "command_topic": f"{bridge}/request/restart",
                "payload_press": "",
            },
        ),
        _Entry(
            "select",
            "log_level",
            {
                "name": "Log level",
                "entity_category": "config",
                "state_topic": True,
                "state_topic_postfix": "info",
                "value_template": "{{ value_json.log_level | lower }}",
                "command_topic": f"{bridge}/request/options",
                "command_template": '{"options": {"advanced": {"log_level": "{{ value }}" } } }',
                "options": list(LOG_LEVELS),
            },
        ),
        _Entry(
            "sensor",
            "version",
            {
                "name": "Version",
                "icon": "mdi:zigbee",
                "entity_category": "diagnostic",
                "state_topic": True,
                "state_topic_postfix": "info",
                "value_template": "{{ value_json.version }}",
            },
        ),
        _Entry(
            "sensor",
            "coordinator_version",
            {
                "name": "Coordinator version",
                "icon": "mdi:chip",
                "entity_category": "diagnostic",
                "enabled_by_default": False,
                "state_topic": True,
                "state_topic_postfix": "info",
                "value_template": "{{ value_json.coordinator.meta.revision }}",
            },
        ),
        _Entry(
            "sensor",
            "network_map",
            {
                "name": "Network map",
                "entity_category": "diagnostic",
                "enabled_by_default": False,
                "state_topic": True,
                "state_topic_postfix": "response/networkmap",
                "value_template": "{{ now().strftime('%Y-%m-%d %H:%M:%S') }}",
                "json_attributes_topic": f"{bridge}/response/networkmap",
                "json_attributes_template": "{{ value_json.data.value | tojson }}",
            },
        ),
        _Entry(
            "switch",
            "permit_join",
            {
                "name": "Permit join",
                "icon": "mdi:human-greeting-proximity",
                "state_topic": True,
                "state_topic_postfix": "info",
                "value_template": "{{ value_json.permit_join | lower }}",
                "command_topic": f"{bridge}/request/permit_join",
                "state_on": "true",
                "state_off": "false",
                "payload_on": '{"time": 254}',
                "payload_off": '{"time": 0}',
            },
        ),
    ]


def encoded_base_topic(base_topic: str) -> str:
    """How Zigbee2MQTT encodes its base topic in the bridge's node id (character codes)."""
    return "".join(str(ord(character)) for character in base_topic)


def bridge_device_payload(bridge: BridgeIdentity) -> JsonObject:
    """The `device` block of the bridge's own entities."""
    return {
        "hw_version": f"{bridge.coordinator_type} {bridge.coordinator_revision}",
        "identifiers": [f"zigbee2mqtt_bridge_{bridge.ieee_address}"],
        "manufacturer": "Zigbee2MQTT",
        "model": "Bridge",
        "name": "Zigbee2MQTT Bridge",
        "sw_version": Z2M_VERSION,
    }


def device_payload(device: DiscoverableDevice, bridge: BridgeIdentity) -> JsonObject:
    """The `device` block that ties a device's entities to one Home Assistant device."""
    payload: JsonObject = {
        "identifiers": [f"zigbee2mqtt_{device.ieee_address}"],
        "name": device.friendly_name,
        "model": device.description,
        "model_id": device.model,
        "manufacturer": device.vendor,
        "via_device": f"zigbee2mqtt_bridge_{bridge.ieee_address}",
    }
    if device.software_build_id is not None:
        payload["sw_version"] = device.software_build_id
    if device.hardware_version is not None:
        payload["hw_version"] = device.hardware_version
    return payload


def _finish(
    entry: _Entry,
    *,
    device_block: JsonObject,
    node_id: str,
    unique_prefix: str,
    state_base: str,
    extra_availability: str | None,
    settings: DiscoverySettings,
) -> DiscoveryMessage:
    """Zigbee2MQTT's `discover()`: topics, ids, device block, origin and availability."""
    payload = dict(entry.payload)
    state_topic = state_base
    postfix = payload.pop("state_topic_postfix", None)
    if postfix:
        state_topic += f"/{postfix}"
    if payload.get("state_topic", True) is not False:
        payload["state_topic"] = state_topic
    else:
        del payload["state_topic"]

    device_name = str(device_block["name"])
    object_id = device_name.replace(" ", "_").lower()
    if entry.object_id.startswith(entry.component) and "_" in entry.object_id:
        object_id += "_" + entry.object_id.split("_", 1)[1]
    elif not entry.object_id.startswith(entry.component):
        object_id += f"_{entry.object_id}"
    payload["object_id"] = object_id
    payload["default_entity_id"] = f"{entry.component}.{object_id}"
    payload["unique_id"] = f"{unique_prefix}_{entry.object_id}_{settings.base_topic}"
    payload["device"] = device_block
    payload["origin"] = ORIGIN

    if payload.get("availability", True) is not False:
        availability: list[JsonValue] = [
            {
                "topic": f"{settings.base_topic}/bridge/state",
                "value_template": "{{ value_json.state }}",
            }
        ]
        if extra_availability is not None:
            availability.append(
                {"topic": extra_availability, "value_template": "{{ value_json.state }}"}
            )
            payload["availability_mode"] = "all"
        payload["availability"] = availability
    else:
        del payload["availability"]

    prefix = payload.pop("command_topic_prefix", None)
    command_postfix = payload.pop("command_topic_postfix", None)
    if payload.get("command_topic") is True:
        payload["command_topic"] = (
            f"{state_base}/{f'{prefix}/' if prefix else ''}set"
            f"{f'/{command_postfix}' if command_postfix else ''}"
        )
    payload = {key: value for key, value in payload.items() if value is not None or key == "name"}
    return DiscoveryMessage(
        f"{settings.discovery_prefix}/{entry.component}/{node_id}/{entry.object_id}/config",
        payload,
    )


def bridge_discovery(bridge: BridgeIdentity, settings: DiscoverySettings) -> list[DiscoveryMessage]:
    """The configs of the bridge's own entities (connection state, version, permit join...)."""
    block = bridge_device_payload(bridge)
    node_id = f"{encoded_base_topic(settings.base_topic)}_{bridge.ieee_address}"
    messages = []
    for entry in _bridge_entries(settings.base_topic):
        message = _finish(
            entry,
            device_block=block,
            node_id=node_id,
            unique_prefix=f"bridge_{bridge.ieee_address}",
            state_base=f"{settings.base_topic}/bridge",
            extra_availability=None,
            settings=settings,
        )
        if "availability" in message.payload:
            message.payload["availability_mode"] = "all"
        messages.append(message)
    return messages


def device_discovery(
    device: DiscoverableDevice, bridge: BridgeIdentity, settings: DiscoverySettings
) -> list[DiscoveryMessage]:
    """The configs of one device's entities, in the order Zigbee2MQTT publishes them."""
    entries = [entry for expose in device.exposes for entry in _expose_entries(expose)]
    if settings.last_seen:
        entries.append(
            _Entry(
                "sensor",
                "last_seen",
                {
                    "name": "Last seen",
                    "value_template": "{{ value_json.last_seen }}",
                    "icon": "mdi:clock",
                    "enabled_by_default": False,
                    "entity_category": "diagnostic",
                    "device_class": "timestamp",
                },
            )
        )
    if device.supports_ota:
        entries.append(_update_entry(device.ieee_address, settings.base_topic))
    block = device_payload(device, bridge)
    state_base = f"{settings.base_topic}/{device.friendly_name}"
    return [
        _finish(
            entry,
            device_block=block,
            node_id=device.ieee_address,
            unique_prefix=device.ieee_address,
            state_base=state_base,
            extra_availability=f"{state_base}/availability" if settings.availability else None,
            settings=settings,
        )
        for entry in entries
    ]
