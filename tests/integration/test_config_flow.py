"""The config flow: found by MQTT discovery, or added by hand; options and reconfigure."""

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.const import DOMAIN
from tests.helpers import z2m

from .conftest import Zigbee2MQTT, eventually, finish_options, setup_energy_edge


def _bridge_state(
    base_topic: str = "zigbee2mqtt", payload: str = '{"state":"online"}'
) -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=f"{base_topic}/bridge/state",
        payload=payload,
        qos=1,
        retain=True,
        subscribed_topic="zigbee2mqtt/bridge/state",
        timestamp=0,
    )


async def test_discovered_zigbee2mqtt_is_added_with_one_click(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Z2M's bridge state on the broker offers Energy Edge; confirming creates the entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_MQTT}, data=_bridge_state()
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {"base_topic": "zigbee2mqtt"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"}

    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_MQTT}, data=_bridge_state()
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"


async def test_the_base_topic_comes_from_the_discovered_topic(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """One entry per base topic: a bridge state under another base topic makes its own entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_MQTT}, data=_bridge_state("z2m-garage")
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["title"] == "z2m-garage"


async def test_a_message_that_is_not_a_bridge_state_is_not_offered(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """Something else publishing `<x>/bridge/state` is not taken for Zigbee2MQTT."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_MQTT},
        data=_bridge_state(payload="hello"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_zigbee2mqtt"


async def test_user_adds_a_base_topic_once(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """A user enters a base topic; the same base topic a second time is refused."""
    user_input = {"base_topic": " z2m-garage/ ", "discovery_prefix": "homeassistant"}
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "z2m-garage"
    assert result["data"]["base_topic"] == "z2m-garage"

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_user_adds_energy_edge_before_zigbee2mqtt_runs(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Z2M may start later: the entry is created and its devices appear when Z2M publishes."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    hub = result["result"].runtime_data.hub
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([z2m.plug("0x8c65a3fffe600009", "late_plug")])
    await eventually(hass, lambda: len(hub.catalog.energy_devices()) == 1)


async def test_user_flow_needs_the_mqtt_integration(hass: HomeAssistant) -> None:
    """Without HA's MQTT integration there is nothing to listen to."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_ready"


async def test_reconfigure_follows_zigbee2mqtt_to_a_new_base_topic(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """The base topic changes and Energy Edge follows it; another entry's topic is refused."""
    zigbee2mqtt.bridge_state()
    entry = await setup_energy_edge(hass)
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id="z2m-other",
        data={"base_topic": "z2m-other", "discovery_prefix": "homeassistant"},
    )
    other.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "z2m-other", "discovery_prefix": "homeassistant"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    result = await entry.start_reconfigure_flow(hass)
    new_topics = {"base_topic": "z2m-new", "discovery_prefix": "ha-discovery"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new_topics)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == new_topics
    assert entry.unique_id == "z2m-new"
    await hass.async_block_till_done()
    hub = entry.runtime_data.hub
    assert hub.base_topic == "z2m-new"
    zigbee2mqtt.publish("z2m-new/bridge/state", z2m.online(False), retain=True)
    await eventually(hass, lambda: hub.bridge_online is False)


async def test_options_choose_the_main_meter(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """The options list the metered devices; choosing one makes it the grid meter."""
    meter = z2m.din_meter_3p("0x8c65a3fffe600001", "main_board")
    linky = z2m.zlinky_standard("0x00158d0002600002", "linky")
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([meter, linky])
    entry = await setup_energy_edge(hass)
    await eventually(hass, lambda: entry.runtime_data.hub.catalog.grid_meter == linky.ieee)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    options = result["data_schema"].schema["main_meter"].config["options"]
    assert [option["value"] for option in options] == ["automatic", linky.ieee, meter.ieee]

    result = await finish_options(hass, result, {"main_meter": meter.ieee})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await eventually(hass, lambda: entry.runtime_data.hub.catalog.grid_meter == meter.ieee)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    await finish_options(hass, result, {"main_meter": "automatic"})
    assert entry.options["main_meter"] == ""
    await hass.async_block_till_done()
    await eventually(hass, lambda: entry.runtime_data.hub.catalog.grid_meter == linky.ieee)


async def test_zigbee2mqtt_on_the_broker_is_offered_by_home_assistant(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """HA's MQTT discovery, through the manifest's `zigbee2mqtt/bridge/state`, starts the flow."""
    zigbee2mqtt.bridge_state()
    await eventually(hass, lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)))
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    assert flow["context"]["source"] == config_entries.SOURCE_MQTT
    assert flow["context"]["unique_id"] == "zigbee2mqtt"
