"""Reading Zigbee2MQTT's payloads: typed values out, or a counted reason."""

import json

import pytest

from tests.helpers import z2m
from tests.helpers.reference import ZIGBEE2MQTT_REFERENCE
from zigbee2mqtt_protocol.bridge import parse_bridge_devices, parse_bridge_event
from zigbee2mqtt_protocol.discovery import (
    DiscoveredProperty,
    DiscoveryRemoval,
    parse_discovery_config,
    property_of_template,
)
from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.payloads import (
    MAX_PAYLOAD_BYTES,
    MAX_STATE_BYTES,
    as_number,
    decode_json,
    decode_object,
    parse_online,
)

PLUG = z2m.plug("0x8c65a3fffe200001", "desk_lamp")
LINKY = z2m.zlinky_standard("0x00158d0001a2b3c4", "linky")


def _config(device: z2m.Device, object_id: str, component: str = "sensor") -> tuple[str, str]:
    topic = f"homeassistant/{component}/{device.ieee}/{object_id}/config"
    return topic, z2m.discovery_configs(device)[topic]


def _parse(topic: str, payload: str) -> DiscoveredProperty | DiscoveryRemoval | None:
    return parse_discovery_config(topic, payload, "homeassistant", "zigbee2mqtt")


@pytest.mark.parametrize(
    ("template", "prop"),
    [
        ('{{ value_json["power"] }}', "power"),
        ("{{ value_json.energy }}", "energy"),
        ("{{ value_json['current_summ_delivered'] }}", "current_summ_delivered"),
        ("{{ value_json[\"current_tarif\"] | default('',True) | string }}", "current_tarif"),
        ("{{ 42 }}", None),
    ],
)
def test_the_property_is_read_from_the_value_template(template: str, prop: str | None) -> None:
    """Z2M's templates name the state property they read."""
    assert property_of_template(template) == prop


def test_a_power_sensor_config_becomes_a_discovered_property() -> None:
    """Unit, class, device and friendly name come from Z2M's config."""
    found = _parse(*_config(PLUG, "power"))
    assert isinstance(found, DiscoveredProperty)
    assert (found.ieee, found.component, found.property) == (PLUG.ieee, "sensor", "power")
    assert (found.unit, found.device_class, found.friendly_name) == ("W", "power", "desk_lamp")
    assert found.device.model_id == "EP-PLUG16"
    assert not found.settable


def test_the_switch_config_is_settable_with_its_payloads() -> None:
    """The main switch carries its command payloads."""
    found = _parse(*_config(PLUG, "switch", "switch"))
    assert isinstance(found, DiscoveredProperty)
    assert (found.property, found.settable, found.value_on, found.value_off) == (
        "state",
        True,
        "ON",
        "OFF",
    )


def test_an_empty_retained_config_removes_the_entity() -> None:
    """Z2M withdraws an entity with an empty retained payload."""
    topic, _ = _config(PLUG, "power")
    assert _parse(topic, "") == DiscoveryRemoval(PLUG.ieee, "sensor", "power")


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("homeassistant/sensor/0x1/power", "{}"),  # not a config topic
        ("other/sensor/0x1/power/config", "{}"),  # another prefix
        ("homeassistant/sensor/1221051_0x00124b/version/config", "{}"),  # the bridge itself
    ],
)
def test_topics_that_are_not_device_configs_are_ignored(topic: str, payload: str) -> None:
    """Only `<prefix>/<component>/<ieee>/<object_id>/config` topics describe devices."""
    assert _parse(topic, payload) is None


def test_configs_of_other_publishers_or_instances_are_ignored() -> None:
    """Another integration, or another Z2M base topic, is none of this entry's business."""
    topic, payload = _config(PLUG, "power")
    config = json.loads(payload)
    other = {**config, "device": {**config["device"], "identifiers": ["tasmota_1"]}}
    assert _parse(topic, json.dumps(other)) is None
    elsewhere = {**config, "state_topic": "z2m-garage/desk_lamp"}
    assert _parse(topic, json.dumps(elsewhere)) is None
    stateless = {key: value for key, value in config.items() if key != "state_topic"}
    assert _parse(topic, json.dumps(stateless)) is None


