"""What a hostile or careless publisher on the broker can put in Energy Edge's way: spoofed
discovery configs, friendly names that are MQTT wildcards, meter identities in refused payloads."""

import json
import logging

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_edge.const import DOMAIN
from tests.helpers import z2m

from .conftest import Zigbee2MQTT, eventually, send_state, setup_energy_edge, value

KETTLE = z2m.plug("0x8c65a3fffeb00001", "kettle", energy=False)
# Z2M allows `/` (room/device), spaces and accents in friendly names.
FRIDGE = z2m.plug("0x8c65a3fffeb00002", "cuisine/frigo", energy=False)
TOWEL_DRYER = z2m.plug("0x8c65a3fffeb00003", "salle de bain/sèche-serviettes", energy=False)
EVERY_DEVICE = z2m.plug("0x8c65a3fffeb00004", "+", energy=False)
EVERYTHING = z2m.plug("0x8c65a3fffeb00005", "maison/#", energy=False)
LINKY = z2m.zlinky_standard("0x00158d0003b00006", "linky")


async def test_a_spoofed_switch_value_cannot_add_keys_to_a_command(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """A discovery config whose `payload_on` closes the JSON string sends one key, quoted."""
    spoofed_on = 'ON","child_lock":"UNLOCK'
    zigbee2mqtt.bridge_state()
    for topic, payload in z2m.discovery_configs(KETTLE).items():
        config = json.loads(payload)
        if "/switch/" in topic:
            config["payload_on"] = spoofed_on
        zigbee2mqtt.publish(topic, json.dumps(config), retain=True)
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub
    await eventually(hass, lambda: hub.device_available(KETTLE.ieee))
    await eventually(hass, lambda: hub.catalog[KETTLE.ieee].plan.switch is not None)

    await hub.async_set_switch(KETTLE.ieee, True)
    await eventually(hass, lambda: len(zigbee2mqtt.commands) == 1)
    name, payload = zigbee2mqtt.commands[0]
    assert name == KETTLE.friendly_name
    assert json.loads(payload) == {"state": spoofed_on}


@pytest.mark.parametrize("source", ["bridge", "discovery"])
async def test_devices_named_after_mqtt_wildcards_are_refused_and_counted(
    hass: HomeAssistant,
    *,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    source: str,
) -> None:
    """A plug named `+` would hear every device's state and count the home twice; `#` would
    break HA's subscriptions. Names with `/`, spaces and accents work as usual."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_edge")
    devices = [KETTLE, FRIDGE, TOWEL_DRYER, EVERY_DEVICE, EVERYTHING]
    zigbee2mqtt.bridge_state()
    if source == "bridge":
        zigbee2mqtt.bridge_devices(devices)
    else:
        for device in devices:
            zigbee2mqtt.discovery(device)
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub
    await eventually(hass, lambda: hub.bad_input["bad_friendly_name"] >= 2)
    await eventually(hass, lambda: len(hub.catalog.energy_devices()) == 3)

    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    await send_state(hass, zigbee2mqtt, FRIDGE, power=100, state="ON")
    await send_state(hass, zigbee2mqtt, TOWEL_DRYER, power=500, state="ON")
    await hass.async_block_till_done()
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_power") == 1600.0)
    assert value(hass, "sensor.energy_edge_devices_online") == 3
    assert hub.device(EVERY_DEVICE.ieee) is None
    assert hub.device(EVERYTHING.ieee) is None

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    refused = 2  # one entry each in the device list; with discovery, each config it reads
    if source == "discovery":
        refused = sum(
            topic.split("/")[1] in ("sensor", "switch")
            for device in (EVERY_DEVICE, EVERYTHING)
            for topic in z2m.discovery_configs(device)
        )
    assert diagnostics["bad_input"]["bad_friendly_name"] == refused
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("base_topic", "#"),
        ("base_topic", "zigbee2mqtt/+"),
        ("base_topic", " / "),
        ("discovery_prefix", "home/#"),
        ("discovery_prefix", ""),
    ],
)
async def test_the_config_flow_refuses_topics_that_are_wildcards_or_empty(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, field: str, typed: str
) -> None:
    """`#` as base topic would subscribe to the whole broker; the form says what is wrong."""
    user_input = {"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant", field: typed}
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "invalid_topic"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**user_input, field: "maison/zigbee"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][field] == "maison/zigbee"


async def test_reconfigure_refuses_a_wildcard_base_topic(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    entry = await setup_energy_edge(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"base_topic": "+", "discovery_prefix": "homeassistant"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base_topic": "invalid_topic"}
    assert entry.data["base_topic"] == "zigbee2mqtt"


async def test_diagnostics_redact_the_meter_identity_inside_refused_payloads(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    hass_client: ClientSessionGenerator,
) -> None:
    """A ZLinky message cut short is refused; its excerpt must not carry the meter's serial
    number (ADSC) or delivery point (PRM) into diagnostics."""
    serial, prm = "021861348497", "21450000123456"  # 12-digit ADSC, 14-digit PRM (Enedis)
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([LINKY])
    entry = await setup_energy_edge(hass)
    await eventually(hass, lambda: entry.runtime_data.hub.device_available(LINKY.ieee))
    message = json.dumps(
        {"apparent_power": 1200, "meter_serial_number": serial, "site_id": prm},
        separators=(",", ":"),
    )
    await send_state(hass, zigbee2mqtt, LINKY, message[: message.index(prm) + 10])
    await send_state(hass, zigbee2mqtt, LINKY, message.replace('"', "'"))

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["bad_input"] == {"not_json": 2}
    text = json.dumps(diagnostics)
    assert "apparent_power" in diagnostics["last_bad_input"]["not_json"]
    assert serial not in text
    assert prm[:10] not in text
