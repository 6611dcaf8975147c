"""The Linky through a ZLinky: the home's grid meter, in standard and historic TIC modes."""

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_edge.engines.devices import DeviceRole
from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually, send_state, setup_energy_edge, value
from .household import Household, paris, start

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
    """HCHC + HCHP make grid import energy; PAPP the grid power; ISOUSC 45 A is 9 kVA."""
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
    assert hub.grid.reference_power_va == 9000.0  # Enedis: 45 A subscribed is a 9 kVA contract


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


# ---- the contract the meter reports, as shedding keeps it -------------------------------------

HISTORIC = z2m.zlinky_historic("0x00158d0002500040", "linky_historic")
STANDARD = z2m.zlinky_standard("0x00158d0002500050", "linky_standard")
WATER_HEATER = z2m.plug("0xa4c1380002500060", "water_heater")
LIMIT = "number.energy_edge_contract_limit"
WINTER_EVENING = paris(2026, 1, 15, 19)


async def _managed(household: Household, load: z2m.Device, power: float) -> None:
    """The user opts a load in (low priority); it runs at `power`."""
    for platform, service, key, data in (
        ("switch", "turn_on", "managed", {}),
        ("select", "select_option", "priority", {"option": "low"}),
    ):
        await household.hass.services.async_call(
            platform,
            service,
            {"entity_id": household.entity_id(load, key, platform), **data},
            blocking=True,
        )
    await household.send(load, state="ON", power=power, energy=1.0)


@pytest.mark.parametrize(
    ("isousc_a", "contract_va"),
    [(15, 3000), (30, 6000), (45, 9000), (60, 12000)],
    ids=["15A", "30A", "45A", "60A"],
)
async def test_a_historic_linky_s_subscribed_current_is_its_contract(  # noqa: PLR0917
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    isousc_a: int,
    contract_va: float,
) -> None:
    """Enedis sells 5 A per kVA: ISOUSC 15, 30, 45, 60 A are 3, 6, 9, 12 kVA contracts."""
    household = await start(hass, zigbee2mqtt, clock, [HISTORIC], at=WINTER_EVENING)
    await household.send(HISTORIC, apparent_power=500, available_power=isousc_a)
    assert household.number(LIMIT) == contract_va
    assert household.data.loads.engine.settings.contract_limit_va == contract_va


async def test_a_historic_30_a_linky_sheds_above_6_kva(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """6.5 kVA on a 30 A (6 kVA) contract is an overload: the managed load is shed."""
    household = await start(hass, zigbee2mqtt, clock, [HISTORIC, WATER_HEATER], at=WINTER_EVENING)
    await _managed(household, WATER_HEATER, 2400)
    await household.send(HISTORIC, apparent_power=5000, available_power=30)
    await household.travel(timedelta(seconds=1))
    await household.meter_reads(HISTORIC, 6500, timedelta(seconds=5))
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]
    assert household.state("binary_sensor.energy_edge_overload").state == "on"


