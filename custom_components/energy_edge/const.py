"""Constants of the Energy Edge integration."""

from typing import Final

DOMAIN: Final = "energy_edge"
MQTT_DOMAIN: Final = "mqtt"

CONF_BASE_TOPIC: Final = "base_topic"
CONF_DISCOVERY_PREFIX: Final = "discovery_prefix"
CONF_MAIN_METER: Final = "main_meter"

DEFAULT_BASE_TOPIC: Final = "zigbee2mqtt"
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
AUTOMATIC_MAIN_METER: Final = "automatic"

# How long a burst of retained discovery messages may take before entities are reconciled.
ENTITY_SETTLE_S: Final = 1.0
# A grid meter silent for this long raises a repair issue (a Linky reports about once a minute).
METER_SILENCE_S: Final = 600.0
METER_WATCH_INTERVAL_S: Final = 60.0
