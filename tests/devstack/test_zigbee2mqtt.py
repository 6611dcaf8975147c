"""The stack reads the devices Zigbee2MQTT announces, and waits until HA's Energy dashboard choice
covers every one of them before saving it."""

import json
from typing import Any

from scripts.lib.devstack.energy_preferences import DeviceChoice, choose
from scripts.lib.devstack.zigbee2mqtt import ZigbeeDevice, left_out, parse_bridge_devices
from tests.devstack.test_energy_preferences import (
    DEVICES,
    FRIDGE_PLUG,
    LINKY,
    TV_PLUG,
    household,
    sensor,
)


def numeric(name: str, unit: str) -> dict[str, Any]:
    """An exposed numeric property, as Zigbee2MQTT describes it."""
    return {"type": "numeric", "name": name, "property": name, "access": 5, "unit": unit}


def announced(name: str, ieee: str, model: str, *exposes: dict[str, Any]) -> dict[str, Any]:
    """An entry of `bridge/devices`."""
    return {
        "friendly_name": name,
        "ieee_address": ieee,
        "type": "Router",
        "definition": {"model": model, "vendor": "Vendor", "exposes": list(exposes)},
    }


BRIDGE_DEVICES = [
    {"friendly_name": "Coordinator", "ieee_address": "0x00124b00000000d4", "type": "Coordinator"},
    announced(
        "linky",
        "0x00158d00000000a1",
        "ZLinky_TIC",
        numeric("current_summ_delivered", "kWh"),
        numeric("apparent_power", "VA"),
    ),
    announced(
        "fridge",
        "0xa4c13800000000b2",
        "TS011F_plug_1",
        {
            "type": "switch",
            "features": [{"type": "binary", "property": "state", "value_on": "ON"}],
        },
        numeric("power", "W"),
        numeric("energy", "kWh"),
    ),
    announced("tv", "0x54ef4410000000c3", "SP-EUC01", numeric("power", "W")),
    announced("door", "0x00158d00000000e5", "MCCGQ11LM", numeric("battery", "%")),
]


def test_bridge_devices_give_each_device_what_it_measures() -> None:
    """Units of every expose (those inside a composite too); the coordinator is not a device."""
    devices = {d.name: d for d in parse_bridge_devices(json.dumps(BRIDGE_DEVICES).encode())}
    assert set(devices) == {"linky", "fridge", "tv", "door"}
    linky, fridge, tv, door = (devices[name] for name in ("linky", "fridge", "tv", "door"))
    assert linky.is_grid_meter
    assert linky.counts_energy
    assert not linky.measures_power  # VA is not a power the Energy dashboard takes
    assert (fridge.measures_power, fridge.counts_energy, fridge.is_grid_meter) == (
        True,
        True,
        False,
    )
    assert (tv.measures_power, tv.counts_energy) == (True, False)
    assert (door.measures_power, door.counts_energy) == (False, False)
    assert fridge == ZigbeeDevice(
        name="fridge",
        ieee="0xa4c13800000000b2",
        model="TS011F_plug_1",
        units=frozenset({"W", "kWh"}),
    )


ANNOUNCED = parse_bridge_devices(json.dumps(BRIDGE_DEVICES).encode())
GRID_POWER = sensor(
    "sensor.linky_grid_power",
    LINKY,
    "0x00158d00000000a1_grid_power_energy_edge",
    platform="energy_edge",
    device_class="power",
    state_class="measurement",
    unit="W",
    translation_key="grid_power",
)
GRID_IMPORT = sensor(
    "sensor.linky_grid_import_energy",
    LINKY,
    "0x00158d00000000a1_grid_import_energy_energy_edge",
    platform="energy_edge",
    translation_key="grid_import_energy",
)
TV_ENERGY = sensor(
    "sensor.tv_energy_integrated",
    TV_PLUG,
    "0x54ef4410000000c3_integrated_energy_energy_edge",
    platform="energy_edge",
    translation_key="integrated_energy",
)


def test_nothing_is_left_out_once_every_announced_energy_device_is_chosen() -> None:
    """The Linky with Energy Edge's counter and power, the fridge with its counter and power, the
    TV with Energy Edge's counter and its power."""
    sensors = household(GRID_POWER, GRID_IMPORT, TV_ENERGY)
    assert left_out(choose(sensors, DEVICES), sensors, DEVICES, ANNOUNCED) == []


def test_devices_home_assistant_has_not_set_up_yet_are_left_out() -> None:
    """Before Energy Edge's sensors exist, the TV has no counter and the Linky no power; a device
    not in HA's registry at all is left out too; a door sensor is no energy device."""
    sensors = household()
    assert left_out(choose(sensors, DEVICES), sensors, DEVICES, ANNOUNCED) == ["linky", "tv"]
    without_fridge = [device for device in DEVICES if device is not FRIDGE_PLUG]
    sensors = household(GRID_POWER, GRID_IMPORT, TV_ENERGY)
    choice = choose(sensors, without_fridge)
    assert left_out(choice, sensors, without_fridge, ANNOUNCED) == ["fridge"]


def test_the_linky_waits_for_energy_edges_counter_beside_its_power() -> None:
    """Energy Edge's grid power came first: the Linky's own total register would be chosen as
    the grid, and Energy Edge's import counter, a moment later, never (a saved grid stays)."""
    sensors = household(GRID_POWER, TV_ENERGY)
    choice = choose(sensors, DEVICES)
    assert choice.grid_import == "sensor.linky_east"
    assert left_out(choice, sensors, DEVICES, ANNOUNCED) == ["linky"]


def test_a_plug_waits_for_its_power_beside_its_counter() -> None:
    """Zigbee2MQTT's energy sensor of the fridge came before its power sensor: a device saved
    without its power would stay so."""
    sensors = [
        s
        for s in household(GRID_POWER, GRID_IMPORT, TV_ENERGY)
        if s.entity_id != "sensor.fridge_power"
    ]
    choice = choose(sensors, DEVICES)
    assert DeviceChoice(stat_consumption="sensor.fridge_energy", stat_rate=None) in choice.devices
    assert left_out(choice, sensors, DEVICES, ANNOUNCED) == ["fridge"]
