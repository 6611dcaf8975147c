"""Decoding Zigbee2MQTT's payloads: JSON with a size limit, availability, numbers."""

import json
import math

import orjson

from .errors import RejectedInputError, Rejection

type JsonObject = dict[str, object]
type Payload = str | bytes | bytearray

# Anything bigger is refused before parsing. A state message is a few hundred bytes; an entry of
# `bridge/devices` with its definition's exposes is about 5 to 10 KB (the reference TS011F's is
# 6 KB), so a network of 300 devices lists about 3 MB: its own, larger limit.
MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_STATE_BYTES = 64 * 1024
MAX_DEVICE_LIST_BYTES = 32 * 1024 * 1024

_STDLIB_JSON = json.JSONDecoder()
_STDLIB_ENCODER = json.JSONEncoder(ensure_ascii=False)


def decode_json(payload: Payload, limit: int = MAX_PAYLOAD_BYTES) -> object:
    """Decode a JSON payload of at most `limit` bytes (UTF-8, as MQTT carries it)."""
    if len(payload) > limit:
        raise RejectedInputError(Rejection.TOO_LARGE, f"{len(payload)} bytes, over {limit}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses what JSON allows but a double cannot hold (1e400) and what JavaScript
    # never writes but Python's json reads (NaN): the message keeps its other values, and
    # the non-finite one is refused where it is read.
    try:
        text = payload if isinstance(payload, str) else bytes(payload).decode()
        value = _STDLIB_JSON.decode(text)
        # Python's json also reads lone surrogates ("\ud800"), which no UTF-8 topic or
        # payload can carry further: they cannot be encoded again.
        _STDLIB_ENCODER.encode(value).encode()
    except (ValueError, RecursionError) as err:  # invalid UTF-8, lone surrogates included
        raise RejectedInputError(Rejection.NOT_JSON, excerpt(payload)) from err
    return value


def decode_object(payload: Payload, limit: int = MAX_PAYLOAD_BYTES) -> JsonObject:
    """Decode a payload that must be a JSON object."""
    value = decode_json(payload, limit)
    if not isinstance(value, dict):
        raise RejectedInputError(Rejection.NOT_AN_OBJECT, excerpt(payload))
    return value


def parse_online(payload: Payload) -> bool:
    """Read `{"state":"online"}` / `{"state":"offline"}` (or Zigbee2MQTT's legacy plain text),
    as availability and `bridge/state` carry it."""
    text = _text(payload).strip()
    if text in ("online", "offline"):
        return text == "online"
    try:
        state = decode_object(text).get("state")
    except RejectedInputError as err:
        raise RejectedInputError(Rejection.BAD_AVAILABILITY, err.detail) from err
    if state not in ("online", "offline"):
        raise RejectedInputError(Rejection.BAD_AVAILABILITY, excerpt(text))
    return state == "online"


def as_number(prop: str, value: object) -> float:
    """A finite number from a state value, or a rejection.

    Zigbee2MQTT publishes numeric exposes as JSON numbers; its strings that look like numbers
    are text exposes (the Linky's serial number, its delivery point): a number sent as a string
    is not a measurement.
    """
    if type(value) is float or type(value) is int:  # exactly: True is not 1 W
        number = float(value)
    elif isinstance(value, str) and _looks_numeric(value):
        raise RejectedInputError(Rejection.NUMBER_AS_STRING, f"{prop}={value!r:.40}")
    else:
        raise RejectedInputError(Rejection.NOT_A_NUMBER, f"{prop}={value!r:.40}")
    if not math.isfinite(number):
        raise RejectedInputError(Rejection.NOT_FINITE, f"{prop}={value!r:.40}")
    return number


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _text(payload: Payload) -> str:
    return payload if isinstance(payload, str) else bytes(payload).decode(errors="replace")


def excerpt(payload: Payload) -> str:
    """The start of a payload, to name it in a refusal."""
    return _text(payload[:80])
