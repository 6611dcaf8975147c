"""Zigbee2MQTT's MQTT protocol: payloads in, typed values out, refusals with a reason.

Pure Python (the standard library and orjson). Modules: `topics`, `payloads`, `bridge`,
`discovery`, `state`, `metering`, `readings`, `home`, `errors`.
"""

__version__ = "0.1.0"
