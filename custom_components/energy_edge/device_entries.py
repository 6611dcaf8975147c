"""Energy Edge's own registry entries for a Zigbee device, following what Zigbee2MQTT says."""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import DOMAIN


@callback
def remove_device_entries(hass: HomeAssistant, entry_id: str, ieee: str) -> None:
    """The device left the network: its entities go, and Energy Edge's device for it (Z2M's
    own goes when MQTT discovery withdraws it). It comes back if it joins again."""
    entities = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(entities, entry_id):
        if entity.unique_id.startswith(f"{ieee}_"):
            entities.async_remove(entity.entity_id)
    devices = dr.async_get(hass)
    own = devices.async_get_device_by_identifier((DOMAIN, ieee), entry_id)
    if own is not None:
        devices.async_update_device(own.id, remove_config_entry_id=entry_id)


@callback
def rename_device_entry(hass: HomeAssistant, entry_id: str, ieee: str, name: str) -> None:
    """Energy Edge's own device for it follows the new name (Z2M's follows through MQTT)."""
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier((DOMAIN, ieee), entry_id)
    if device is not None:
        registry.async_update_device(device.id, name=name)
