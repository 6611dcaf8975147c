"""Zigbee2MQTT's protocol as the bridge reads it: topics, state messages, devices, commands."""

import json
import math

from hypothesis import given, strategies as st
import pytest

from energy_edge_bridge.z2m import (
    MAX_STATE_BYTES,
    BridgeEvent,
    MalformedPayloadError,
    SettingKind,
    TopicKind,
    Topics,
    read_bridge_event,
    read_devices,
    read_online,
    read_state,
)
from tests.bridge.support import coordinator_entry, device_entry, devices_payload, plug_state

TOPICS = Topics("zigbee2mqtt")


@pytest.mark.parametrize(
    ("topic", "kind", "device"),
    [
        ("zigbee2mqtt/kettle", TopicKind.DEVICE_STATE, "kettle"),
        ("zigbee2mqtt/kitchen/kettle", TopicKind.DEVICE_STATE, "kitchen/kettle"),
        ("zigbee2mqtt/kitchen/kettle/availability", TopicKind.AVAILABILITY, "kitchen/kettle"),
        ("zigbee2mqtt/bridge/state", TopicKind.BRIDGE_STATE, ""),
        ("zigbee2mqtt/bridge/event", TopicKind.BRIDGE_EVENT, ""),
        ("zigbee2mqtt/bridge/devices", TopicKind.BRIDGE_DEVICES, ""),
        ("zigbee2mqtt/bridge/info", TopicKind.OTHER, ""),
        ("zigbee2mqtt/bridge/response/device/rename", TopicKind.OTHER, ""),
        ("zigbee2mqtt/kettle/set", TopicKind.OTHER, ""),
        ("zigbee2mqtt/kettle/get", TopicKind.OTHER, ""),
        ("zigbee2mqtt/kettle/set/state", TopicKind.OTHER, ""),
        ("zigbee2mqtt/", TopicKind.OTHER, ""),
        ("zigbee2mqtt/availability", TopicKind.DEVICE_STATE, "availability"),
        ("homeassistant/sensor/0x1/power/config", TopicKind.OTHER, ""),
        ("zigbee2mqtt2/kettle", TopicKind.OTHER, ""),
    ],
)
def test_topics_are_classified_by_zigbee2mqtt_rules(
    topic: str, kind: TopicKind, device: str
) -> None:
    """Readings, availability and bridge topics are told apart; commands are not readings."""
    classified = TOPICS.classify(topic)
    assert (classified.kind, classified.device) == (kind, device)


def test_a_custom_base_topic_is_followed() -> None:
    """Z2M_BASE_TOPIC changes every topic."""
    topics = Topics("home/z2m")
    assert topics.subscription == "home/z2m/#"
    assert topics.classify("home/z2m/plug").kind is TopicKind.DEVICE_STATE
    assert topics.command_topic("salon/plug") == "home/z2m/salon/plug/set"


def test_a_plug_state_becomes_float_fields() -> None:
    """Numbers as floats, ON/OFF as 1/0, nested objects flattened with `_`, strings and nulls
    left out."""
    state, reading = read_state(plug_state(1234.5, 12.75))
    assert state["power"] == 1234.5
    assert reading.fields == {
        "current": 5.367,
        "energy": 12.75,
        "linkquality": 132.0,
        "power": 1234.5,
        "state": 1.0,
        "update_installed_version": 4097.0,
        "update_latest_version": 4097.0,
        "voltage": 231.4,
    }
    assert all(type(value) is float for value in reading.fields.values())
    assert reading.rejected == ()


def test_off_and_booleans_become_numbers() -> None:
    """OFF is 0; booleans (contact, occupancy...) are 1/0; other words are left out."""
    _, reading = read_state(
        b'{"state_l1": "OFF", "state_l2": "ON", "contact": false, "tamper": true, '
        b'"child_lock": "LOCK", "power_outage_memory": "restore", "state_l3": "on"}'
    )
    assert reading.fields == {"state_l1": 0.0, "state_l2": 1.0, "contact": 0.0, "tamper": 1.0}


@pytest.mark.parametrize(
    ("payload", "rejected"),
    [
        (b'{"power": NaN, "energy": 1.5}', ("power",)),
        (b'{"power": Infinity, "energy": 1.5}', ("power",)),
        (b'{"power": -Infinity, "energy": 1.5}', ("power",)),
        (b'{"power": 1e999, "energy": 1.5}', ("power",)),
        (b'{"power": "12.5", "energy": 1.5}', ("power",)),
        (b'{"power": " -3e2 ", "energy": 1.5}', ("power",)),
        (b'{"power": 1' + b"0" * 400 + b', "energy": 1.5}', ("power",)),
        (
            b'{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}, "energy": 1.5}',
            ("a_b_c_d_e",),
        ),
    ],
)
def test_bad_values_are_left_out_and_named(payload: bytes, rejected: tuple[str, ...]) -> None:
    """NaN, infinities, numbers sent as strings, out-of-range and too-deep values are left
    out, the rest of the message is kept."""
    _, reading = read_state(payload)
    assert reading.fields == {"energy": 1.5}
    assert reading.rejected == rejected


