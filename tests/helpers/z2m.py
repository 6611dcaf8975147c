"""Builders of what Zigbee2MQTT 2.x publishes, by Z2M's own rules, for this project's devices.

Z2M's Home Assistant extension turns each expose into one discovery config: numeric exposes that
cannot be set become `sensor` configs (object_id = the expose's name, value_template reading its
property), units decide the classes (W/kW power, Wh/kWh energy, A current, V voltage for known
names), sensors without a device class carry the expose's name, and the `switch` expose becomes a
`switch` config commanded on `<base>/<name>/set`. JSON keys are sorted, as Z2M sends them.
"""

from dataclasses import dataclass, field
import json
from typing import Any

BASE_TOPIC = "zigbee2mqtt"
DISCOVERY_PREFIX = "homeassistant"
COORDINATOR_IEEE = "0x00212effff0e4a10"
ORIGIN = {"name": "Zigbee2MQTT", "sw": "2.12.1", "url": "https://www.zigbee2mqtt.io"}

ACCESS_STATE = 1
ACCESS_SET = 2
ACCESS_GET = 4

_VOLTAGE_NAMES = {"voltage", "voltage_phase_b", "voltage_phase_c"}


def numeric(
    name: str, prop: str | None = None, unit: str | None = None, access: int = 1
) -> dict[str, Any]:
    """A numeric expose, as in a `bridge/devices` definition."""
    expose: dict[str, Any] = {
        "access": access,
        "label": name.replace("_", " ").capitalize(),
        "name": name,
        "property": prop or name,
        "type": "numeric",
    }
    if unit is not None:
        expose["unit"] = unit
    return expose


def text(name: str, prop: str | None = None) -> dict[str, Any]:
    """A text expose (read only)."""
    return {"access": 1, "name": name, "property": prop or name, "type": "text"}


def switch() -> dict[str, Any]:
    """The on/off switch expose of a plug or relay."""
    return {
        "features": [
            {
                "access": 7,
                "name": "state",
                "property": "state",
                "type": "binary",
                "value_off": "OFF",
                "value_on": "ON",
                "value_toggle": "TOGGLE",
            }
        ],
        "type": "switch",
    }


@dataclass
class Device:
    """A Zigbee device as Z2M knows it."""

    ieee: str
    friendly_name: str
    model: str
    vendor: str
    description: str
    exposes: list[dict[str, Any]] = field(default_factory=list)
    model_id: str | None = None
    power_source: str = "Mains (single phase)"

    @property
    def state_topic(self) -> str:
        """Where Z2M publishes the device's state."""
        return f"{BASE_TOPIC}/{self.friendly_name}"


def plug(ieee: str, name: str, *, energy: bool = True, unit_energy: str = "kWh") -> Device:
    """A metered smart plug with a switch, with or without an energy counter."""
    exposes = [
        switch(),
        numeric("power", unit="W"),
        numeric("current", unit="A"),
        numeric("voltage", unit="V"),
        numeric("power_on_behavior_delay", unit="s", access=7),
    ]
    if energy:
        exposes.append(numeric("energy", unit=unit_energy))
    exposes.append(numeric("linkquality", unit="lqi"))
    return Device(ieee, name, "EP-PLUG16", "Edgeware", "Metered smart plug 16 A", exposes, "EP16")


def din_meter_3p(ieee: str, name: str) -> Device:
    """A three-phase DIN-rail meter: per-phase power, a total, per-phase and total energy."""
    exposes = [
        numeric("power", unit="W"),
        numeric("power_phase_b", unit="W"),
        numeric("power_phase_c", unit="W"),
        numeric("total_power", unit="W"),
        numeric("power_apparent", unit="VA"),
        numeric("power_factor"),
        numeric("energy", unit="kWh"),
        numeric("energy_phase_a", unit="kWh"),
        numeric("energy_phase_b", unit="kWh"),
        numeric("energy_phase_c", unit="kWh"),
        numeric("produced_energy", unit="kWh"),
        numeric("voltage", unit="V"),
        numeric("max_power_alarm", unit="W", access=7),
    ]
    return Device(ieee, name, "DM-3P", "Edgeware", "Three-phase DIN-rail meter", exposes, "DM3P")


def temperature_sensor(ieee: str, name: str) -> Device:
    """A device that measures no energy at all."""
    exposes = [numeric("temperature", unit="°C"), numeric("battery", unit="%")]
    return Device(
        ieee, name, "TH-1", "Edgeware", "Temperature sensor", exposes, "TH1", power_source="Battery"
    )


