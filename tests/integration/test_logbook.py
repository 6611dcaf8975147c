"""Energy Edge's events in Home Assistant's logbook (the real one, over its recorder): an
overload, the load shed for it and its return read as sentences."""

from datetime import timedelta
import json
import math
from pathlib import Path
from typing import Any

import hass_frontend
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    RecorderInstanceGenerator,
    WebSocketGenerator,
)

from custom_components.energy_edge.const import DOMAIN

from .conftest import Clock, Zigbee2MQTT
from .household import LINKY, WATER_HEATER, Household
from .test_shedding import SECOND, confirm, running_home

# The icons Home Assistant's frontend ships (its Material Design Icons list).
MDI_ICONS = {
    icon["name"]
    for icon in json.loads(
        (Path(hass_frontend.where()) / "static" / "mdi" / "iconList.json").read_text()
    )
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: RecorderInstanceGenerator, enable_custom_integrations: None
) -> None:
    """The recorder (the logbook reads it) set up before Home Assistant, then Energy Edge."""


async def _lines(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, since: Any, **query: Any
) -> list[tuple[str, str]]:
    """Energy Edge's lines in the logbook since then, as (name, message)."""
    await async_wait_recording_done(hass)
    client = await hass_ws_client()
    await client.send_json_auto_id(
        {"type": "logbook/get_events", "start_time": since.isoformat(), **query}
    )
    response = await client.receive_json()
    assert response["success"], response
    ours = [entry for entry in response["result"] if entry.get("domain") == DOMAIN]
    for entry in ours:  # each with an icon Home Assistant's frontend has
        assert entry["icon"].removeprefix("mdi:") in MDI_ICONS, entry
    return [(entry["name"], entry["message"]) for entry in ours]


async def _shed_water_heater(household: Household) -> None:
    """1000 VA over a 6000 VA contract: the low-priority water heater (2400 W) goes."""
    await household.send(LINKY, apparent_power=7000)
    await household.travel(SECOND)
    await household.travel(SECOND)
    await confirm(household, WATER_HEATER, on=False)


async def test_a_shed_and_a_restore_read_as_sentences_in_the_logbook(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "logbook", {})
    household = await running_home(hass, zigbee2mqtt, clock)
    since = dt_util.utcnow() - timedelta(seconds=1)
    await _shed_water_heater(household)
    await hass.services.async_call(DOMAIN, "restore_loads", {}, blocking=True)
    await confirm(household, WATER_HEATER, on=True)

    assert await _lines(hass, hass_ws_client, since) == [
        ("Energy Edge", "detected an overload: 7000 VA for a 6000 VA contract"),
        ("water_heater", "was shed: the home drew more than the contract allows (2400 W freed)"),
        ("water_heater", "was restored on request"),
    ]


async def test_lines_bear_the_names_given_in_home_assistant_and_show_on_the_devices_pages(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The user renamed the water heater and the hub in Home Assistant; each device's page
    shows its own lines, the overload on the hub's."""
    assert await async_setup_component(hass, "logbook", {})
    household = await running_home(hass, zigbee2mqtt, clock)
    registry = dr.async_get(hass)
    heater_id = household.device_id(WATER_HEATER)
    entry_id = household.entry.entry_id
    hub = registry.async_get_device_by_identifier((DOMAIN, entry_id), entry_id)
    assert hub is not None
    registry.async_update_device(heater_id, name_by_user="Ballon")
    registry.async_update_device(hub.id, name_by_user="Maison")
    since = dt_util.utcnow() - timedelta(seconds=1)
    await _shed_water_heater(household)

    assert await _device_page_lines(hass, hass_ws_client, since, hub.id) == [
        ("Maison", "detected an overload: 7000 VA for a 6000 VA contract")
    ]
    assert await _device_page_lines(hass, hass_ws_client, since, heater_id) == [
        ("Ballon", "was shed: the home drew more than the contract allows (2400 W freed)")
    ]


async def _device_page_lines(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, since: Any, device_id: str
) -> list[tuple[str, str]]:
    """Energy Edge's lines in a device page's logbook, asked as the page asks (home-assistant-
    frontend 20260930.5: `ha-logbook` given the device's entities and the device)."""
    entities = er.async_entries_for_device(er.async_get(hass), device_id)
    return await _lines(
        hass,
        hass_ws_client,
        since,
        entity_ids=[entity.entity_id for entity in entities],
        device_ids=[device_id],
    )


async def test_events_fired_by_someone_else_make_plain_lines(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """An automation or the developer tools may fire them with any data."""
    assert await async_setup_component(hass, "logbook", {})
    assert await async_setup_component(hass, DOMAIN, {})
    since = dt_util.utcnow() - timedelta(seconds=1)
    hass.bus.async_fire("energy_edge_load_shed", {"power_w": "lots", "reason": 3})
    hass.bus.async_fire("energy_edge_load_restored", {"name": "Kettle"})
    hass.bus.async_fire("energy_edge_overload", {"power_va": True})
    # Figures no home draws: no line of 309 digits, no "inf", no negative power freed.
    hass.bus.async_fire("energy_edge_overload", {"power_va": 1e308, "contract_limit_va": 6000})
    hass.bus.async_fire("energy_edge_overload", {"power_va": 7000, "contract_limit_va": math.inf})
    hass.bus.async_fire("energy_edge_load_shed", {"name": "Oven", "power_w": -2000})
    hass.bus.async_fire("energy_edge_load_shed", {"name": "Oven", "power_w": math.nan})
    # A device id that is not a device, or not text.
    hass.bus.async_fire("energy_edge_load_restored", {"device_id": "gone", "name": "Kettle"})
    hass.bus.async_fire("energy_edge_load_restored", {"device_id": ["x"]})
    await hass.async_block_till_done()

    assert await _lines(hass, hass_ws_client, since) == [
        ("A load", "was shed"),
        ("Kettle", "was restored"),
        ("Energy Edge", "detected an overload"),
        ("Energy Edge", "detected an overload"),
        ("Energy Edge", "detected an overload"),
        ("Oven", "was shed"),
        ("Oven", "was shed"),
        ("Kettle", "was restored"),
        ("A load", "was restored"),
    ]
