"""Energy Edge's events in Home Assistant's logbook (the real one, over its recorder): an
overload, the load shed for it and its return read as sentences."""

from datetime import timedelta
import json
from pathlib import Path
from typing import Any

import hass_frontend
from homeassistant.core import HomeAssistant
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
    await hass.async_block_till_done()

    assert await _lines(hass, hass_ws_client, since) == [
        ("A load", "was shed"),
        ("Kettle", "was restored"),
        ("Energy Edge", "detected an overload"),
    ]