def test_nested_objects_are_flattened_to_a_depth() -> None:
    """Four levels below the message are flattened."""
    _, reading = read_state(b'{"color": {"x": 0.3, "y": 0.4, "hsv": {"h": {"deg": 10}}}}')
    assert reading.fields == {"color_x": 0.3, "color_y": 0.4, "color_hsv_h_deg": 10.0}


def test_names_influxdb_reserves_are_left_out() -> None:
    """A field named `time` or `_...` would make InfluxDB refuse the whole point."""
    _, reading = read_state(b'{"time": 1, "_value": 2, "_": 3, "power": 4, "t": {"_x": 5}}')
    assert reading.fields == {"power": 4.0, "t__x": 5.0}
    assert reading.rejected == ("time", "_value", "_")


def test_lists_nulls_and_empty_names_are_left_out_without_complaint() -> None:
    """Those are not readings, and not errors either."""
    _, reading = read_state(b'{"": 5, "scenes": [1, 2], "action": null, "power": 3}')
    assert reading.fields == {"power": 3.0}
    assert reading.rejected == ()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"ON", "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe{", "not JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b"null", "expected a JSON object, got NoneType"),
        (b"12.5", "expected a JSON object, got float"),
        (b"[" * 100_000 + b"]" * 100_000, "exceeds"),
    ],
    ids=["word", "empty", "not utf-8", "list", "null", "number", "too big"],
)
def test_malformed_state_messages_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    """Not JSON, not an object, too big, too deep: a MalformedPayloadError saying why."""
    with pytest.raises(MalformedPayloadError, match=reason):
        read_state(payload)


def test_json_nested_beyond_the_stack_is_refused() -> None:
    """A pathological device list cannot crash the bridge with a stack overflow."""
    with pytest.raises(MalformedPayloadError, match="nested too deeply"):
        read_devices(b"[" * 200_000 + b"]" * 200_000)


def test_a_state_message_of_absurd_size_is_refused_before_parsing() -> None:
    """Anything bigger than MAX_STATE_BYTES is refused whole."""
    big = json.dumps({"power": 1, "padding": "x" * MAX_STATE_BYTES}).encode()
    with pytest.raises(MalformedPayloadError, match="exceeds"):
        read_state(big)


@given(st.binary(max_size=300))
def test_any_bytes_give_fields_or_a_reason(payload: bytes) -> None:
    """Whatever arrives, parsing ends in fields or in MalformedPayloadError, nothing else."""
    try:
        _, reading = read_state(payload)
    except MalformedPayloadError:
        return
    assert all(isinstance(value, float) for value in reading.fields.values())


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_any_json_object_gives_finite_float_fields(state: dict[str, object]) -> None:
    """Every field is a finite float; every value is either a field, left out or rejected."""
    _, reading = read_state(json.dumps(state).encode())
    assert all(type(v) is float and math.isfinite(v) for v in reading.fields.values())
    assert "" not in reading.fields


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        (b'{"state":"online"}', True),
        (b'{"state":"offline"}', False),
        (b"online", True),
        (b"offline\n", False),
    ],
)
def test_availability_in_both_formats(payload: bytes, online: bool) -> None:
    """Zigbee2MQTT 2.x sends JSON; the legacy plain payload is understood too."""
    assert read_online(payload) is online


@pytest.mark.parametrize("payload", [b'{"state":"maybe"}', b"{}", b"[]", b"up"])
def test_unknown_availability_is_malformed(payload: bytes) -> None:
    """Anything else is refused with a reason."""
    with pytest.raises(MalformedPayloadError):
        read_online(payload)


def test_bridge_events_name_the_device() -> None:
    """device_joined with its friendly name and IEEE address."""
    payload = json.dumps(
        {
            "type": "device_joined",
            "data": {"friendly_name": "garage/plug", "ieee_address": "0xa4c1380000000042"},
        }
    ).encode()
    assert read_bridge_event(payload) == BridgeEvent(
        "device_joined", "garage/plug", "0xa4c1380000000042"
    )
    assert read_bridge_event(b'{"type": "device_leave", "data": 3}') == BridgeEvent("device_leave")
    with pytest.raises(MalformedPayloadError, match="without a type"):
        read_bridge_event(b'{"data": {}}')


