"""Energy-dashboard sensors: integrated energy, the home's figures, restored across restarts."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually, send_state, setup_energy_edge, value

KETTLE = z2m.plug("0x8c65a3fffe400001", "kettle", energy=False)
WASHER = z2m.plug("0x8c65a3fffe400002", "washer")
HOME_POWER = "sensor.energy_edge_home_power"
HOME_ENERGY = "sensor.energy_edge_home_energy"
UNTRACKED = "sensor.energy_edge_untracked_power"


def _entity(hass: HomeAssistant, device: z2m.Device, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", "energy_edge", f"{device.ieee}_{key}_energy_edge"
    )
    return entity_id or f"sensor.missing_{key}"


async def _start(hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, *devices: z2m.Device) -> Clock:
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices(list(devices))
    for device in devices:
        zigbee2mqtt.discovery(device)
    entry = await setup_energy_edge(hass)
    clock = Clock()
    entry.runtime_data.hub.clock = clock
    await eventually(
        hass, lambda: len(entry.runtime_data.hub.catalog.energy_devices()) == len(devices)
    )
    return clock


async def test_a_plug_without_counter_gets_energy_integrated_from_power(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """2 kW for 30 minutes then 1 kW for 6 minutes: 1.1 kWh, in the plug's and the home's total."""
    clock = await _start(hass, zigbee2mqtt, KETTLE, WASHER)
    await eventually(
        hass, lambda: hass.states.get(_entity(hass, KETTLE, "integrated_energy")) is not None
    )
    energy = _entity(hass, KETTLE, "integrated_energy")
    state = hass.states.get(energy)
    assert state is not None
    assert state.attributes["device_class"] == "energy"
    assert state.attributes["state_class"] == "total_increasing"
    assert state.attributes["unit_of_measurement"] == "kWh"

    await send_state(hass, zigbee2mqtt, KETTLE, power=2000, state="ON")
    clock.advance(1800)
    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    clock.advance(360)
    await send_state(hass, zigbee2mqtt, KETTLE, power=0, state="OFF")
    await eventually(hass, lambda: value(hass, energy) == pytest.approx(1.1))
    assert value(hass, HOME_ENERGY) == pytest.approx(
        1.1
    )  # no grid meter: the home is the sum of its devices
    assert value(hass, HOME_POWER) == pytest.approx(0.0)
    assert value(hass, UNTRACKED) is None  # nothing to compare with without a meter


async def test_a_total_is_written_when_its_shown_value_changes_or_a_minute_later(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """18 W for 10 s is 0.00005 kWh: below the 0.001 kWh shown, so the state is not written for
    each reading (the recorder keeps no row per message), yet never more than a minute late."""
    clock = await _start(hass, zigbee2mqtt, KETTLE)
    await eventually(
        hass, lambda: hass.states.get(_entity(hass, KETTLE, "integrated_energy")) is not None
    )
    energy = _entity(hass, KETTLE, "integrated_energy")
    await send_state(hass, zigbee2mqtt, KETTLE, power=18, state="ON")
    for _ in range(4):
        clock.advance(10)
        await send_state(hass, zigbee2mqtt, KETTLE, power=18, state="ON")
    assert value(hass, energy) == pytest.approx(0.00005)  # the first increment, shown as 0.000
    for _ in range(3):
        clock.advance(10)
        await send_state(hass, zigbee2mqtt, KETTLE, power=18, state="ON")
    assert value(hass, energy) == pytest.approx(0.00035)  # 60 s after the first write
    for step in range(1, 4):
        clock.advance(200)  # 0.001 kWh each: shown at once
        await send_state(hass, zigbee2mqtt, KETTLE, power=18, state="ON")
        assert value(hass, energy) == pytest.approx(0.00035 + 0.001 * step)


async def test_a_plug_with_a_counter_gets_no_copy_and_counts_increments(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Z2M's own energy sensor is enough; the home counts its increments, through a reboot."""
    clock = await _start(hass, zigbee2mqtt, WASHER, KETTLE)
    await eventually(
        hass, lambda: hass.states.get(_entity(hass, KETTLE, "integrated_energy")) is not None
    )
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", "energy_edge", f"{WASHER.ieee}_integrated_energy_energy_edge"
        )
        is None
    )
    for energy, power in [(120.0, 500), (120.4, 800), (0.0, 0), (0.3, 400)]:  # a reboot at 0.0
        await send_state(hass, zigbee2mqtt, WASHER, energy=energy, power=power, state="ON")
        clock.advance(60)
    await eventually(hass, lambda: value(hass, HOME_ENERGY) == pytest.approx(0.7))
    await send_state(hass, zigbee2mqtt, KETTLE, power=1500, state="ON")
    await eventually(hass, lambda: value(hass, HOME_POWER) == pytest.approx(1900.0))


