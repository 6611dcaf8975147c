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
