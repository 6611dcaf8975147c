"""What management stores survives damage item by item (the usual load is relearned), and goes
with its entry."""

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.engines.shedding import Priority
from custom_components.energy_edge.storage import LoadSetting
from tests.helpers import z2m

from .conftest import Zigbee2MQTT, eventually

ENTRY_ID = "01JENERGYEDGESTORAGETEST00"
KEY = f"energy_edge.{ENTRY_ID}.management"
PROFILE_KEY = f"energy_edge.{ENTRY_ID}.load_profile"
PLUG = z2m.plug("0xa4c1380004c000b1", "dryer")
GOOD_RUN = {
    "load_id": PLUG.ieee,
    "start": "2030-01-15T21:00:00+00:00",
    "end": "2030-01-15T22:00:00+00:00",
    "power_w": 2000.0,
    "deadline": "2030-01-16T06:00:00+00:00",
    "expected_cost": 0.33,
    "prices_assumed": False,
    "started": False,
}


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain="energy_edge",
        entry_id=ENTRY_ID,
        unique_id="zigbee2mqtt",
        data={"base_topic": "zigbee2mqtt", "discovery_prefix": "homeassistant"},
    )
    entry.add_to_hass(hass)
    return entry


async def test_damaged_items_are_dropped_and_the_rest_kept(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[KEY] = {
        "version": 1,
        "key": KEY,
        "data": {
            "loads": {
                PLUG.ieee: {"priority": "low", "managed": True},
                "0xbroken": {"priority": "urgent", "managed": True},
            },
            "shed": "everything",
            "runs": [GOOD_RUN, {**GOOD_RUN, "load_id": "0xother", "end": "yesterday"}],
            "tempo_colors": {"2030-01-15": "red", "someday": "blue", "2030-01-16": "pink"},
        },
    }
    entry = _entry(hass)
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([PLUG])
    assert await hass.config_entries.async_setup(entry.entry_id)
    state = entry.runtime_data.store.state
    assert state.loads == {PLUG.ieee: LoadSetting(Priority.LOW, managed=True)}
    assert state.shed == {}
    assert list(state.runs) == [PLUG.ieee]
    assert [day.isoformat() for day in state.tempo_colors] == ["2030-01-15"]
    for damaged in ("loads", "shed", "runs", "tempo_colors"):
        assert f"of {damaged} is damaged" in caplog.text or f"{damaged} are damaged" in caplog.text
    await eventually(hass, lambda: entry.runtime_data.loads.setting(PLUG.ieee).managed)


async def test_removing_the_entry_forgets_what_it_stored(
    hass: HomeAssistant, hass_storage: dict[str, Any], mqtt_entry: MockConfigEntry
) -> None:
    entry = _entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    entry.runtime_data.loads.set_load(PLUG.ieee, priority=Priority.HIGH)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[KEY]["data"]["loads"] == {PLUG.ieee: {"priority": "high", "managed": False}}
    assert hass_storage[PROFILE_KEY]["data"] == {"days": {}}
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert KEY not in hass_storage
    assert PROFILE_KEY not in hass_storage


async def test_a_damaged_usual_load_is_relearned(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[PROFILE_KEY] = {
        "version": 1,
        "key": PROFILE_KEY,
        "data": {"days": {"2030-01-15": [-5.0] * 48}},
    }
    entry = _entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.runtime_data.usual_load.profile.days == {}
    assert "The home's usual load is relearned: stored load profile is damaged" in caplog.text
