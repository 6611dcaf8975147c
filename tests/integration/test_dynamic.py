"""Devices that join, leave or are renamed while Home Assistant runs."""

import asyncio
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.energy_edge.const import ENTITY_SETTLE_S
from tests.helpers import z2m

from .conftest import (
    Zigbee2MQTT,
    eventually,
    send_state,
    setup_energy_edge,
    subscribed,
    value,
)

KETTLE = z2m.plug("0x8c65a3fffe700001", "kettle", energy=False)
HEATER = z2m.plug("0x8c65a3fffe700002", "heater", energy=False)


def _integrated(hass: HomeAssistant, device: z2m.Device) -> str | None:
    return er.async_get(hass).async_get_entity_id(
        "sensor", "energy_edge", f"{device.ieee}_integrated_energy_energy_edge"
    )


def _entity(hass: HomeAssistant, platform: str, unique_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(platform, "energy_edge", unique_id)


def _available(hass: HomeAssistant, entity_id: str | None) -> bool:
    state = hass.states.get(entity_id or "")
    return state is not None and state.state != "unavailable"


def _announce(zigbee2mqtt: Zigbee2MQTT, source: str, devices: list[z2m.Device]) -> None:
    """What Z2M publishes for its devices, with HA discovery on, off, or only that."""
    if source in ("discovery", "both"):
        zigbee2mqtt.discovery(devices[-1])
    if source in ("bridge", "both"):
        zigbee2mqtt.bridge_devices(devices)


@pytest.mark.parametrize("source", ["discovery", "bridge", "both"])
async def test_a_device_paired_later_appears_without_reload(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, source: str
) -> None:
    """A new plug shows up as soon as Z2M announces it."""
    zigbee2mqtt.bridge_state()
    _announce(zigbee2mqtt, source, [KETTLE])
    await setup_energy_edge(hass)
    await eventually(hass, lambda: _integrated(hass, KETTLE) is not None)

    zigbee2mqtt.publish("zigbee2mqtt/bridge/event", z2m.event("device_joined", HEATER))
    _announce(zigbee2mqtt, source, [KETTLE, HEATER])
    await eventually(hass, lambda: _integrated(hass, HEATER) is not None)
    await send_state(hass, zigbee2mqtt, HEATER, power=1800, state="ON")
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_power") == 1800.0)


async def test_a_removed_device_becomes_stale_and_can_be_deleted(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A device list without the device makes it and all its entities stale (its settings too);
    the user may then delete it."""
    assert await async_setup_component_config(hass)
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([KETTLE, HEATER])
    entry = await setup_energy_edge(hass)
    await eventually(hass, lambda: _available(hass, _integrated(hass, HEATER)))
    heater_entity = _integrated(hass, HEATER)
    registered = er.async_get(hass).async_get(heater_entity or "")
    assert registered is not None
    device_id = registered.device_id or ""

    client = await hass_ws_client(hass)
    await _request_removal(client, entry, device_id)
    response = await client.receive_json()
    assert not response["success"]  # a present device cannot be deleted
    hub_device = dr.async_get(hass).async_get_device_by_identifier(
        ("energy_edge", entry.entry_id), entry.entry_id
    )
    assert hub_device is not None
    await _request_removal(client, entry, hub_device.id)
    assert not (await client.receive_json())["success"]  # nor the hub itself

    zigbee2mqtt.bridge_devices([KETTLE])  # removed from Z2M without a word of leaving
    settings = [
        _entity(hass, platform, f"{HEATER.ieee}_{key}_energy_edge")
        for platform, key in (("switch", "managed"), ("select", "priority"))
    ]
    await eventually(hass, lambda: not any(_available(hass, e) for e in [heater_entity, *settings]))
    assert heater_entity is not None
    assert hass.states.get(heater_entity) is not None  # stale, not lost
    assert value(hass, "sensor.energy_edge_devices_online") == 1

    await _request_removal(client, entry, device_id)
    response = await client.receive_json()
    assert response["success"]
    await hass.async_block_till_done()
    assert dr.async_get(hass).async_get(device_id) is None
    assert er.async_get(hass).async_get(heater_entity) is None


@pytest.mark.parametrize("source", ["bridge", "discovery"])
async def test_a_device_that_leaves_the_network_is_removed_with_its_entities(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, source: str
) -> None:
    """Z2M says the heater left (`device_leave`): its sensors, shedding settings and the device
    Energy Edge made for it (without Z2M's discovery) go; it comes back if it joins again."""
    zigbee2mqtt.bridge_state()
    _announce(zigbee2mqtt, source, [KETTLE])
    _announce(zigbee2mqtt, source, [KETTLE, HEATER])
    entry = await setup_energy_edge(hass)
    unique_ids = [
        ("sensor", f"{HEATER.ieee}_integrated_energy_energy_edge"),
        ("switch", f"{HEATER.ieee}_managed_energy_edge"),
        ("select", f"{HEATER.ieee}_priority_energy_edge"),
    ]
    await eventually(hass, lambda: all(_entity(hass, *unique) for unique in unique_ids))
    devices = dr.async_get(hass)
    own = devices.async_get_device_by_identifier(("energy_edge", HEATER.ieee), entry.entry_id)
    assert (own is not None) is (source == "bridge")

    await subscribed(hass, "zigbee2mqtt/bridge/event", qos=1)  # events are not retained
    zigbee2mqtt.publish("zigbee2mqtt/bridge/event", z2m.event("device_leave", HEATER))
    await eventually(hass, lambda: not any(_entity(hass, *unique) for unique in unique_ids))
    assert not devices.async_get_devices(identifiers={("energy_edge", HEATER.ieee)})
    assert _available(hass, _integrated(hass, KETTLE))
    assert value(hass, "sensor.energy_edge_devices_online") == 1

    zigbee2mqtt.publish("zigbee2mqtt/bridge/event", z2m.event("device_joined", HEATER))
    _announce(zigbee2mqtt, source, [KETTLE, HEATER])
    await eventually(hass, lambda: all(_available(hass, _entity(hass, *u)) for u in unique_ids))


async def test_withdrawn_discovery_configs_make_the_device_stale(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Z2M clears a removed device's configs; all its Energy Edge entities become unavailable."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.discovery(KETTLE)
    await setup_energy_edge(hass)
    settings = [f"{KETTLE.ieee}_{key}_energy_edge" for key in ("managed", "priority")]
    await eventually(hass, lambda: _available(hass, _integrated(hass, KETTLE)))
    await eventually(
        hass,
        lambda: all(
            _available(hass, _entity(hass, platform, unique))
            for platform, unique in zip(("switch", "select"), settings, strict=True)
        ),
    )
    zigbee2mqtt.withdraw_discovery(KETTLE)
    entities = [
        _integrated(hass, KETTLE),
        *(
            _entity(hass, platform, unique)
            for platform, unique in zip(("switch", "select"), settings, strict=True)
        ),
    ]
    await eventually(hass, lambda: not any(_available(hass, e) for e in entities))


async def test_a_rename_keeps_entities_and_history(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Entities are keyed by IEEE address: a new friendly name keeps them and their totals."""
    caplog.set_level(logging.INFO)
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([KETTLE])
    entry = await setup_energy_edge(hass)
    clock = entry.runtime_data.hub.clock = __import__(
        "tests.integration.conftest", fromlist=["Clock"]
    ).Clock()
    await eventually(hass, lambda: _integrated(hass, KETTLE) is not None)
    entity_id = _integrated(hass, KETTLE) or ""
    await send_state(hass, zigbee2mqtt, KETTLE, power=2000, state="ON")
    clock.advance(1800)
    await send_state(hass, zigbee2mqtt, KETTLE, power=2000, state="ON")
    await eventually(hass, lambda: value(hass, entity_id) == 1.0)

    renamed = z2m.plug(KETTLE.ieee, "tea_kettle", energy=False)
    zigbee2mqtt.bridge_devices([renamed])
    await eventually(
        hass, lambda: entry.runtime_data.hub.status(KETTLE.ieee).state_topic == renamed.state_topic
    )
    assert _integrated(hass, renamed) == entity_id
    clock.advance(1800)
    await send_state(hass, zigbee2mqtt, renamed, power=0, state="OFF")
    await eventually(hass, lambda: value(hass, entity_id) == 2.0)
    assert "kettle was renamed tea_kettle" in caplog.text
    registered = er.async_get(hass).async_get(entity_id)
    assert registered is not None
    device = dr.async_get(hass).async_get(registered.device_id or "")
    assert device is not None
    assert device.name == "tea_kettle"


async def _request_removal(client: Any, entry: MockConfigEntry, device_id: str) -> None:
    """Ask, as the device page's Delete button does, to remove a device from the entry."""
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device_id,
        }
    )


async def async_setup_component_config(hass: HomeAssistant) -> bool:
    """The `config` component offers the device registry's websocket commands."""
    from homeassistant.setup import async_setup_component

    return await async_setup_component(hass, "config", {})


async def test_turning_z2m_s_ha_integration_on_later_moves_the_sensors(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """After a reload the sensor sits on Z2M's device, and Energy Edge's own may be deleted."""
    assert await async_setup_component_config(hass)
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([KETTLE])
    entry = await setup_energy_edge(hass)
    await eventually(hass, lambda: _integrated(hass, KETTLE) is not None)
    own = dr.async_get(hass).async_get_device_by_identifier(
        ("energy_edge", KETTLE.ieee), entry.entry_id
    )
    assert own is not None

    zigbee2mqtt.discovery(KETTLE)
    await eventually(
        hass,
        lambda: bool(
            dr.async_get(hass).async_get_devices(
                identifiers={("mqtt", f"zigbee2mqtt_{KETTLE.ieee}")}
            )
        ),
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    z2m_device = dr.async_get(hass).async_get_devices(
        identifiers={("mqtt", f"zigbee2mqtt_{KETTLE.ieee}")}
    )[0]

    def moved() -> bool:
        registered = er.async_get(hass).async_get(_integrated(hass, KETTLE) or "")
        return registered is not None and registered.device_id == z2m_device.id

    await eventually(hass, moved)
    client = await hass_ws_client(hass)
    await _request_removal(client, entry, own.id)
    assert (await client.receive_json())["success"]
    await hass.async_block_till_done()
    assert moved()


async def test_a_device_that_gains_an_energy_counter_drops_its_integrated_energy(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """After a firmware update adds a counter, the plug's own counter replaces the integration."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([KETTLE])
    await setup_energy_edge(hass)
    await eventually(hass, lambda: _integrated(hass, KETTLE) is not None)

    zigbee2mqtt.bridge_devices([z2m.plug(KETTLE.ieee, KETTLE.friendly_name, energy=True)])
    await eventually(hass, lambda: _integrated(hass, KETTLE) is None)


async def test_sensors_wait_for_mqtt_to_register_z2m_s_device(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """With HA's MQTT discovery off, no sensor lands on a device of its own meanwhile."""
    hass.config_entries.async_update_entry(mqtt_entry, options={"discovery": False})
    await hass.async_block_till_done(wait_background_tasks=True)
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.discovery(KETTLE)
    entry = await setup_energy_edge(hass)
    await eventually(hass, lambda: entry.runtime_data.hub.device(KETTLE.ieee) is not None)
    await asyncio.sleep(2 * ENTITY_SETTLE_S)
    await hass.async_block_till_done()
    assert _integrated(hass, KETTLE) is None

    hass.config_entries.async_update_entry(mqtt_entry, options={"discovery": True})
    await eventually(hass, lambda: _integrated(hass, KETTLE) is not None)
    registered = er.async_get(hass).async_get(_integrated(hass, KETTLE) or "")
    z2m_device = dr.async_get(hass).async_get_devices(
        identifiers={("mqtt", f"zigbee2mqtt_{KETTLE.ieee}")}
    )
    assert registered is not None
    assert [registered.device_id] == [device.id for device in z2m_device]
    await send_state(hass, zigbee2mqtt, KETTLE, power=1500, state="ON")
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_power") == 1500.0)
