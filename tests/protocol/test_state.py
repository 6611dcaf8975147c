"""A device's state message as the numeric fields a time-series database keeps."""

import json
import math

from hypothesis import given, strategies as st
import pytest

from tests.bridge.support import plug_state
from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.payloads import MAX_STATE_BYTES
from zigbee2mqtt_protocol.state import last_seen_ms, read_state

# A LiXee ZLinky_TIC's state message in standard mode, with the properties of its exposes
# (zigbee-herdsman-converters' lixee.ts): ADSC (`meter_serial_number`, 12 digits) and PRM
# (`site_id`, 14 digits) are text exposes, so Zigbee2MQTT sends them as strings.
LINKY_STATE = {
    "apparent_power": 1250,
    "available_power": 9,
    "current_date": "H260314093012",
    "current_index_tarif": 1,
    "current_summ_delivered": 18452.312,
    "current_tarif": "BASE",
    "current_tier1_summ_delivered": 18452.312,
    "linkquality": 148,
    "meter_serial_number": "021861348497",
    "power_threshold": 9,
    "rms_current": 5,
    "rms_voltage": 236,
    "site_id": "09876543210123",
    "status_register": "003A4001",
}


def test_a_plug_state_becomes_float_fields() -> None:
    """Numbers as floats, ON/OFF as 1/0, nested objects flattened with `_`, strings and nulls
    left out."""
    state, values = read_state(plug_state(1234.5, 12.75))
    assert state["power"] == 1234.5
    assert values.fields == {
        "current": 5.367,
        "energy": 12.75,
        "linkquality": 132.0,
        "power": 1234.5,
        "state": 1.0,
        "update_installed_version": 4097.0,
        "update_latest_version": 4097.0,
        "voltage": 231.4,
    }
    assert all(type(value) is float for value in values.fields.values())
    assert values.rejected == ()


def test_off_and_booleans_become_numbers() -> None:
    """OFF is 0; booleans (contact, occupancy...) are 1/0; other words are left out."""
    _, values = read_state(
        b'{"state_l1": "OFF", "state_l2": "ON", "contact": false, "tamper": true, '
        b'"child_lock": "LOCK", "power_outage_memory": "restore", "state_l3": "on"}'
    )
    assert values.fields == {"state_l1": 0.0, "state_l2": 1.0, "contact": 0.0, "tamper": 1.0}


def test_the_linkys_serial_number_is_text_not_a_rejected_number() -> None:
    """Every Linky message carries its serial number and delivery point as digit strings:
    they are text, left out of the fields without being counted as bad values (the bridge
    used to count two rejected values per Linky message)."""
    _, values = read_state(json.dumps(LINKY_STATE).encode())
    assert values.rejected == ()
    assert "meter_serial_number" not in values.fields
    assert "site_id" not in values.fields
    assert values.fields["apparent_power"] == 1250.0
    assert values.fields["current_summ_delivered"] == 18452.312


@pytest.mark.parametrize(
    ("payload", "rejected"),
    [
        (b'{"power": NaN, "energy": 1.5}', ("power",)),
        (b'{"power": Infinity, "energy": 1.5}', ("power",)),
        (b'{"power": -Infinity, "energy": 1.5}', ("power",)),
        (b'{"power": 1e999, "energy": 1.5}', ("power",)),
        (b'{"power": 1' + b"0" * 400 + b', "energy": 1.5}', ("power",)),
        (b'{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}, "energy": 1.5}', ("a_b_c_d_e",)),
        (b'{"power": "12.5", "energy": 1.5}', ()),
        (b'{"power": " -3e2 ", "energy": 1.5}', ()),
    ],
)
def test_bad_values_are_left_out_and_named(payload: bytes, rejected: tuple[str, ...]) -> None:
    """NaN, infinities, out-of-range and too-deep values are left out and named; strings,
    even numeric-looking ones, are text, left out silently. The rest of the message is kept."""
    _, values = read_state(payload)
    assert values.fields == {"energy": 1.5}
    assert values.rejected == rejected