def test_bridge_devices_give_identity_and_settable_properties() -> None:
    """The coordinator and broken entries are left out; exposes say what can be set."""
    payload = devices_payload(
        device_entry("kitchen/kettle", "0xa4c1380000000001"),
        {"friendly_name": "no address"},
        {"ieee_address": "0x2", "friendly_name": "unsupported", "definition": None},
        "not an object",  # type: ignore[arg-type]
    )
    devices = read_devices(payload)
    assert [(d.name, d.ieee, d.model) for d in devices] == [
        ("kitchen/kettle", "0xa4c1380000000001", "TS011F_plug_1"),
        ("unsupported", "0x2", None),
    ]
    kettle = devices[0]
    assert kettle.vendor == "Tuya"
    assert set(kettle.settings) == {"state", "power_outage_memory", "countdown"}
    assert kettle.settings["state"].kind is SettingKind.BINARY
    assert kettle.settings["state"].choices == ("ON", "OFF", "TOGGLE")
    assert devices[1].settings == {}
    assert read_devices(json.dumps([coordinator_entry()]).encode()) == []
    with pytest.raises(MalformedPayloadError, match="array"):
        read_devices(b'{"devices": []}')


def _device_with(exposes: list[object]) -> object:
    payload = devices_payload(device_entry("thing", "0x00000000000000a1", exposes=exposes))  # type: ignore[arg-type]
    return read_devices(payload)[0]


def test_commands_are_checked_against_the_exposes() -> None:
    """Only settable properties, with values the device accepts."""
    kettle = read_devices(devices_payload(device_entry("kettle", "0xa4c1380000000001")))[0]
    assert kettle.command_problems({"state": "OFF"}) == []
    assert kettle.command_problems({"state": "TOGGLE", "countdown": 60}) == []
    assert kettle.command_problems({"power_outage_memory": "restore"}) == []
    assert kettle.command_problems({}) == ["the command sets no property"]
    assert kettle.command_problems({"power": 5}) == [
        "power: not settable on kettle (settable: countdown, power_outage_memory, state)"
    ]
    assert kettle.command_problems({"state": "off"}) == [
        'state: expected one of "ON", "OFF", "TOGGLE"'
    ]
    assert kettle.command_problems({"state": True}) == [
        'state: expected one of "ON", "OFF", "TOGGLE"'
    ]
    assert kettle.command_problems({"countdown": 50_000}) == ["countdown: expected at most 43200"]
    assert kettle.command_problems({"countdown": -1}) == ["countdown: expected at least 0"]
    assert kettle.command_problems({"countdown": "60"}) == ["countdown: expected a number"]
    assert kettle.command_problems({"countdown": True}) == ["countdown: expected a number"]
    assert kettle.command_problems({"countdown": float("nan")}) == [
        "countdown: expected a finite number"
    ]
    assert kettle.command_problems({"power_outage_memory": "always"}) == [
        'power_outage_memory: expected one of "on", "off", "restore"'
    ]


def test_every_kind_of_setting_is_understood() -> None:
    """Binary with booleans, enums, text, composites, lists; read-only and unknown left out."""
    device = _device_with(
        [
            {
                "type": "binary",
                "property": "led",
                "access": 7,
                "value_on": True,
                "value_off": False,
            },
            {"type": "text", "property": "label", "access": 2},
            {"type": "numeric", "property": "level", "access": 3},
            {
                "type": "composite",
                "property": "color",
                "access": 2,
                "features": [{"type": "numeric", "property": "x", "access": 2}],
            },
            {"type": "list", "property": "schedule", "access": 3},
            {"type": "enum", "property": "mode", "access": 2, "values": "broken"},
            {"type": "numeric", "property": "power", "access": 5},
            {"type": "gizmo", "property": "unknown", "access": 7},
            {"type": "numeric", "property": "no_access"},
            "not an object",
        ]
    )
    problems = device.command_problems  # type: ignore[attr-defined]
    assert problems({"led": True, "label": "x", "level": 1e6, "color": {"x": 0.1}}) == []
    assert problems({"schedule": []}) == []
    assert problems({"led": "ON"}) == ["led: expected one of true, false"]
    assert problems({"label": 3}) == ["label: expected a string"]
    assert problems({"color": [1]}) == ["color: expected an object"]
    assert problems({"schedule": {}}) == ["schedule: expected a list"]
    assert problems({"mode": "eco"}) == ["mode: expected one of "]
    assert problems({"power": 3})[0].startswith("power: not settable")
    assert problems({"unknown": 1})[0].startswith("unknown: not settable")
