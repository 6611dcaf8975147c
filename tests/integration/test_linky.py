"""The Linky through a ZLinky: the home's grid meter, in standard and historic TIC modes."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.devices import DeviceRole
from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually, send_state, setup_energy_edge, value

FRIDGE = z2m.plug("0x8c65a3fffe500001", "fridge")
OVEN = z2m.plug("0x8c65a3fffe500002", "oven", energy=False)


def _sensor(hass: HomeAssistant, ieee: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", "energy_edge", f"{ieee}_{key}_energy_edge"
    )
    return entity_id or f"sensor.missing_{key}"


async def _start(hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, linky: z2m.Device) -> Clock:
    zigbee2mqtt.bridge_state()
    for device in (linky, FRIDGE, OVEN):
        zigbee2mqtt.discovery(device)
    entry = await setup_energy_edge(hass)
    clock = Clock()
    entry.runtime_data.hub.clock = clock
    await eventually(
        hass,
        lambda: (
            hass.states.get(_sensor(hass, linky.ieee, "grid_power")) is not None
            and hass.states.get(_sensor(hass, OVEN.ieee, "integrated_energy")) is not None
        ),
    )
    return clock


@pytest.mark.parametrize("three_phase", [False, True], ids=["single-phase", "three-phase"])
async def test_linky_standard_mode(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, three_phase: bool
) -> None:
    """SINSTS becomes grid power in W, EAST grid import energy; the home follows the meter."""
    linky = z2m.zlinky_standard("0x00158d0002500010", "linky", three_phase=three_phase)
    clock = await _start(hass, zigbee2mqtt, linky)
    hub = hass.config_entries.async_entries("energy_edge")[0].runtime_data.hub
    assert hub.grid_meter is not None
    assert hub.grid_meter.role is DeviceRole.GRID_METER

    apparent = (
        {"total_apparent_power": 4100, "apparent_power": 1400}
        if three_phase
        else {"apparent_power": 4100}
    )
    common = {"available_power": 9, "current_summ_delivered": 12000.0, "site_id": "01234567890123"}
    await send_state(hass, zigbee2mqtt, linky, **common, **apparent)
    await send_state(hass, zigbee2mqtt, FRIDGE, power=150, energy=3.0, state="ON")
    await send_state(hass, zigbee2mqtt, OVEN, power=2500, state="ON")
    clock.advance(3600)
    await send_state(
        hass, zigbee2mqtt, linky, **{**common, "current_summ_delivered": 12004.0}, **apparent
    )

    grid_power = _sensor(hass, linky.ieee, "grid_power")
    grid_energy = _sensor(hass, linky.ieee, "grid_import_energy")
    await eventually(hass, lambda: value(hass, grid_energy) == pytest.approx(4.0))
    assert value(hass, grid_power) == pytest.approx(4100.0)
    power_state = hass.states.get(grid_power)
    assert power_state is not None
    assert power_state.attributes["device_class"] == "power"
    assert power_state.attributes["unit_of_measurement"] == "W"
    energy_state = hass.states.get(grid_energy)
    assert energy_state is not None
    assert energy_state.attributes["state_class"] == "total_increasing"
    assert value(hass, "sensor.energy_edge_home_power") == pytest.approx(4100.0)
    assert value(hass, "sensor.energy_edge_untracked_power") == pytest.approx(4100.0 - 150 - 2500)
    assert value(hass, "sensor.energy_edge_home_energy") == pytest.approx(
        4.0
    )  # the meter's, not the devices'
    assert hub.grid.apparent_power_va == 4100.0
    assert hub.grid.reference_power_va == 9000.0


@pytest.mark.parametrize("three_phase", [False, True], ids=["single-phase", "three-phase"])
async def test_linky_historic_mode_with_off_peak_registers(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, three_phase: bool
) -> None:
    """HCHC + HCHP make grid import energy; PAPP the grid power; ISOUSC 45 A is 10,350 VA."""
    linky = z2m.zlinky_historic("0x00158d0002500020", "linky", three_phase=three_phase)
    clock = await _start(hass, zigbee2mqtt, linky)
    hub = hass.config_entries.async_entries("energy_edge")[0].runtime_data.hub

    registers = {"current_tier1_summ_delivered": 5000.0, "current_tier2_summ_delivered": 8000.0}
    await send_state(hass, zigbee2mqtt, linky, apparent_power=900, available_power=45, **registers)
    clock.advance(3600)
    await send_state(
        hass,
        zigbee2mqtt,
        linky,
        apparent_power=300,
        available_power=45,
        current_tier1_summ_delivered=5001.0,
        current_tier2_summ_delivered=8000.5,
        active_register_tier_delivered="HC..",
    )
    await send_state(hass, zigbee2mqtt, OVEN, power=1000, state="ON")
    grid_energy = _sensor(hass, linky.ieee, "grid_import_energy")
    await eventually(hass, lambda: value(hass, grid_energy) == pytest.approx(1.5))
    await eventually(
        hass, lambda: value(hass, "sensor.energy_edge_untracked_power") == pytest.approx(0.0)
    )
    assert value(hass, _sensor(hass, linky.ieee, "grid_power")) == pytest.approx(300.0)
    assert value(hass, "sensor.energy_edge_home_power") == pytest.approx(300.0)
    assert hub.grid.reference_power_va == 45 * 230.0


async def test_the_user_can_choose_another_main_meter(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT
) -> None:
    """With a DIN-rail meter chosen as main meter, home power is its power."""
    meter = z2m.din_meter_3p("0x8c65a3fffe500030", "main_board")
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([meter, FRIDGE])
    await setup_energy_edge(hass, main_meter=meter.ieee)
    hub = hass.config_entries.async_entries("energy_edge")[0].runtime_data.hub
    await eventually(hass, lambda: hub.grid_meter is not None)
    await send_state(
        hass, zigbee2mqtt, meter, total_power=2400, power=800, power_phase_b=800, power_phase_c=800
    )
    await send_state(hass, zigbee2mqtt, FRIDGE, power=100, state="ON")
    await eventually(
        hass, lambda: value(hass, "sensor.energy_edge_untracked_power") == pytest.approx(2300.0)
    )
    assert value(hass, "sensor.energy_edge_home_power") == pytest.approx(2400.0)
    assert hub.grid.apparent_power_va is None