@pytest.mark.parametrize(
    "change",
    [
        {"device": "nope"},
        {"state_topic": 42},
        {"value_template": "{{ 1 }}"},
        {"unit_of_measurement": 5},
        {"device": {"identifiers": ["zigbee2mqtt_0x8c65a3fffe200001"], "name": 7}},
    ],
)
def test_configs_with_wrong_fields_are_rejected(change: dict[str, object]) -> None:
    """A config claiming to be Z2M's but lacking what Z2M sends is refused, with a reason."""
    topic, payload = _config(PLUG, "power")
    with pytest.raises(RejectedInputError) as caught:
        _parse(topic, json.dumps({**json.loads(payload), **change}))
    assert caught.value.reason is Rejection.BAD_DISCOVERY_CONFIG


@pytest.mark.parametrize("payload", ["{not json", "[1, 2]", "null"])
def test_unreadable_configs_are_rejected(payload: str) -> None:
    """Non-JSON and non-objects are refused."""
    topic, _ = _config(PLUG, "power")
    with pytest.raises(RejectedInputError) as caught:
        _parse(topic, payload)
    assert caught.value.reason is Rejection.BAD_DISCOVERY_CONFIG


def test_bridge_devices_are_flattened_with_their_switch() -> None:
    """Definitions become devices; exposes are flattened; the coordinator is left out."""
    devices, rejections = parse_bridge_devices(z2m.bridge_devices([PLUG, LINKY]))
    assert rejections == []
    assert [device.ieee for device in devices] == [PLUG.ieee, LINKY.ieee]
    plug = {prop.property: prop for prop in devices[0].properties}
    assert plug["state"].is_switch_state
    assert plug["state"].value_on == "ON"
    assert plug["power"].unit == "W"
    assert not plug["power"].settable
    assert plug["power_on_behavior_delay"].settable
    assert devices[1].device.model_id == "ZLinky_TIC"


def test_bad_bridge_entries_are_rejected_one_by_one() -> None:
    """One broken entry does not hide the others; a device Zigbee2MQTT has no definition for is
    listed (it is in the network) without exposes."""
    entries = json.loads(z2m.bridge_devices([PLUG]))
    entries += [
        "junk",
        {"friendly_name": "x"},
        {"ieee_address": "0x1", "friendly_name": "x", "definition": {"exposes": 3}},
        {"ieee_address": "0x2", "friendly_name": "unsupported", "definition": None},
    ]
    devices, rejections = parse_bridge_devices(json.dumps(entries))
    assert [(device.ieee, device.supported, device.properties) for device in devices] == [
        (PLUG.ieee, True, devices[0].properties),
        ("0x2", False, ()),
    ]
    assert devices[0].properties
    assert [rejection.reason for rejection in rejections] == [Rejection.BAD_BRIDGE_DEVICE] * 3


@pytest.mark.parametrize(
    ("payload", "reason"), [("{", Rejection.NOT_JSON), ("{}", Rejection.NOT_AN_OBJECT)]
)
def test_a_bridge_device_list_that_is_not_a_list_is_rejected(
    payload: str, reason: Rejection
) -> None:
    """The whole list is refused when it cannot be read."""
    with pytest.raises(RejectedInputError) as caught:
        parse_bridge_devices(payload)
    assert caught.value.reason is reason


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        ('{"state":"online"}', True),
        (b'{"state":"offline"}', False),
        ("online", True),
        ("offline", False),
    ],
)
def test_availability_payloads(payload: str | bytes, online: bool) -> None:
    """JSON availability and Z2M's legacy plain strings are both understood."""
    assert parse_online(payload) is online


@pytest.mark.parametrize("payload", ['{"state":"maybe"}', "yes", "{"])
def test_bad_availability_is_rejected(payload: str) -> None:
    """Anything else is refused."""
    with pytest.raises(RejectedInputError) as caught:
        parse_online(payload)
    assert caught.value.reason is Rejection.BAD_AVAILABILITY


def test_bridge_events_name_the_device() -> None:
    """`device_leave` and friends carry the device's address."""
    event = parse_bridge_event(z2m.event("device_leave", PLUG))
    assert (event.type, event.ieee, event.friendly_name) == ("device_leave", PLUG.ieee, "desk_lamp")
    for bad in ('{"type":"device_leave"}', '{"type":"x","data":{"friendly_name":"a"}}'):
        with pytest.raises(RejectedInputError):
            parse_bridge_event(bad)


