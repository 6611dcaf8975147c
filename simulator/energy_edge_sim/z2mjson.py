"""JSON exactly as Zigbee2MQTT writes it: sorted keys, no spaces, UTF-8, JavaScript numbers."""

import json
import math

type JsonValue = bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None
type JsonObject = dict[str, JsonValue]


def _javascript_numbers(value: JsonValue) -> JsonValue:
    """JavaScript prints 230.0 as 230: integral floats become ints."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("JSON has no NaN or Infinity")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {key: _javascript_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_javascript_numbers(item) for item in value]
    return value


def dumps(value: JsonValue) -> str:
    """Serialise like `json-stable-stringify`, which Zigbee2MQTT uses for every payload."""
    return json.dumps(
        _javascript_numbers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
