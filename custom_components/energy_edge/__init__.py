"""Energy Edge: energy management on top of Zigbee2MQTT."""

from dataclasses import dataclass

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .const import CONF_BASE_TOPIC, DOMAIN


@dataclass(slots=True)
class EnergyEdgeData:
    """What a loaded entry keeps at run time."""

    base_topic: str


type EnergyEdgeConfigEntry = ConfigEntry[EnergyEdgeData]


async def async_setup_entry(hass: HomeAssistant, entry: EnergyEdgeConfigEntry) -> bool:
    """Set up Energy Edge for one Zigbee2MQTT base topic."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
    entry.runtime_data = EnergyEdgeData(base_topic=entry.data[CONF_BASE_TOPIC])
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyEdgeConfigEntry) -> bool:
    """Unload a config entry."""
    return True