def zlinky_standard(
    ieee: str, name: str, *, three_phase: bool = False, producer: bool = False
) -> Device:
    """A ZLinky on a Linky in standard TIC mode (H PLEINE/CREUSE option)."""
    exposes = [
        numeric("EAST", "current_summ_delivered", "kWh"),
        numeric("EASF01", "current_tier1_summ_delivered", "kWh"),
        numeric("EASF02", "current_tier2_summ_delivered", "kWh"),
        text("ADSC", "meter_serial_number"),
        text("PRM", "site_id"),
        numeric("PREF", "available_power", "kVA"),
        numeric("PCOUP", "power_threshold", "kVA"),
        numeric("CCASN", "active_power", "W"),
        numeric("CCASN-1", "active_power_ph_b", "W"),
        numeric("IRMS1", "rms_current", "A"),
        numeric("URMS1", "rms_voltage", "V"),
        text("NGTF", "current_tarif"),
        text("LTARF", "current_price"),
    ]
    if three_phase:
        exposes += [
            numeric("SINSTS1", "apparent_power", "VA"),
            numeric("SINSTS2", "apparent_power_ph_b", "VA"),
            numeric("SINSTS3", "apparent_power_ph_c", "VA"),
            numeric("SINSTS", "total_apparent_power", "VA"),
            numeric("SMAXN1", "active_power_max", "VA"),
        ]
    else:
        exposes += [
            numeric("SINSTS", "apparent_power", "VA"),
            numeric("SMAXN", "active_power_max", "VA"),
        ]
    if producer:
        exposes += [
            numeric("EAIT", "current_summ_received", "kWh"),
            numeric("SINSTI", "injected_v_a", "VA"),
        ]
    return Device(ieee, name, "ZLinky_TIC", "LiXee", "Lixee ZLinky", exposes, "ZLinky_TIC")


def zlinky_historic(
    ieee: str, name: str, *, option: str = "HC..", three_phase: bool = False
) -> Device:
    """A ZLinky on a Linky in historic TIC mode: BASE, HCHC/HCHP registers for off-peak, or
    `BBR` (Tempo): six registers and tomorrow's colour (DEMAIN)."""
    exposes = [text("PTEC", "active_register_tier_delivered"), text("OPTARIF", "current_tarif")]
    if option == "BASE":
        exposes.append(numeric("BASE", "current_summ_delivered", "kWh"))
    elif option == "BBR":
        exposes += [
            numeric(name, f"current_tier{tier}_summ_delivered", "kWh")
            for tier, name in enumerate(
                ("BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"), start=1
            )
        ]
        exposes.append(text("DEMAIN", "tomorrow_color"))
    else:
        exposes += [
            numeric("HCHC", "current_tier1_summ_delivered", "kWh"),
            numeric("HCHP", "current_tier2_summ_delivered", "kWh"),
        ]
    exposes += [
        text("ADCO", "meter_serial_number"),
        numeric("ISOUSC", "available_power", "A"),
        numeric("PAPP", "apparent_power", "VA"),
    ]
    if three_phase:
        exposes += [
            numeric("IINST1", "rms_current", "A"),
            numeric("IINST2", "rms_current_ph_b", "A"),
            numeric("IINST3", "rms_current_ph_c", "A"),
            numeric("PMAX", "active_power_max", "W"),
        ]
    else:
        exposes += [numeric("IINST", "rms_current", "A"), numeric("IMAX", "rms_current_max", "A")]
    return Device(ieee, name, "ZLinky_TIC", "LiXee", "Lixee ZLinky", exposes, "ZLinky_TIC")


def _classes(expose: dict[str, Any]) -> dict[str, Any]:
    unit = expose.get("unit")
    name = expose["name"]
    if unit in ("W", "kW"):
        return {"device_class": "power", "state_class": "measurement"}
    if unit in ("Wh", "kWh"):
        return {"device_class": "energy", "state_class": "total_increasing"}
    if unit == "A":
        return {"device_class": "current", "state_class": "measurement"}
    if unit == "V" and name in _VOLTAGE_NAMES:
        return {"device_class": "voltage", "state_class": "measurement"}
    return {}


def _device_block(device: Device) -> dict[str, Any]:
    return {
        "identifiers": [f"zigbee2mqtt_{device.ieee}"],
        "manufacturer": device.vendor,
        "model": device.description,
        "model_id": device.model,
        "name": device.friendly_name,
        "via_device": f"zigbee2mqtt_bridge_{COORDINATOR_IEEE}",
    }


