"""The action `energy_edge.configure_energy_dashboard`: Home Assistant's energy preferences get the
Linky as grid (priced, with its power) and each metered device; what the user had stays."""

from datetime import timedelta
from typing import Any

from homeassistant import config_entries
from homeassistant.components.energy.data import (
    DEVICE_CONSUMPTION_SCHEMA,
    ENERGY_SOURCE_SCHEMA,
    async_get_manager,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_edge.const import DOMAIN
from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually
from .household import DIN_METER, LINKY, WATER_HEATER, Household, paris, start

KETTLE = z2m.plug("0xa4c1380004c00009", "kettle", energy=False)  # power only, no counter

USER_GAS = {"type": "gas", "stat_energy_from": "sensor.gas_meter", "stat_cost": None}
USER_FRIDGE = {"stat_consumption": "sensor.fridge_energy", "name": "Fridge"}


def _z2m_sensor(hass: HomeAssistant, device: z2m.Device, name: str) -> str:
    """The sensor Zigbee2MQTT's discovery made for an expose (`<ieee>_<name>_<base topic>`)."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", "mqtt", f"{device.ieee}_{name}_{z2m.BASE_TOPIC}"
    )
    assert entity_id is not None, f"Zigbee2MQTT made no {name} sensor for {device.friendly_name}"
    return entity_id


async def _configure(hass: HomeAssistant) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "configure_energy_dashboard", {}, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def _household(
    hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, clock: Clock, devices: list[z2m.Device]
) -> Household:
    return await start(hass, zigbee2mqtt, clock, devices, at=paris(2026, 1, 15, 12))


async def test_the_dashboard_gets_the_linky_and_every_metered_device_and_keeps_the_users(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await _household(hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER, KETTLE])
    manager = await async_get_manager(hass)
    await manager.async_update(
        {"energy_sources": [dict(USER_GAS)], "device_consumption": [dict(USER_FRIDGE)]}
    )

    response = await _configure(hass)

    prefs = manager.data
    assert prefs is not None
    # Home Assistant's own schemas accept what was written.
    ENERGY_SOURCE_SCHEMA(prefs["energy_sources"])
    for device in prefs["device_consumption"]:
        DEVICE_CONSUMPTION_SCHEMA(device)
    gas, grid = prefs["energy_sources"]
    assert gas == USER_GAS
    assert grid["type"] == "grid"
    assert grid["stat_energy_from"] == household.entity_id(LINKY, "grid_import_energy")
    assert grid["entity_energy_price"] == "sensor.energy_edge_current_price"
    assert grid["stat_rate"] == household.entity_id(LINKY, "grid_power")  # the Now view
    assert response["grid_added"] == grid["stat_energy_from"]

    fridge, *added = prefs["device_consumption"]
    assert fridge == USER_FRIDGE
    assert added == [
        # No counter: the energy Energy Edge integrates from the kettle's power.
        {
            "stat_consumption": household.entity_id(KETTLE, "integrated_energy"),
            "stat_rate": _z2m_sensor(hass, KETTLE, "power"),
        },
        # Its own counter, as Zigbee2MQTT shows it.
        {
            "stat_consumption": _z2m_sensor(hass, WATER_HEATER, "energy"),
            "stat_rate": _z2m_sensor(hass, WATER_HEATER, "power"),
        },
    ]
    assert response["devices_added"] == [device["stat_consumption"] for device in added]

    # A second call changes nothing.
    before = {key: list(value) for key, value in prefs.items()}
    assert await _configure(hass) == {
        "grid_added": None,
        "devices_added": [],
        "upstreams_added": [],
        "upstreams_changed": [],
        "upstreams_removed": [],
    }
    assert manager.data == before


async def test_a_grid_the_user_set_up_stays_and_only_missing_devices_are_added(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    await _household(hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER, DIN_METER])
    users_grid = {
        "type": "grid",
        "stat_energy_from": _z2m_sensor(hass, LINKY, "EAST"),
        "stat_energy_to": None,
        "stat_cost": None,
        "entity_energy_price": None,
        "number_energy_price": 0.2,
        "stat_compensation": None,
        "entity_energy_price_export": None,
        "number_energy_price_export": None,
        "cost_adjustment_day": 0.0,
    }
    water_heater = {
        "stat_consumption": _z2m_sensor(hass, WATER_HEATER, "energy"),
        "name": "Ballon",
    }
    manager = await async_get_manager(hass)
    await manager.async_update(
        {"energy_sources": [dict(users_grid)], "device_consumption": [dict(water_heater)]}
    )

    response = await _configure(hass)

    assert response["grid_added"] is None
    assert manager.data is not None
    assert manager.data["energy_sources"] == [users_grid]
    # The water heater keeps the user's name and no power is forced on it; the three-phase
    # meter comes with its totals (Z2M's `energy` and `total_power`), not a phase.
    workshop = {
        "stat_consumption": _z2m_sensor(hass, DIN_METER, "energy"),
        "stat_rate": _z2m_sensor(hass, DIN_METER, "total_power"),
    }
    assert manager.data["device_consumption"] == [water_heater, workshop]
    assert response["devices_added"] == [workshop["stat_consumption"]]


async def test_without_energy_edge_loaded_the_action_says_so(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await _household(hass, zigbee2mqtt, clock, [LINKY])
    await household.stop()
    with pytest.raises(ServiceValidationError) as refused:
        await _configure(hass)
    assert refused.value.translation_key == "not_loaded"


async def test_without_a_linky_the_devices_are_added_and_no_grid(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    await _household(hass, zigbee2mqtt, clock, [WATER_HEATER])
    response = await _configure(hass)
    manager = await async_get_manager(hass)
    assert manager.data is not None
    assert manager.data["energy_sources"] == []
    assert response == {
        "grid_added": None,
        "devices_added": [_z2m_sensor(hass, WATER_HEATER, "energy")],
        "upstreams_added": [],
        "upstreams_changed": [],
        "upstreams_removed": [],
    }


async def test_ticked_at_set_up_the_dashboard_is_configured_once_the_devices_are_known(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([LINKY, WATER_HEATER])
    for device in (LINKY, WATER_HEATER):
        zigbee2mqtt.discovery(device)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=f"{z2m.BASE_TOPIC}/bridge/state",
            payload='{"state":"online"}',
            qos=1,
            retain=True,
            subscribed_topic="zigbee2mqtt/bridge/state",
            timestamp=0,
        ),
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"energy_dashboard": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    grid_import = f"{LINKY.ieee}_grid_import_energy_{DOMAIN}"
    await eventually(
        hass,
        lambda: (
            registry.async_get_entity_id("sensor", DOMAIN, grid_import) is not None
            and registry.async_get_entity_id(
                "sensor", "mqtt", f"{WATER_HEATER.ieee}_energy_zigbee2mqtt"
            )
            is not None
        ),
    )
    manager = await async_get_manager(hass)
    assert not (manager.data or {}).get("energy_sources")  # not before the devices are quiet

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()

    assert manager.data is not None
    (grid,) = manager.data["energy_sources"]
    assert grid["stat_energy_from"] == registry.async_get_entity_id("sensor", DOMAIN, grid_import)
    assert [d["stat_consumption"] for d in manager.data["device_consumption"]] == [
        _z2m_sensor(hass, WATER_HEATER, "energy")
    ]
    assert "energy_dashboard" not in entry.data  # done: a restart does not do it again


async def test_not_ticked_at_set_up_the_dashboard_is_left_alone(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    await _household(hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER])
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    manager = await async_get_manager(hass)
    assert manager.data is None


async def test_a_request_made_before_any_device_waits_for_one(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Nothing to add yet (Zigbee2MQTT has no device): the request survives restarts."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([])
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=z2m.BASE_TOPIC,
        data={"base_topic": z2m.BASE_TOPIC, "discovery_prefix": "homeassistant"}
        | {"energy_dashboard": True},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert await hass.config_entries.async_unload(entry.entry_id)  # before the devices are quiet
    assert await hass.config_entries.async_setup(entry.entry_id)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    assert (await async_get_manager(hass)).data is None
    assert entry.data["energy_dashboard"] is True
