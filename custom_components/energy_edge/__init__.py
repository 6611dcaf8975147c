"""Energy Edge: energy management on top of Zigbee2MQTT."""

from dataclasses import dataclass

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from .const import CONF_BASE_TOPIC, DOMAIN, MQTT_DOMAIN
from .hub import EnergyEdgeHub

PLATFORMS: list[Platform] = [Platform.SENSOR]


@dataclass(slots=True)
class EnergyEdgeData:
    """What a loaded entry keeps at run time."""

    base_topic: str
    hub: EnergyEdgeHub


type EnergyEdgeConfigEntry = ConfigEntry[EnergyEdgeData]


async def async_setup_entry(hass: HomeAssistant, entry: EnergyEdgeConfigEntry) -> bool:
    """Set up Energy Edge for one Zigbee2MQTT base topic."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
    hub = EnergyEdgeHub(hass, entry)
    entry.runtime_data = EnergyEdgeData(base_topic=entry.data[CONF_BASE_TOPIC], hub=hub)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await hub.async_start()
    entry.async_on_unload(hub.async_stop)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyEdgeConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EnergyEdgeConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Let the user delete a device Energy Edge made that is stale (never the hub itself).

    Stale: Zigbee2MQTT no longer has the device, or Z2M's own HA device now stands for it (its
    Home Assistant integration was turned on later).
    """
    hub = entry.runtime_data.hub
    for domain, identifier in device_entry.identifiers:
        if domain != DOMAIN or identifier == entry.entry_id:
            return False
        device = hub.device(identifier)
        z2m_devices = dr.async_get(hass).async_get_devices(
            identifiers={(MQTT_DOMAIN, f"zigbee2mqtt_{identifier}")}
        )
        if device is not None and device.present and not z2m_devices:
            return False
    return True
