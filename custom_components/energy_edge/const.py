"""Constants of the Energy Edge integration."""

from typing import Final

DOMAIN: Final = "energy_edge"
MQTT_DOMAIN: Final = "mqtt"

CONF_BASE_TOPIC: Final = "base_topic"
CONF_DISCOVERY_PREFIX: Final = "discovery_prefix"
CONF_MAIN_METER: Final = "main_meter"
CONF_ENERGY_DASHBOARD: Final = "energy_dashboard"  # asked for at set-up, until it is done
# For the Energy dashboard: device IEEE -> IEEE of the metered device upstream that measures it too.
CONF_UPSTREAM_DEVICES: Final = "upstream_devices"

DEFAULT_BASE_TOPIC: Final = "zigbee2mqtt"
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"
AUTOMATIC_MAIN_METER: Final = "automatic"

# How long a burst of retained discovery messages may take before entities are reconciled.
ENTITY_SETTLE_S: Final = 1.0
# A grid meter silent for this long raises a repair issue (a Linky reports about once a minute).
METER_SILENCE_S: Final = 600.0
METER_WATCH_INTERVAL_S: Final = 60.0

# Tariff options (prices per kWh are keyed `<period>_price`, e.g. `hc_price`, `hp_red_price`).
CONF_TARIFF: Final = "tariff"
CONF_PRICE_SOURCE: Final = "price_source"  # regulated prices, or the user's own
CONF_SUBSCRIBED_KVA: Final = "subscribed_kva"
CONF_OFF_PEAK_WINTER: Final = "off_peak_ranges_winter"
CONF_OFF_PEAK_SUMMER: Final = "off_peak_ranges_summer"
CONF_OFF_PEAK_RANGES: Final = "off_peak_ranges"  # before seasons: the same hours all year
CONF_SUBSCRIPTION: Final = "subscription_per_month"
CONF_TEMPO_TODAY_ENTITY: Final = "tempo_today_entity"
CONF_TEMPO_TOMORROW_ENTITY: Final = "tempo_tomorrow_entity"

# Contract power and load shedding options.
CONF_CONTRACT_LIMIT: Final = "contract_limit_va"  # 0: from the meter (PREF/ISOUSC), else default
CONF_SHED_THRESHOLD: Final = "shed_threshold_pct"
CONF_SHED_DELAY: Final = "shed_delay_s"
CONF_RESTORE_THRESHOLD: Final = "restore_threshold_pct"
CONF_RESTORE_DELAY: Final = "restore_delay_s"
CONF_MIN_OFF_TIME: Final = "min_off_time_min"
CONF_RUNNING_THRESHOLD: Final = "running_threshold_w"
MIN_LIMIT_VA: Final = 1000.0
MAX_LIMIT_VA: Final = 100_000.0  # far above France's largest residential contract (36 kVA)

# Events for automations.
EVENT_OVERLOAD: Final = "energy_edge_overload"
EVENT_LOAD_SHED: Final = "energy_edge_load_shed"
EVENT_LOAD_RESTORED: Final = "energy_edge_load_restored"
