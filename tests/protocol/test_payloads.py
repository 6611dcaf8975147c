"""Decoding Zigbee2MQTT's payloads: JSON within bounds, availability."""

import pytest

from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.payloads import decode_json, parse_online


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
    assert parse_online(payload) is online


@pytest.mark.parametrize("payload", [b'{"state":"maybe"}', b"{}", b"[]", b"up"])
def test_unknown_availability_is_refused(payload: bytes) -> None:
    """Anything else is refused with its reason."""
    with pytest.raises(RejectedInputError) as refused:
        parse_online(payload)
    assert refused.value.reason is Rejection.BAD_AVAILABILITY


def test_json_nested_beyond_the_stack_is_refused() -> None:
    """A pathological payload cannot crash its reader with a stack overflow."""
    with pytest.raises(RejectedInputError) as refused:
        decode_json(b"[" * 200_000 + b"]" * 200_000, limit=10**6)
    assert refused.value.reason is Rejection.NOT_JSON
