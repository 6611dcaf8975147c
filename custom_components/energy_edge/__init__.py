"""Energy Edge: energy management on top of Zigbee2MQTT."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import CONF_BASE_TOPIC, DOMAIN
from .data import EnergyEdgeConfigEntry, EnergyEdgeData
from .energy_dashboard import async_configure_when_devices_are_known
from .engines.options import tariff_from_options
from .entity import z2m_device_entry
from .hub import EnergyEdgeHub
from .load_control import LoadController
from .meter_tariff import MeterTariffWatch
from .planner import RunPlanner
from .pricing import Pricing
from .services import async_setup_services
from .storage import LoadProfileStore, ManagementStore

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register Energy Edge's actions, whatever entries are loaded."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EnergyEdgeConfigEntry) -> bool:
    """Set up Energy Edge for one Zigbee2MQTT base topic."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
    hub = EnergyEdgeHub(hass, entry)
    store = ManagementStore(hass, entry.entry_id)
    await store.async_load()
    time_zone = ZoneInfo(hass.config.time_zone)
    usual_load = LoadProfileStore(hass, entry.entry_id, time_zone)
    await usual_load.async_load()
    try:
        tariff = tariff_from_options(entry.options, time_zone)
        loads = LoadController(hass, entry, hub, store)
    except ValueError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_options",
            translation_placeholders={"error": str(err)},
        ) from err
    pricing = Pricing(hass, entry, store, tariff, lambda: datetime.fromtimestamp(hub.clock(), UTC))
    meter_tariff = MeterTariffWatch(hass, entry, hub, pricing)
    planner = RunPlanner(hass, hub, store, pricing, loads, usual_load=usual_load)
    entry.runtime_data = EnergyEdgeData(
        base_topic=entry.data[CONF_BASE_TOPIC],
        hub=hub,
        store=store,
        usual_load=usual_load,
        pricing=pricing,
        meter_tariff=meter_tariff,
        loads=loads,
        planner=planner,
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await hub.async_start()
    pricing.async_start()
    meter_tariff.async_start()
    loads.async_start()
    planner.async_start()
    async_configure_when_devices_are_known(hass, entry, hub)
    for part in (hub, pricing, meter_tariff, loads, planner):  # stopped in reverse order
        entry.async_on_unload(part.async_stop)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EnergyEdgeConfigEntry) -> bool:
    """Unload a config entry; what it stores is written before it goes."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    await entry.runtime_data.store.async_flush()
    await entry.runtime_data.usual_load.async_flush()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: EnergyEdgeConfigEntry) -> None:
    """Forget what the entry stored (priorities, plans, Tempo colours, the usual load)."""
    await ManagementStore(hass, entry.entry_id).async_remove()
    time_zone = ZoneInfo(hass.config.time_zone)
    await LoadProfileStore(hass, entry.entry_id, time_zone).async_remove()


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
        if device is not None and device.present and z2m_device_entry(hass, identifier) is None:
            return False
    return True