def _availability(device: Device, with_availability: bool) -> dict[str, Any]:
    bridge = {"topic": f"{BASE_TOPIC}/bridge/state", "value_template": "{{ value_json.state }}"}
    if not with_availability:
        return {"availability": [bridge]}
    own = {
        "topic": f"{device.state_topic}/availability",
        "value_template": "{{ value_json.state }}",
    }
    return {"availability": [bridge, own], "availability_mode": "all"}


def discovery_configs(
    device: Device, *, with_availability: bool = False, prefix: str = DISCOVERY_PREFIX
) -> dict[str, str]:
    """Every discovery config Z2M publishes for a device: topic -> payload (retained, QoS 1)."""
    configs: dict[str, str] = {}
    common = {
        **_availability(device, with_availability),
        "device": _device_block(device),
        "origin": ORIGIN,
    }
    for expose in device.exposes:
        if expose.get("type") == "switch":
            config = {
                **common,
                "command_topic": f"{device.state_topic}/set",
                "default_entity_id": f"switch.{device.friendly_name}",
                "name": None,
                "object_id": device.friendly_name,
                "payload_off": "OFF",
                "payload_on": "ON",
                "state_topic": device.state_topic,
                "unique_id": f"{device.ieee}_switch_zigbee2mqtt",
                "value_template": '{{ value_json["state"] }}',
            }
            configs[f"{prefix}/switch/{device.ieee}/switch/config"] = json.dumps(
                config, sort_keys=True
            )
            continue
        if expose["access"] & ACCESS_SET:
            continue  # settable numerics are `number` entities, not sensors
        name, prop = expose["name"], expose["property"]
        config = {
            **common,
            **_classes(expose),
            "default_entity_id": f"sensor.{device.friendly_name}_{name}",
            "enabled_by_default": True,
            "object_id": f"{device.friendly_name}_{name}",
            "state_topic": device.state_topic,
            "unique_id": f"{device.ieee}_{name}_zigbee2mqtt",
            "value_template": f'{{{{ value_json["{prop}"] }}}}',
        }
        if "device_class" not in config:
            config["name"] = name
        if "unit" in expose:
            config["unit_of_measurement"] = expose["unit"]
        if expose["type"] == "text":
            config["value_template"] = (
                f"{{{{ value_json[\"{prop}\"] | default('',True) | string "
                "| truncate(254, True, '', 0) }}"
            )
        configs[f"{prefix}/sensor/{device.ieee}/{name}/config"] = json.dumps(config, sort_keys=True)
    return configs


def bridge_devices(devices: list[Device]) -> str:
    """Z2M's retained `bridge/devices` list: the coordinator, then each device's definition."""
    entries: list[dict[str, Any]] = [
        {
            "definition": None,
            "disabled": False,
            "friendly_name": "Coordinator",
            "ieee_address": COORDINATOR_IEEE,
            "interview_completed": True,
            "network_address": 0,
            "supported": True,
            "type": "Coordinator",
        }
    ]
    for index, device in enumerate(devices, start=1):
        entries.append(
            {
                "definition": {
                    "description": device.description,
                    "exposes": device.exposes,
                    "model": device.model,
                    "options": [],
                    "source": "native",
                    "supports_ota": False,
                    "vendor": device.vendor,
                },
                "disabled": False,
                "friendly_name": device.friendly_name,
                "ieee_address": device.ieee,
                "interview_completed": True,
                "interviewing": False,
                "manufacturer": device.vendor,
                "model_id": device.model_id,
                "network_address": 0x1000 + index,
                "power_source": device.power_source,
                "supported": True,
                "type": "Router" if device.power_source.startswith("Mains") else "EndDevice",
            }
        )
    return json.dumps(entries, sort_keys=True)


def state(**values: Any) -> str:
    """A device state message as Z2M publishes it (numbers as JSON numbers, keys sorted)."""
    return json.dumps(values, sort_keys=True)


def online(is_online: bool = True) -> str:
    """A `bridge/state` or `<device>/availability` payload."""
    return json.dumps({"state": "online" if is_online else "offline"})


def event(kind: str, device: Device) -> str:
    """A `bridge/event` about a device (`device_joined`, `device_leave`, ...)."""
    return json.dumps(
        {"data": {"friendly_name": device.friendly_name, "ieee_address": device.ieee}, "type": kind}
    )