def test_state_messages_must_be_json_objects() -> None:
    """Non-JSON, arrays, `null` and NaN literals are refused."""
    assert decode_object(b'{"power": 5}') == {"power": 5}
    for payload, reason in [
        (b"garbage", Rejection.NOT_JSON),
        (b"NaN", Rejection.NOT_AN_OBJECT),
        (b'{"power": 5', Rejection.NOT_JSON),
        (b"[1]", Rejection.NOT_AN_OBJECT),
        (b"null", Rejection.NOT_AN_OBJECT),
    ]:
        with pytest.raises(RejectedInputError) as caught:
            decode_object(payload)
        assert caught.value.reason is reason


def test_a_state_message_over_the_limit_is_refused_before_it_is_parsed() -> None:
    """64 KiB for a state message (a few hundred bytes in Z2M's captures), 1 MiB otherwise."""
    big = b'{"power": 5, "x": "' + b"a" * MAX_STATE_BYTES + b'"}'
    assert decode_object(big)["power"] == 5
    with pytest.raises(RejectedInputError) as caught:
        decode_object(big, MAX_STATE_BYTES)
    assert caught.value.reason is Rejection.TOO_LARGE
    with pytest.raises(RejectedInputError) as caught:
        decode_object(b" " * (MAX_PAYLOAD_BYTES + 1))
    assert caught.value.reason is Rejection.TOO_LARGE


def test_numbers() -> None:
    """JSON numbers pass; anything else is refused, numbers sent as strings among them: Z2M
    publishes numeric exposes as numbers, and the Linky's serial number, a text expose, is
    digits (the ZLinky's exposes in the reference: `meter_serial_number` has type text)."""
    assert as_number("power", 12) == 12.0
    assert as_number("power", 12.5) == 12.5
    for value, reason in [
        ("12.5", Rejection.NUMBER_AS_STRING),
        ("021961234567", Rejection.NUMBER_AS_STRING),
        ("high", Rejection.NOT_A_NUMBER),
        (True, Rejection.NOT_A_NUMBER),
        ([1], Rejection.NOT_A_NUMBER),
        ("NaN", Rejection.NUMBER_AS_STRING),
        (float("inf"), Rejection.NOT_FINITE),
    ]:
        with pytest.raises(RejectedInputError) as caught:
            as_number("power", value)
        assert caught.value.reason is reason


def test_exposes_without_a_property_are_skipped() -> None:
    """Composite exposes are flattened; entries that name no property are left out."""
    device = z2m.Device("0x0a", "odd", "M", "V", "d", ["junk", {"type": "numeric", "name": "x"}])
    device.exposes.append(z2m.numeric("power", unit="W"))
    devices, _ = parse_bridge_devices(z2m.bridge_devices([device]))
    assert [prop.property for prop in devices[0].properties] == ["power"]


def test_a_big_network_s_device_list_is_read_whole() -> None:
    """Zigbee2MQTT's own TS011F definition is 6 KB with its exposes (the reference capture):
    200 such plugs list over 1 MiB, which a state message's limit would refuse."""
    reference = json.loads((ZIGBEE2MQTT_REFERENCE / "exposes_and_state.json").read_text())
    entries = [
        {
            "ieee_address": f"0xa4c13800000{index:05x}",
            "type": "Router",
            "friendly_name": f"room_{index % 12}/plug_{index}",
            "supported": True,
            "disabled": False,
            "definition": reference["definition"],
        }
        for index in range(200)
    ]
    payload = json.dumps(entries).encode()
    assert len(payload) > MAX_PAYLOAD_BYTES
    devices, rejections = parse_bridge_devices(payload)
    assert (len(devices), rejections) == (200, [])
    assert {prop.property for prop in devices[0].properties} >= {"state", "power", "energy"}


def test_what_python_reads_but_no_topic_or_payload_can_carry_is_refused() -> None:
    """A lone surrogate is JSON that Python's json reads; it cannot be encoded again as UTF-8
    (a topic, a diagnostics download): refused like orjson refuses it."""
    for payload in (b'{"friendly_name": "\\ud800"}', '[{"ieee_address": "\\udfff"}]'):
        with pytest.raises(RejectedInputError) as caught:
            decode_json(payload)
        assert caught.value.reason is Rejection.NOT_JSON
    assert decode_json(b'{"power": NaN}') == {"power": pytest.approx(float("nan"), nan_ok=True)}
