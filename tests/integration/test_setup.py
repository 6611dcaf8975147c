"""Energy Edge sets up in a real Home Assistant connected to a real broker."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.const import DOMAIN


async def test_entry_loads_and_unloads_with_a_real_broker(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """A user's entry loads once HA's MQTT client is connected, and unloads cleanly."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="zigbee2mqtt",
        data={"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"},
    )
    entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.base_topic == "zigbee2mqtt"

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_entry_retries_while_mqtt_is_not_configured(hass: HomeAssistant) -> None:
    """Without HA's MQTT client, the entry waits and retries instead of failing for good."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="zigbee2mqtt",
        data={"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"},
    )
    entry.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_hub_entity_ids_are_the_same_in_french(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """Grafana relies on the hub's entity ids: a French Home Assistant gets the same ones."""
    hass.config.language = "fr"
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="zigbee2mqtt",
        data={"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    for key in ("home_power", "untracked_power", "home_energy", "devices_online"):
        assert hass.states.get(f"sensor.energy_edge_{key}") is not None
    state = hass.states.get("sensor.energy_edge_home_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Energy Edge Puissance de la maison"