async def test_energy_totals_survive_a_restart(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """Reloading Energy Edge keeps every total and goes on adding to it."""
    clock = await _start(hass, zigbee2mqtt, KETTLE)
    await eventually(
        hass, lambda: hass.states.get(_entity(hass, KETTLE, "integrated_energy")) is not None
    )
    energy = _entity(hass, KETTLE, "integrated_energy")
    await send_state(hass, zigbee2mqtt, KETTLE, power=3000, state="ON")
    clock.advance(1200)
    await send_state(hass, zigbee2mqtt, KETTLE, power=3000, state="ON")
    await eventually(hass, lambda: value(hass, energy) == pytest.approx(1.0))

    entry = hass.config_entries.async_entries("energy_edge")[0]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    clock = Clock(clock.now)
    entry.runtime_data.hub.clock = clock
    await eventually(
        hass,
        lambda: (
            value(hass, energy) == pytest.approx(1.0)
            and value(hass, HOME_ENERGY) == pytest.approx(1.0)
        ),
    )

    await send_state(hass, zigbee2mqtt, KETTLE, power=3000, state="ON")
    clock.advance(1200)
    await send_state(hass, zigbee2mqtt, KETTLE, power=0, state="OFF")
    await eventually(
        hass,
        lambda: (
            value(hass, energy) == pytest.approx(2.0)
            and value(hass, HOME_ENERGY) == pytest.approx(2.0)
        ),
    )


async def test_totals_are_restored_from_home_assistant_s_last_run(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """A restart of Home Assistant starts from the stored totals, never from zero."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(HOME_ENERGY, "42.5"),
                {"native_value": 42.5, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    clock = await _start(hass, zigbee2mqtt, KETTLE)
    await eventually(hass, lambda: value(hass, HOME_ENERGY) == pytest.approx(42.5))
    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    clock.advance(3600)
    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    await eventually(hass, lambda: value(hass, HOME_ENERGY) == pytest.approx(43.5))


async def test_other_features_hear_every_reading_and_home_update(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """The hub's listeners get each reading with its energy increment, and the home's figures."""
    clock = await _start(hass, zigbee2mqtt, KETTLE, WASHER)
    hub = hass.config_entries.async_entries("energy_edge")[0].runtime_data.hub
    assert hub.grid_meter is None
    assert hub.grid.apparent_power_va is None
    readings: list[tuple[str, float | None, float]] = []
    kettle_only: list[float | None] = []
    homes: list[tuple[float | None, float]] = []
    stop_all = hub.async_add_reading_listener(
        lambda update: readings.append(
            (update.device.friendly_name, update.reading.power_w, update.reading.imported_kwh)
        )
    )
    stop_kettle = hub.async_add_reading_listener(
        lambda update: kettle_only.append(update.reading.power_w), KETTLE.ieee
    )
    stop_home = hub.async_add_home_listener(
        lambda update: homes.append((update.home.power_w, update.imported_kwh))
    )
    await send_state(hass, zigbee2mqtt, KETTLE, power=3600, state="ON")
    clock.advance(1000)
    await send_state(hass, zigbee2mqtt, KETTLE, power=0, state="OFF")
    await send_state(hass, zigbee2mqtt, WASHER, power=200, energy=1.0, state="ON")
    await hass.async_block_till_done()
    assert readings == [("kettle", 3600.0, 0.0), ("kettle", 0.0, 1.0), ("washer", 200.0, 0.0)]
    assert kettle_only == [3600.0, 0.0]
    assert (3600.0, 0.0) in homes
    assert (0.0, pytest.approx(1.0)) in homes
    assert homes[-1] == (200.0, 0.0)
    assert hub.status(KETTLE.ieee).switch_on is False
    for stop in (stop_all, stop_kettle, stop_home):
        stop()
    await send_state(hass, zigbee2mqtt, KETTLE, power=10, state="ON")
    assert len(readings) == 3
