"""Zigbee2MQTT's `bridge/devices`: identities, what each device accepts on `/set`."""

import json

import pytest

from tests.bridge.support import coordinator_entry, device_entry, devices_payload
from zigbee2mqtt_protocol.bridge import (
    BridgeDevice,
    parse_bridge_devices,
)
from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.exposes import SettingKind

KETTLE_IEEE = "0xa4c1380000000001"


def test_bridge_devices_give_identity_and_settable_properties() -> None:
    """The coordinator is left out; a device Zigbee2MQTT does not support has no exposes;
    entries that cannot be read come back as rejections, the rest of the list is used."""
    unsupported = {
        "ieee_address": "0xa4c1380000000002",
        "friendly_name": "porch switch",
        "type": "Router",
        "supported": False,
        "model_id": "TS0001",
        "definition": None,
    }
    devices, rejections = parse_bridge_devices(
        devices_payload(
            device_entry("kitchen/kettle", KETTLE_IEEE),
            {"friendly_name": "no address"},
            unsupported,
            device_entry("kitchen/+", "0xa4c1380000000003"),
            "not an object",  # type: ignore[arg-type]
        )
    )
    assert [(d.friendly_name, d.ieee, d.model, d.supported) for d in devices] == [
        ("kitchen/kettle", KETTLE_IEEE, "TS011F_plug_1", True),
        ("porch switch", "0xa4c1380000000002", None, False),
    ]
    assert [rejection.reason for rejection in rejections] == [
        Rejection.BAD_BRIDGE_DEVICE,
        Rejection.BAD_FRIENDLY_NAME,
        Rejection.BAD_BRIDGE_DEVICE,
    ]
    kettle = devices[0]
    assert (kettle.vendor, kettle.description) == ("Tuya", "Smart plug (with power monitoring)")
    assert set(kettle.settings) == {"state", "power_outage_memory", "countdown"}
    assert kettle.settings["state"].kind is SettingKind.BINARY
    assert kettle.settings["state"].choices == ("ON", "OFF", "TOGGLE")
    assert {p.property: p.unit for p in kettle.properties}["power"] == "W"
    assert devices[1].settings == {}
    assert parse_bridge_devices(json.dumps([coordinator_entry()]).encode()) == ([], [])


def test_a_device_list_that_is_not_a_list_is_refused() -> None:
    """`bridge/devices` is a JSON array."""
    with pytest.raises(RejectedInputError) as refused:
        parse_bridge_devices(b'{"devices": []}')
    assert refused.value.reason is Rejection.NOT_AN_OBJECT


def test_json_nested_beyond_the_stack_is_refused() -> None:
    """A pathological device list cannot crash its reader with a stack overflow."""
    with pytest.raises(RejectedInputError) as refused:
        parse_bridge_devices(b"[" * 200_000 + b"]" * 200_000)
    assert refused.value.reason is Rejection.NOT_JSON


def kettle() -> BridgeDevice:
    """The TS011F plug as bridge/devices lists it."""
    devices, _ = parse_bridge_devices(devices_payload(device_entry("kettle", KETTLE_IEEE)))
    return devices[0]


def test_commands_are_checked_against_the_exposes() -> None:
    """Only settable properties, with values the device accepts."""
    problems = kettle().command_problems
    assert problems({"state": "OFF"}) == []
    assert problems({"state": "TOGGLE", "countdown": 60}) == []
    assert problems({"power_outage_memory": "restore"}) == []
    assert problems({}) == ["the command sets no property"]
    assert problems({"power": 5}) == [
        "power: not settable on kettle (settable: countdown, power_outage_memory, state)"
    ]
    assert problems({"state": "off"}) == ['state: expected one of "ON", "OFF", "TOGGLE"']
    assert problems({"state": True}) == ['state: expected one of "ON", "OFF", "TOGGLE"']
    assert problems({"countdown": 50_000}) == ["countdown: expected at most 43200"]
    assert problems({"countdown": -1}) == ["countdown: expected at least 0"]
    assert problems({"countdown": "60"}) == ["countdown: expected a number"]
    assert problems({"countdown": True}) == ["countdown: expected a number"]
    assert problems({"countdown": float("nan")}) == ["countdown: expected a finite number"]
    assert problems({"power_outage_memory": "always"}) == [
        'power_outage_memory: expected one of "on", "off", "restore"'
    ]
