"""Diagnostics (redacted), the silent-meter repair issue, and commands to switchable loads."""

import asyncio
from datetime import timedelta
import json

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import paho.mqtt.client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_edge.const import METER_WATCH_INTERVAL_S
from tests.helpers import z2m
from tests.helpers.mosquitto import Broker
from zigbee2mqtt_protocol.home import METER_SILENCE_S

from .conftest import Clock, Zigbee2MQTT, eventually, send_state, setup_energy_edge

LINKY = z2m.zlinky_standard("0x00158d0003a00001", "linky")
KETTLE = z2m.plug("0x8c65a3fffea00002", "kettle", energy=False)
THERMOMETER = z2m.temperature_sensor("0x8c65a3fffea00003", "thermometer")


async def test_diagnostics_show_devices_and_redact_the_meter_identity(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    hass_client: ClientSessionGenerator,
) -> None:
    """Roles, plans and last readings are there; the Linky's PRM and serial number are not."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([LINKY, KETTLE])
    entry = await setup_energy_edge(hass)
    await eventually(hass, lambda: len(entry.runtime_data.hub.catalog.energy_devices()) == 2)
    await send_state(
        hass,
        zigbee2mqtt,
        LINKY,
        apparent_power=2300,
        current_summ_delivered=123.0,
        site_id="01234567890123",
        meter_serial_number="021861348497",
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["bridge_online"] is True
    assert diagnostics["grid_meter"] == LINKY.ieee
    linky = next(d for d in diagnostics["devices"] if d["ieee"] == LINKY.ieee)
    assert linky["role"] == "grid_meter"
    assert linky["reading"]["apparent_power_va"] == 2300.0
    assert linky["reading"]["last_state"]["site_id"] == "**REDACTED**"
    assert linky["reading"]["last_state"]["meter_serial_number"] == "**REDACTED**"
    assert "01234567890123" not in json.dumps(diagnostics)
    assert diagnostics["home"]["power_w"] == 2300.0


async def test_a_silent_meter_raises_a_repair_issue_until_it_reports(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Ten minutes without a Linky reading raise an issue; the next reading lifts it."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([LINKY, KETTLE])
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub
    clock = Clock()
    hub.clock = clock
    await eventually(hass, lambda: len(hub.catalog.energy_devices()) == 2)
    await send_state(hass, zigbee2mqtt, LINKY, apparent_power=1000)
    await send_state(hass, zigbee2mqtt, KETTLE, power=400, state="ON")
    assert hub.home.power_w == 1000.0
    issue_id = f"meter_silent_{entry.entry_id}"
    issues = ir.async_get(hass)

    clock.advance(METER_SILENCE_S - 60)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=METER_WATCH_INTERVAL_S))
    await hass.async_block_till_done()
    assert issues.async_get_issue("energy_edge", issue_id) is None

    clock.advance(120)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=3 * METER_WATCH_INTERVAL_S))
    await hass.async_block_till_done()
    issue = issues.async_get_issue("energy_edge", issue_id)
    assert issue is not None
    assert issue.translation_key == "meter_silent"
    assert issue.translation_placeholders == {"meter": "linky", "minutes": "10"}
    assert hub.meter_silent
    assert hub.home.power_w == 400.0  # the devices' sum, not the meter's stale reading
    assert hub.home.untracked_power_w is None

    await send_state(hass, zigbee2mqtt, LINKY, apparent_power=1200)
    assert issues.async_get_issue("energy_edge", issue_id) is None
    assert not hub.meter_silent
    assert hub.home.power_w == 1200.0


async def test_a_switchable_load_is_commanded_on_its_set_topic(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, mqtt_broker: Broker
) -> None:
    """The hub sends Z2M's own command payload; devices without a switch are refused."""
    received: list[tuple[str, str]] = []
    listener = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="command-listener")
    listener.username_pw_set(mqtt_broker.username, mqtt_broker.password)
    listener.on_message = lambda _c, _u, msg: received.append((msg.topic, msg.payload.decode()))
    listener.connect("127.0.0.1", mqtt_broker.port)
    listener.subscribe("zigbee2mqtt/+/set", qos=1)
    listener.loop_start()
    try:
        zigbee2mqtt.bridge_state()
        zigbee2mqtt.bridge_devices([KETTLE, LINKY, THERMOMETER])
        entry = await setup_energy_edge(hass)
        hub = entry.runtime_data.hub
        await eventually(hass, lambda: len(hub.catalog.energy_devices()) == 2)
        await hub.async_set_switch(KETTLE.ieee, False)
        await hub.async_set_switch(KETTLE.ieee, True)
        for ieee in (LINKY.ieee, THERMOMETER.ieee, "0xnothing"):
            with pytest.raises(HomeAssistantError):
                await hub.async_set_switch(ieee, False)
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.05)
        assert received == [
            ("zigbee2mqtt/kettle/set", '{"state":"OFF"}'),
            ("zigbee2mqtt/kettle/set", '{"state":"ON"}'),
        ]
    finally:
        listener.disconnect()
        listener.loop_stop()


async def test_deleting_a_removed_z2m_device_removes_its_energy_sensor(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """When the user deletes Z2M's device, the Energy Edge sensor attached to it goes too."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.discovery(KETTLE)
    entry = await setup_energy_edge(hass)
    unique_id = f"{KETTLE.ieee}_integrated_energy_energy_edge"
    entities = er.async_get(hass)
    await eventually(
        hass, lambda: entities.async_get_entity_id("sensor", "energy_edge", unique_id) is not None
    )
    zigbee2mqtt.withdraw_discovery(KETTLE)
    await eventually(hass, lambda: not entry.runtime_data.hub.device(KETTLE.ieee).present)
    devices = dr.async_get(hass)
    found = devices.async_get_devices(identifiers={("mqtt", f"zigbee2mqtt_{KETTLE.ieee}")})
    if found:  # MQTT keeps a device whose entities are gone until the user deletes it
        devices.async_remove_device(found[0].id)
    await eventually(
        hass, lambda: entities.async_get_entity_id("sensor", "energy_edge", unique_id) is None
    )
