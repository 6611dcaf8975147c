"""Energy devices appear from Z2M's HA discovery configs, from `bridge/devices`, or both."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.helpers import z2m

from .conftest import Zigbee2MQTT, eventually, setup_energy_edge, subscribed, value

KETTLE = z2m.plug("0x8c65a3fffe100001", "kettle", energy=False)
FRIDGE = z2m.plug("0x8c65a3fffe100002", "fridge")
THERMOMETER = z2m.temperature_sensor("0x8c65a3fffe100003", "thermometer")


def _integrated(hass: HomeAssistant, device: z2m.Device) -> str | None:
    return er.async_get(hass).async_get_entity_id(
        "sensor", "energy_edge", f"{device.ieee}_integrated_energy_energy_edge"
    )


async def test_devices_from_discovery_configs_alone(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Only HA discovery: a plug without energy counter gets integrated energy, others nothing."""
    zigbee2mqtt.bridge_state()
    for device in (KETTLE, FRIDGE, THERMOMETER):
        zigbee2mqtt.discovery(device)
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub
    await eventually(
        hass,
        lambda: (
            _integrated(hass, KETTLE) is not None
            and bool(hub.device(FRIDGE.ieee) and hub.device(FRIDGE.ieee).plan.imported_energy)
        ),
    )
    await eventually(hass, lambda: _integrated(hass, FRIDGE) is None)

    assert [device.friendly_name for device in hub.catalog.energy_devices()] == [
        "kettle",
        "fridge",
    ]
    assert _integrated(hass, FRIDGE) is None
    devices = dr.async_get(hass)
    kettle = devices.async_get_devices(identifiers={("mqtt", f"zigbee2mqtt_{KETTLE.ieee}")})
    assert len(kettle) == 1
    registered = er.async_get(hass).async_get(_integrated(hass, KETTLE) or "")
    assert registered is not None
    assert registered.device_id == kettle[0].id

    await subscribed(hass, KETTLE.state_topic)
    zigbee2mqtt.state(KETTLE, power=2000.0, state="ON")
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_power") == 2000.0)


async def test_devices_from_bridge_devices_alone(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Without Z2M's HA discovery, `bridge/devices` is enough; Energy Edge names the device."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([KETTLE, FRIDGE, THERMOMETER])
    entry = await setup_energy_edge(hass)
    await eventually(hass, lambda: _integrated(hass, KETTLE) is not None)
    assert _integrated(hass, FRIDGE) is None
    registered = er.async_get(hass).async_get(_integrated(hass, KETTLE) or "")
    assert registered is not None
    device = dr.async_get(hass).async_get(registered.device_id or "")
    assert device is not None
    assert device.name == "kettle"
    assert device.manufacturer == "Edgeware"
    assert entry.entry_id == device.config_entry_id

    await subscribed(hass, KETTLE.state_topic)
    zigbee2mqtt.state(KETTLE, power=1200.0, state="ON")
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_power") == 1200.0)


async def test_both_sources_make_one_device_and_no_duplicate(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Discovery configs and `bridge/devices` describe the same device once, on Z2M's device."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([KETTLE, FRIDGE])
    zigbee2mqtt.discovery(KETTLE)
    zigbee2mqtt.discovery(FRIDGE)
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub

    def both_seen() -> bool:
        kettle = hub.device(KETTLE.ieee)
        return kettle is not None and bool(kettle.in_bridge_list and kettle.discovered)

    await eventually(hass, lambda: _integrated(hass, KETTLE) is not None and both_seen())
    kettle = hub.device(KETTLE.ieee)
    assert kettle is not None
    assert kettle.in_bridge_list
    assert kettle.discovered
    devices = dr.async_get(hass).async_get_devices(
        identifiers={("mqtt", f"zigbee2mqtt_{KETTLE.ieee}")}
    )
    assert len(devices) == 1
    registered = er.async_get(hass).async_get(_integrated(hass, KETTLE) or "")
    assert registered is not None
    assert registered.device_id == devices[0].id
    assert not dr.async_get(hass).async_get_devices(identifiers={("energy_edge", KETTLE.ieee)})
    assert value(hass, "sensor.energy_edge_devices_online") == 2
