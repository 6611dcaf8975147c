"""Where Zigbee2MQTT's own captures are: `shared/` beside the repository (as CI lays it out)."""

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
ZIGBEE2MQTT_REFERENCE = REPOSITORY.parent / "shared" / "reference" / "zigbee2mqtt"
ZLINKY_EXPOSES = ZIGBEE2MQTT_REFERENCE / "zlinky_exposes_by_mode.json"
