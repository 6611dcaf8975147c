"""What the bridge writes to InfluxDB: the contract that Grafana's dashboards read.

Changing a name here breaks the dashboards in `compose/grafana/`; the stack's tests check
every measurement and field their Flux queries read against these constants.
"""

from typing import Final

# One point per Zigbee2MQTT device state message (the default of a setting).
STATE_MEASUREMENT: Final = "zigbee2mqtt"
# One point per availability change of a device: field `online` (1.0 or 0.0).
AVAILABILITY_MEASUREMENT: Final = "zigbee2mqtt_availability"
# Bridge state (field `online`) and bridge events (tag `event`).
BRIDGE_EVENT_MEASUREMENT: Final = "zigbee2mqtt_bridge"
# The bridge's own health, written periodically (fields below).
HEALTH_MEASUREMENT: Final = "energy_edge_bridge"

TAG_DEVICE: Final = "device"  # Zigbee2MQTT friendly name
TAG_IEEE: Final = "ieee"  # IEEE address, stable across renames
TAG_MODEL: Final = "model"
# The home, from the `+` level of a base-topic pattern (homes/+/zigbee2mqtt); absent without.
TAG_SITE: Final = "site"
TAG_INSTANCE: Final = "instance"  # the bridge instance (BRIDGE_INSTANCE_ID), on its health
TAG_EVENT: Final = "event"  # bridge event type: device_joined, device_leave, device_interview, ...

FIELD_ONLINE: Final = "online"
FIELD_STATE: Final = "state"  # ON/OFF written as 1.0/0.0
FIELD_EVENT_COUNT: Final = "count"  # 1.0 per bridge event, so that sum() counts them

HEALTH_FIELDS: Final = (
    "messages_received",
    "points_written",
    "spool_bytes",
    "write_errors",
    "dead_letters",
    "malformed_messages",
    "rejected_values",
    "evicted_points",
    "spool_backlog_points",
    "mqtt_connected",
    "database_reachable",
)
