"""Where the integration's and the bridge's parsers used to disagree, the library follows what
Zigbee2MQTT really publishes.

Facts: Zigbee2MQTT 2.14.1's `dist/extension/bridge.js` (npm `zigbee2mqtt`) builds every
`bridge/event` with `data.ieee_address` (device_joined, device_leave, device_interview,
device_announce) and writes `definition: undefined` (so no `definition` key once stringified)
with `supported: false` for a device it has no converter for; zigbee-herdsman-converters'
ZLinky_TIC exposes the Linky's serial number (`meter_serial_number`, ADCO/ADSC: 12 digits) and
delivery point as `text` (the shared reference's `zlinky_exposes_by_mode.json`).
"""

import json

import pytest

from tests.helpers.reference import ZLINKY_EXPOSES
from zigbee2mqtt_protocol.bridge import parse_bridge_devices, parse_bridge_event
from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.payloads import as_number
from zigbee2mqtt_protocol.state import read_state

PLUG = "0xa4c138f1e2d3c4b5"


@pytest.mark.parametrize(
    "data",
    [
        {"friendly_name": "garage/plug", "ieee_address": PLUG},  # device_joined, _announce
        {"ieee_address": PLUG, "friendly_name": "garage/plug"},  # device_leave
        {"friendly_name": "garage/plug", "status": "started", "ieee_address": PLUG},
        {
            "friendly_name": "garage/plug",
            "status": "successful",
            "ieee_address": PLUG,
            "supported": True,
            "definition": {"model": "TS011F_plug_1", "vendor": "Tuya", "exposes": []},
        },
    ],
)
def test_every_event_zigbee2mqtt_publishes_names_its_device(data: dict[str, object]) -> None:
    """The events as Zigbee2MQTT builds them are read, with their device's IEEE address."""
    event = parse_bridge_event(json.dumps({"type": "device_joined", "data": data}))
    assert (event.ieee, event.friendly_name) == (PLUG, "garage/plug")


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "device_leave", "data": {"friendly_name": "garage/plug"}},
        {"type": "device_leave", "data": {"ieee_address": "", "friendly_name": "x"}},
        {"type": "device_leave"},
        {"data": {"ieee_address": PLUG}},
    ],
)
def test_an_event_without_its_device_s_address_is_refused(payload: dict[str, object]) -> None:
    """Zigbee2MQTT never sends one: whoever did is not Zigbee2MQTT (the bridge used to take it)."""
    with pytest.raises(RejectedInputError) as caught:
        parse_bridge_event(json.dumps(payload))
    assert caught.value.reason is Rejection.BAD_EVENT


def test_bad_device_entries_are_refused_one_by_one_and_the_rest_is_read() -> None:
    """The coordinator is left out, an unsupported device is listed without exposes, each bad
    entry comes back as a rejection to count (the bridge used to skip them silently)."""
    entries = [
        {
            "ieee_address": "0x00124b00120144ae",
            "type": "Coordinator",
            "friendly_name": "Coordinator",
        },
        {
            "ieee_address": PLUG,
            "type": "Router",
            "supported": True,
            "friendly_name": "garage/plug",
            "disabled": False,
            "definition": {
                "model": "TS011F_plug_1",
                "vendor": "Tuya",
                "description": "Smart plug (with power monitoring)",
                "exposes": [
                    {
                        "type": "switch",
                        "features": [
                            {
                                "type": "binary",
                                "name": "state",
                                "property": "state",
                                "access": 7,
                                "value_on": "ON",
                                "value_off": "OFF",
                                "value_toggle": "TOGGLE",
                            }
                        ],
                    },
                    {
                        "type": "numeric",
                        "name": "power",
                        "property": "power",
                        "access": 5,
                        "unit": "W",
                    },
                ],
            },
            "model_id": "TS011F",
        },
        {  # no converter: JSON.stringify drops `definition: undefined`
            "ieee_address": "0x00158d000aaaaaaa",
            "type": "EndDevice",
            "supported": False,
            "friendly_name": "0x00158d000aaaaaaa",
            "disabled": False,
            "model_id": "lumi.unknown",
        },
        "junk",
        {"type": "Router", "friendly_name": "no address"},
        {"ieee_address": "0x01", "friendly_name": "bad", "definition": {"exposes": "none"}},
        {"ieee_address": "0x02", "friendly_name": "kitchen/+", "definition": None},
    ]
    devices, rejections = parse_bridge_devices(json.dumps(entries))
    plug, unsupported = devices
    assert (plug.friendly_name, plug.model, plug.vendor, plug.supported) == (
        "garage/plug",
        "TS011F_plug_1",
        "Tuya",
        True,
    )
    assert [prop.property for prop in plug.properties] == ["state", "power"]
    assert plug.command_problems({"state": "ON"}) == []
    assert plug.command_problems({"power": 5}) == [
        "power: not settable on garage/plug (settable: state)"
    ]
    assert (unsupported.supported, unsupported.properties, unsupported.model_id) == (
        False,
        (),
        "lumi.unknown",
    )
    assert [rejection.reason for rejection in rejections] == [
        Rejection.BAD_BRIDGE_DEVICE,
        Rejection.BAD_BRIDGE_DEVICE,
        Rejection.BAD_BRIDGE_DEVICE,
        Rejection.BAD_FRIENDLY_NAME,
    ]


def test_digit_strings_are_text_and_never_a_measurement() -> None:
    """The ZLinky's serial number is a text expose of digits: not a rejected value in the
    bridge's fields, and refused where a number is read (the integration used to take "250" as
    250 W)."""
    exposes = json.loads(ZLINKY_EXPOSES.read_text(encoding="utf-8"))
    historic = {e["property"]: e for e in exposes["historique single_phase Historique - BASE"]}
    assert historic["meter_serial_number"]["type"] == "text"
    assert historic["apparent_power"]["type"] == "numeric"
    message = {
        "meter_serial_number": "021961234567",
        "apparent_power": 1250,
        "current_summ_delivered": 4521.337,
    }
    state, fields = read_state(json.dumps(message).encode())
    assert fields.fields == {"apparent_power": 1250.0, "current_summ_delivered": 4521.337}
    assert fields.rejected == ()
    assert state["meter_serial_number"] == "021961234567"
    assert as_number("apparent_power", state["apparent_power"]) == 1250.0
    with pytest.raises(RejectedInputError) as caught:
        as_number("apparent_power", "1250")
    assert caught.value.reason is Rejection.NUMBER_AS_STRING


def test_a_generated_definition_has_exposes_but_is_not_supported() -> None:
    """Zigbee2MQTT's `supported` is false for a definition it generated from the device's
    clusters (`source: generated`): its exposes are read, its `supported` kept."""
    entry = {
        "ieee_address": PLUG,
        "type": "Router",
        "supported": False,
        "friendly_name": "garage/unknown plug",
        "definition": {
            "source": "generated",
            "model": "TS0001",
            "vendor": "_TZ3000_abcdefgh",
            "description": "Automatically generated definition",
            "exposes": [{"type": "numeric", "property": "power", "access": 5, "unit": "W"}],
        },
    }
    (device,), rejections = parse_bridge_devices(json.dumps([entry]))
    assert (device.supported, [p.property for p in device.properties], rejections) == (
        False,
        ["power"],
        [],
    )
