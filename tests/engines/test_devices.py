"""Classification: from either source, or both, each device gets its role and metering plan."""

import json

import pytest

from custom_components.energy_edge.engines.devices import DeviceCatalog, DeviceRole
from tests.helpers import z2m
from zigbee2mqtt_protocol.bridge import parse_bridge_devices
from zigbee2mqtt_protocol.discovery import (
    DiscoveredProperty,
    DiscoveryRemoval,
    parse_discovery_config,
)
from zigbee2mqtt_protocol.metering import MeteringPlan, Switch, Term

KETTLE = z2m.plug("0x8c65a3fffe300001", "kettle", energy=False)
WASHER = z2m.plug("0x8c65a3fffe300002", "washer")
HEAT_PUMP = z2m.din_meter_3p("0x8c65a3fffe300003", "heat_pump")
THERMOMETER = z2m.temperature_sensor("0x8c65a3fffe300004", "thermometer")
LINKY = z2m.zlinky_standard("0x00158d0001300005", "linky")


def _from_discovery(catalog: DeviceCatalog, device: z2m.Device) -> None:
    for topic, payload in z2m.discovery_configs(device).items():
        found = parse_discovery_config(topic, payload, "homeassistant", "zigbee2mqtt")
        if found is not None:
            catalog.apply_discovery(found)


def _from_bridge(catalog: DeviceCatalog, devices: list[z2m.Device]) -> None:
    listed, _ = parse_bridge_devices(z2m.bridge_devices(devices))
    catalog.apply_bridge_devices(listed)


def _plans(catalog: DeviceCatalog) -> dict[str, tuple[DeviceRole | None, MeteringPlan]]:
    return {d.friendly_name: (d.role, d.plan) for d in catalog.energy_devices()}


ALL = [KETTLE, WASHER, HEAT_PUMP, THERMOMETER, LINKY]


@pytest.mark.parametrize("source", ["discovery", "bridge", "both"])
def test_each_source_alone_or_both_classify_the_same(source: str) -> None:
    """Plugs are switchable loads, the DIN meter a sub-meter, the ZLinky the grid meter."""
    catalog = DeviceCatalog()
    if source in ("discovery", "both"):
        for device in ALL:
            _from_discovery(catalog, device)
    if source in ("bridge", "both"):
        _from_bridge(catalog, ALL)
    plans = _plans(catalog)
    assert set(plans) == {"kettle", "washer", "heat_pump", "linky"}
    assert plans["kettle"] == (
        DeviceRole.SWITCHABLE_LOAD,
        MeteringPlan(power=(Term("power"),), switch=Switch()),
    )
    assert plans["kettle"][1].integrates_energy
    assert plans["washer"][1].imported_energy == (Term("energy"),)
    assert not plans["washer"][1].integrates_energy
    role, meter = plans["heat_pump"]
    assert role is DeviceRole.SUB_METER
    assert meter.power == (Term("total_power"),)
    assert meter.imported_energy == (Term("energy"),)
    assert meter.produced_energy == (Term("produced_energy"),)
    assert meter.apparent_power == (Term("power_apparent"),)
    assert plans["linky"][0] is DeviceRole.GRID_METER
    assert catalog.grid_meter == LINKY.ieee


def test_phases_without_a_total_are_summed_and_endpoints_too() -> None:
    """`power`, `power_phase_b`, `power_phase_c` make the device's power; so do `power_l1/l2`."""
    catalog = DeviceCatalog()
    three = z2m.Device(
        "0x01",
        "three",
        "M",
        "V",
        "d",
        [
            z2m.numeric("power", unit="W"),
            z2m.numeric("power_phase_b", unit="W"),
            z2m.numeric("power_phase_c", unit="kW"),
            z2m.numeric("power_max", unit="W"),
            z2m.numeric("energy", unit="Wh"),
        ],
    )
    double = z2m.Device(
        "0x02",
        "double",
        "M",
        "V",
        "d",
        [
            z2m.numeric("power_l1", unit="W"),
            z2m.numeric("power_l2", unit="W"),
        ],
    )
    _from_bridge(catalog, [three, double])
    plans = _plans(catalog)
    assert plans["three"][1].power == (
        Term("power"),
        Term("power_phase_b"),
        Term("power_phase_c", 1000.0),
    )
    assert plans["three"][1].imported_energy == (Term("energy", 0.001),)
    assert plans["double"][1].power == (Term("power_l1"), Term("power_l2"))