async def test_the_cut_off_power_is_shown_and_caps_the_limit(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """PCOUP below PREF: the meter cuts at PCOUP, so shedding keeps under it, even when the user
    asks for more."""
    household = await start(hass, zigbee2mqtt, clock, [STANDARD], at=WINTER_EVENING)
    await household.send(STANDARD, apparent_power=500, available_power=9, power_threshold=9)
    await eventually(
        hass, lambda: hass.states.get(_sensor(hass, STANDARD.ieee, "cutoff_power")) is not None
    )
    cutoff = _sensor(hass, STANDARD.ieee, "cutoff_power")
    assert household.number(LIMIT) == 9000
    assert household.number(cutoff) == 9000
    assert household.state(cutoff).attributes["unit_of_measurement"] == "VA"
    await household.send(STANDARD, apparent_power=500, available_power=9, power_threshold=6)
    assert household.number(cutoff) == 6000
    assert household.number(LIMIT) == 6000
    await hass.services.async_call(
        "number", "set_value", {"entity_id": LIMIT, "value": 8000}, blocking=True
    )
    assert household.number(LIMIT) == 6000
    await hass.services.async_call(
        "number", "set_value", {"entity_id": LIMIT, "value": 5000}, blocking=True
    )
    assert household.number(LIMIT) == 5000


async def test_a_historic_linky_has_no_cut_off_sensor(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """Historic mode has no PCOUP: no entity that could never have a value."""
    await start(hass, zigbee2mqtt, clock, [HISTORIC], at=WINTER_EVENING)
    await eventually(
        hass, lambda: hass.states.get(_sensor(hass, HISTORIC.ieee, "grid_power")) is not None
    )
    assert _sensor(hass, HISTORIC.ieee, "cutoff_power") == "sensor.missing_cutoff_power"


@pytest.mark.parametrize(
    ("meter", "values", "reason"),
    [
        (STANDARD, {"available_power": 0.0001}, "contract_out_of_range"),
        (STANDARD, {"available_power": 1e12}, "contract_out_of_range"),
        (STANDARD, {"available_power": 65535}, "no_data"),
        (STANDARD, {"available_power": 48}, "contract_out_of_range"),
        (STANDARD, {"power_threshold": 0.0001}, "contract_out_of_range"),
        (STANDARD, {"power_threshold": 65535}, "no_data"),
        (HISTORIC, {"available_power": 10}, "contract_out_of_range"),  # 10 A: 2 kVA
        (HISTORIC, {"available_power": 65535}, "no_data"),
    ],
    ids=[
        "pref-0.0001",
        "pref-1e12",
        "pref-no-data",
        "pref-48kva",
        "pcoup-0.0001",
        "pcoup-no-data",
        "isousc-10a",
        "isousc-no-data",
    ],
)
async def test_a_contract_no_home_can_have_changes_nothing(  # noqa: PLR0917
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    meter: z2m.Device,
    values: dict[str, float],
    reason: str,
) -> None:
    """Outside 3-36 kVA, or the ZLinky's "no data": the last good contract stands, the value is
    counted in diagnostics, and shedding still sheds above the real contract."""
    household = await start(hass, zigbee2mqtt, clock, [meter, WATER_HEATER], at=WINTER_EVENING)
    await _managed(household, WATER_HEATER, 2400)
    good = {"available_power": 30} if meter is HISTORIC else {"available_power": 6}
    await household.send(meter, apparent_power=3000, **good)
    assert household.number(LIMIT) == 6000
    await household.send(meter, apparent_power=3000, **values)
    assert household.number(LIMIT) == 6000
    assert household.data.hub.bad_input[reason] == 1
    assert reason in household.data.hub.last_bad_input
    await household.meter_reads(meter, 6500, timedelta(seconds=5))
    assert await household.commands_for(WATER_HEATER, 1) == ["OFF"]


async def test_without_a_good_contract_from_the_meter_the_default_stands(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """A first contract that no home can have is not taken: the 6 kVA default stays."""
    household = await start(hass, zigbee2mqtt, clock, [STANDARD], at=WINTER_EVENING)
    await household.send(STANDARD, apparent_power=500, available_power=1e12, power_threshold=1e12)
    assert household.number(LIMIT) == 6000
    await household.send(STANDARD, apparent_power=500, available_power=0.0001)
    assert household.number(LIMIT) == 6000


async def test_the_zlinky_s_no_data_apparent_power_is_not_an_overload(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """PAPP 65535 is LiXee's "no data": home power keeps its last reading, nothing is shed."""
    household = await start(hass, zigbee2mqtt, clock, [HISTORIC, WATER_HEATER], at=WINTER_EVENING)
    await _managed(household, WATER_HEATER, 2400)
    await household.send(HISTORIC, apparent_power=3000, available_power=30)
    await household.meter_reads(HISTORIC, 65535, timedelta(minutes=3))
    assert household.number("sensor.energy_edge_home_power") == 3000
    assert household.data.hub.bad_input["no_data"] == 3
    assert household.data.loads.status().overloaded is False
    assert [name for name, _ in zigbee2mqtt.commands] == []


async def test_diagnostics_show_the_cut_off_and_the_values_ignored(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
) -> None:
    """The user's diagnostics tell the meter's contract, its cut-off, and what was ignored."""
    household = await start(hass, zigbee2mqtt, clock, [STANDARD], at=WINTER_EVENING)
    await household.send(STANDARD, apparent_power=500, available_power=9, power_threshold=6)
    await household.send(STANDARD, apparent_power=65535, available_power=1e12)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, household.entry)
    (linky,) = (d for d in diagnostics["devices"] if d["ieee"] == STANDARD.ieee)
    assert linky["reading"]["reference_power_va"] == 9000
    assert linky["reading"]["cutoff_power_va"] == 6000
    assert linky["reading"]["apparent_power_va"] == 500
    assert diagnostics["shedding"]["contract_limit_va"] == 6000
    assert diagnostics["bad_input"] == {"no_data": 1, "contract_out_of_range": 1}
    assert "available_power=1e+12" in diagnostics["last_bad_input"]["contract_out_of_range"]
