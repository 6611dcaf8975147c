"""The config flow: found by MQTT discovery, or added by hand; one entry per base topic."""

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.const import DOMAIN


def _bridge_online(base_topic: str = "zigbee2mqtt") -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=f"{base_topic}/bridge/state",
        payload='{"state":"online"}',
        qos=1,
        retain=True,
        subscribed_topic=f"{base_topic}/bridge/state",
        timestamp=0,
    )


async def test_discovered_zigbee2mqtt_is_added_with_one_click(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """Z2M's bridge state on the broker offers Energy Edge; confirming creates the entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_MQTT}, data=_bridge_online()
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"}


async def test_user_adds_a_base_topic_once(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """A user enters a base topic; the same base topic a second time is refused."""
    user_input = {"base_topic": "z2m-garage", "discovery_prefix": "homeassistant"}
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "z2m-garage"

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
