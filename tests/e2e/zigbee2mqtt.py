"""Home Assistant discovery configs as Zigbee2MQTT 2.x writes them, for devices of our own.

Z2M's rules: topic `<prefix>/sensor/<ieee>/<object>/config`, retained, sorted-key JSON;
`unique_id` `<ieee>_<object>_zigbee2mqtt`; the device identified by `zigbee2mqtt_<ieee>`;
classes and units decided by the property's unit.
"""

from dataclasses import dataclass
import json

DISCOVERY_PREFIX = "homeassistant"
BASE_TOPIC = "zigbee2mqtt"
CLASSES_BY_UNIT = {
    "kWh": ("energy", "total_increasing"),
    "W": ("power", "measurement"),
    "VA": (None, "measurement"),
}


@dataclass(frozen=True)
class Device:
    """A Zigbee device as Z2M describes it to HA."""

    ieee: str
    name: str
    manufacturer: str
    model: str
    model_id: str


@dataclass(frozen=True)
class Sensor:
    """One exposed numeric property."""

    device: Device
    object_id: str
    exposed: str  # the property's name in Z2M's state message
    unit: str

    @property
    def topic(self) -> str:
        """Where Z2M publishes the config (an empty retained payload removes it)."""
        return f"{DISCOVERY_PREFIX}/sensor/{self.device.ieee}/{self.object_id}/config"

    @property
    def unique_id(self) -> str:
        """HA's unique id of the entity."""
        return f"{self.device.ieee}_{self.object_id}_zigbee2mqtt"

    def config(self) -> str:
        """The discovery payload, keys sorted as Z2M sorts them."""
        device_class, state_class = CLASSES_BY_UNIT[self.unit]
        payload = {
            "default_entity_id": f"sensor.{self.device.name}_{self.object_id.lower()}",
            "device": {
                "identifiers": [f"zigbee2mqtt_{self.device.ieee}"],
                "manufacturer": self.device.manufacturer,
                "model": self.device.model,
                "model_id": self.device.model_id,
                "name": self.device.name,
            },
            "enabled_by_default": True,
            "object_id": f"{self.device.name}_{self.object_id.lower()}",
            "origin": {"name": "Zigbee2MQTT", "sw": "2.12.1", "url": "https://www.zigbee2mqtt.io"},
            "state_class": state_class,
            "state_topic": f"{BASE_TOPIC}/{self.device.name}",
            "unique_id": self.unique_id,
            "unit_of_measurement": self.unit,
            "value_template": f'{{{{ value_json["{self.exposed}"] }}}}',
        }
        if device_class:
            payload["device_class"] = device_class
        return json.dumps(payload, sort_keys=True)


E2E_LINKY = Device("0x00158d00e2e00001", "e2e_linky", "LiXee", "Lixee ZLinky", "ZLinky_TIC")
E2E_PLUG = Device("0xa4c13800e2e00002", "e2e_plug", "Tuya", "Smart plug", "TS011F_plug_1")
E2E_SENSORS = (
    Sensor(E2E_LINKY, "EAST", "current_summ_delivered", "kWh"),
    Sensor(E2E_LINKY, "EASF01", "current_tier1_summ_delivered", "kWh"),
    Sensor(E2E_LINKY, "EASF02", "current_tier2_summ_delivered", "kWh"),
    Sensor(E2E_LINKY, "SINSTS", "apparent_power", "VA"),
    Sensor(E2E_PLUG, "energy", "energy", "kWh"),
    Sensor(E2E_PLUG, "power", "power", "W"),
)
