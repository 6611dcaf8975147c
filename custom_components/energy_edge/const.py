"""Constants of the Energy Edge integration."""

from typing import Final

DOMAIN: Final = "energy_edge"
MQTT_DOMAIN: Final = "mqtt"

CONF_BASE_TOPIC: Final = "base_topic"
CONF_DISCOVERY_PREFIX: Final = "discovery_prefix"
CONF_MAIN_METER: Final = "main_meter"
CONF_ENERGY_DASHBOARD: Final = "energy_dashboard"  # asked for at set-up, until it is done

DEFAULT_BASE_TOPIC: Final = "zigbee2mqtt"
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
AUTOMATIC_MAIN_METER: Final = "automatic"

# How long a burst of retained discovery messages may take before entities are reconciled.
ENTITY_SETTLE_S: Final = 1.0
# How often the grid meter's silence is checked (the silence itself: zigbee2mqtt_protocol.home).
METER_WATCH_INTERVAL_S: Final = 60.0

# Options read by Home Assistant's side only (the engines' options are keyed in `options`).
CONF_TEMPO_TODAY_ENTITY: Final = "tempo_today_entity"
CONF_TEMPO_TOMORROW_ENTITY: Final = "tempo_tomorrow_entity"

# Bounds of the contract limit the user may set (number entity, `set_power_limit` action).
MIN_LIMIT_VA: Final = 1000.0
MAX_LIMIT_VA: Final = 100_000.0  # far above France's largest residential contract (36 kVA)

# Events for automations.
EVENT_OVERLOAD: Final = "energy_edge_overload"
EVENT_LOAD_SHED: Final = "energy_edge_load_shed"
EVENT_LOAD_RESTORED: Final = "energy_edge_load_restored"