def test_the_linky_in_each_mode() -> None:
    """Standard or historic, one or three phases: import registers, apparent power, contract."""
    catalog = DeviceCatalog()
    meters = {
        "std_1p": z2m.zlinky_standard("0x00158d0000000011", "std_1p"),
        "std_3p": z2m.zlinky_standard(
            "0x00158d0000000012", "std_3p", three_phase=True, producer=True
        ),
        "hist_base": z2m.zlinky_historic("0x00158d0000000013", "hist_base", option="BASE"),
        "hist_hchp": z2m.zlinky_historic("0x00158d0000000014", "hist_hchp", three_phase=True),
    }
    _from_bridge(catalog, list(meters.values()))
    plans = {name: plan for name, (_, plan) in _plans(catalog).items()}
    no_data = 0xFFFF  # LiXee's value for a UINT16 register the Linky did not fill
    assert plans["std_1p"].apparent_power == (Term("apparent_power", no_data=no_data),)
    assert plans["std_1p"].imported_energy == (Term("current_summ_delivered"),)
    assert plans["std_1p"].reference_power == Term("available_power", 1000.0, no_data)
    assert plans["std_1p"].cutoff_power == Term("power_threshold", 1000.0, no_data)
    assert plans["std_3p"].apparent_power == (Term("total_apparent_power", no_data=no_data),)
    assert plans["std_3p"].produced_energy == (Term("current_summ_received"),)
    assert plans["hist_base"].imported_energy == (Term("current_summ_delivered"),)
    # Enedis: 5 A per kVA, so 1000 VA / 5 A per amp
    assert plans["hist_base"].reference_power == Term("available_power", 1000 / 5, no_data)
    assert plans["hist_base"].cutoff_power is None
    assert plans["hist_hchp"].imported_energy == (
        Term("current_tier1_summ_delivered"),
        Term("current_tier2_summ_delivered"),
    )
    assert all(plan.power_from_apparent for plan in plans.values())
    assert catalog.grid_meter == "0x00158d0000000011"  # the first ZLinky by address


def test_the_user_chooses_the_main_meter() -> None:
    """A chosen main meter is the grid meter; the Linky becomes a sub-meter."""
    catalog = DeviceCatalog(main_meter=HEAT_PUMP.ieee)
    _from_bridge(catalog, [HEAT_PUMP, LINKY])
    assert catalog.grid_meter == HEAT_PUMP.ieee
    assert catalog.get(LINKY.ieee).role is DeviceRole.SUB_METER
    change = catalog.set_main_meter(None)
    assert catalog.grid_meter == LINKY.ieee
    assert change.updated == {HEAT_PUMP.ieee, LINKY.ieee}


def test_changes_report_added_renamed_removed() -> None:
    """Renames keep the IEEE address; removals come from withdrawn configs, lists or leaves."""
    catalog = DeviceCatalog()
    _from_discovery(catalog, KETTLE)
    _from_discovery(catalog, WASHER)
    renamed = z2m.plug(KETTLE.ieee, "tea_kettle", energy=False)
    listed, _ = parse_bridge_devices(z2m.bridge_devices([renamed, WASHER]))
    change = catalog.apply_bridge_devices(listed)
    assert change.renamed == {KETTLE.ieee: ("kettle", "tea_kettle")}
    assert not change.added
    assert not change.removed

    listed, _ = parse_bridge_devices(z2m.bridge_devices([renamed]))
    assert catalog.apply_bridge_devices(listed).removed == {WASHER.ieee}
    assert not catalog.get(WASHER.ieee).present

    assert catalog.mark_left(KETTLE.ieee).removed == {KETTLE.ieee}
    assert not catalog.mark_left(KETTLE.ieee)
    assert not catalog.mark_left("0xunknown")
    assert catalog.energy_devices() == []


def test_withdrawn_configs_remove_a_device_known_only_from_discovery() -> None:
    """When every config of a device is withdrawn, the device is gone."""
    catalog = DeviceCatalog()
    _from_discovery(catalog, KETTLE)
    removals = [
        parse_discovery_config(topic, "", "homeassistant", "zigbee2mqtt")
        for topic in z2m.discovery_configs(KETTLE)
    ]
    changes = [catalog.apply_discovery(r) for r in removals if isinstance(r, DiscoveryRemoval)]
    assert [change.removed for change in changes if change.removed] == [{KETTLE.ieee}]
    assert not catalog.get(KETTLE.ieee).present
    assert not catalog.apply_discovery(DiscoveryRemoval("0xunknown", "sensor", "power"))


def test_a_device_gaining_an_energy_counter_stops_integrating() -> None:
    """Configs arrive one by one: the plan follows."""
    catalog = DeviceCatalog()
    configs = z2m.discovery_configs(WASHER)
    power = f"homeassistant/sensor/{WASHER.ieee}/power/config"
    energy = f"homeassistant/sensor/{WASHER.ieee}/energy/config"
    first = parse_discovery_config(power, configs[power], "homeassistant", "zigbee2mqtt")
    assert isinstance(first, DiscoveredProperty)
    assert catalog.apply_discovery(first).added == {WASHER.ieee}
    assert catalog.get(WASHER.ieee).plan.integrates_energy
    second = parse_discovery_config(energy, configs[energy], "homeassistant", "zigbee2mqtt")
    assert isinstance(second, DiscoveredProperty)
    assert catalog.apply_discovery(second).updated == {WASHER.ieee}
    assert not catalog.get(WASHER.ieee).plan.integrates_energy


def test_disabled_devices_are_not_managed() -> None:
    """Z2M's disabled devices are left alone."""
    catalog = DeviceCatalog()
    entries = json.loads(z2m.bridge_devices([KETTLE]))
    entries[1]["disabled"] = True
    listed, _ = parse_bridge_devices(json.dumps(entries))
    catalog.apply_bridge_devices(listed)
    assert catalog.energy_devices() == []
    assert [d.ieee for d in catalog] == [KETTLE.ieee]


def test_a_list_with_unreadable_entries_removes_nothing() -> None:
    """A device missing from a partly unreadable list may be the unreadable entry: it stays."""
    catalog = DeviceCatalog()
    _from_bridge(catalog, [KETTLE, WASHER])
    listed, _ = parse_bridge_devices(z2m.bridge_devices([KETTLE]))
    assert not catalog.apply_bridge_devices(listed, complete=False).removed
    assert catalog.get(WASHER.ieee).present