def test_nested_objects_are_flattened_to_a_depth() -> None:
    """Four levels below the message are flattened."""
    _, values = read_state(b'{"color": {"x": 0.3, "y": 0.4, "hsv": {"h": {"deg": 10}}}}')
    assert values.fields == {"color_x": 0.3, "color_y": 0.4, "color_hsv_h_deg": 10.0}


def test_names_influxdb_reserves_are_left_out() -> None:
    """A field named `time` or `_...` would make InfluxDB refuse the whole point."""
    _, values = read_state(b'{"time": 1, "_value": 2, "_": 3, "power": 4, "t": {"_x": 5}}')
    assert values.fields == {"power": 4.0, "t__x": 5.0}
    assert values.rejected == ("time", "_value", "_")


def test_lists_nulls_and_empty_names_are_left_out_without_complaint() -> None:
    """Those are not readings, and not errors either."""
    _, values = read_state(b'{"": 5, "scenes": [1, 2], "action": null, "power": 3}')
    assert values.fields == {"power": 3.0}
    assert values.rejected == ()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"ON", Rejection.NOT_JSON),
        (b"", Rejection.NOT_JSON),
        (b"\xff\xfe{", Rejection.NOT_JSON),
        (b"[1, 2]", Rejection.NOT_AN_OBJECT),
        (b"null", Rejection.NOT_AN_OBJECT),
        (b"12.5", Rejection.NOT_AN_OBJECT),
        (b"[" * 100_000 + b"]" * 100_000, Rejection.TOO_LARGE),
    ],
    ids=["word", "empty", "not utf-8", "list", "null", "number", "too big"],
)
def test_malformed_state_messages_are_refused_with_a_reason(
    payload: bytes, reason: Rejection
) -> None:
    """Not JSON, not an object, too big: a RejectedInputError saying why."""
    with pytest.raises(RejectedInputError) as refused:
        read_state(payload)
    assert refused.value.reason is reason


def test_a_state_message_of_absurd_size_is_refused_before_parsing() -> None:
    """Anything bigger than MAX_STATE_BYTES is refused whole."""
    big = json.dumps({"power": 1, "padding": "x" * MAX_STATE_BYTES}).encode()
    with pytest.raises(RejectedInputError) as refused:
        read_state(big)
    assert refused.value.reason is Rejection.TOO_LARGE


@given(st.binary(max_size=300))
def test_any_bytes_give_fields_or_a_reason(payload: bytes) -> None:
    """Whatever arrives, parsing ends in fields or in RejectedInputError, nothing else."""
    try:
        _, values = read_state(payload)
    except RejectedInputError:
        return
    assert all(isinstance(value, float) for value in values.fields.values())


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
    _, values = read_state(json.dumps(state).encode())
    assert all(type(v) is float and math.isfinite(v) for v in values.fields.values())
    assert "" not in values.fields


# Zigbee2MQTT's `advanced.last_seen` formats for one instant, 2026-12-03 10:05:32.123 UTC
# (`date -u -d 2026-12-03T10:05:32.123Z +%s%3N` gives 1796292332123).
SEEN_MS = 1_796_292_332_123


@pytest.mark.parametrize(
    "last_seen",
    [SEEN_MS, "2026-12-03T10:05:32.123Z", "2026-12-03T11:05:32.123+01:00"],
    ids=["epoch", "ISO_8601", "ISO_8601_local"],
)
def test_last_seen_in_each_zigbee2mqtt_format_gives_the_same_instant(last_seen: object) -> None:
    """epoch (ms), ISO_8601 (UTC) and ISO_8601_local (with its offset) name one instant."""
    assert last_seen_ms({"last_seen": last_seen}) == SEEN_MS


@pytest.mark.parametrize(
    "last_seen", [None, "yesterday", "2026-12-03T10:05:32", True, -1, float("nan"), [1]]
)
def test_an_unreadable_last_seen_is_none(last_seen: object) -> None:
    """No offset, no date, no positive finite number: no time."""
    assert last_seen_ms({"last_seen": last_seen}) is None
