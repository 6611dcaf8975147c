"""Constants of the Energy Edge integration."""

from typing import Final

DOMAIN: Final = "energy_edge"

CONF_BASE_TOPIC: Final = "base_topic"
CONF_DISCOVERY_PREFIX: Final = "discovery_prefix"

DEFAULT_BASE_TOPIC: Final = "zigbee2mqtt"
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
