"""The stack fills the Energy dashboard from HA's entities: the Linky as grid, plugs as devices."""

from typing import Any

from scripts.lib.devstack.energy_preferences import (
    DeviceChoice,
    EnergyChoice,
    choose,
    read_sensors,
)

LINKY = {
    "id": "dev-linky",
    "identifiers": [["mqtt", "zigbee2mqtt_0x00158d00000000a1"]],
    "model": "Lixee ZLinky",
    "model_id": "ZLinky_TIC",
}
FRIDGE_PLUG = {
    "id": "dev-fridge",
    "identifiers": [["mqtt", "zigbee2mqtt_0xa4c13800000000b2"]],
    "model": "Smart plug (with power monitoring)",
    "model_id": "TS011F_plug_1",
}
TV_PLUG = {  # reports power but no energy: Energy Edge integrates it
    "id": "dev-tv",
    "identifiers": [["mqtt", "zigbee2mqtt_0x54ef4410000000c3"]],
    "model": "Smart plug EU",
    "model_id": "SP-EUC01",
}
HUB = {"id": "dev-hub", "identifiers": [["energy_edge", "zigbee2mqtt"]], "model": "Energy Edge"}
BRIDGE = {"id": "dev-z2m", "identifiers": [["mqtt", "zigbee2mqtt_bridge_0x00124b00000000d4"]]}
DEVICES = [LINKY, FRIDGE_PLUG, TV_PLUG, HUB, BRIDGE]


def sensor(
    entity_id: str,
    device: dict[str, Any] | None,
    unique_id: str,
    *,
    platform: str = "mqtt",
    device_class: str | None = "energy",
    state_class: str | None = "total_increasing",
    unit: str | None = "kWh",
    translation_key: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A state and its entity registry entry, as HA's WebSocket API returns them."""
    attributes = {
        key: value
        for key, value in (
            ("device_class", device_class),
            ("state_class", state_class),
            ("unit_of_measurement", unit),
        )
        if value is not None
    }
    state = {"entity_id": entity_id, "state": "12.5", "attributes": attributes}
    entry = {
        "entity_id": entity_id,
        "device_id": device["id"] if device else None,
        "platform": platform,
        "unique_id": unique_id,
        "translation_key": translation_key,
    }
    return state, entry


def household(*extra: tuple[dict[str, Any], dict[str, Any]]) -> list[Any]:
    """Sensors of a Zigbee2MQTT household, named and classed by Z2M's rules."""
    pairs = [
        sensor("sensor.linky_east", LINKY, "0x00158d00000000a1_EAST_zigbee2mqtt"),
        sensor("sensor.linky_easf01", LINKY, "0x00158d00000000a1_EASF01_zigbee2mqtt"),
        sensor("sensor.linky_easf02", LINKY, "0x00158d00000000a1_EASF02_zigbee2mqtt"),
        sensor(
            "sensor.linky_sinsts",
            LINKY,
            "0x00158d00000000a1_SINSTS_zigbee2mqtt",
            device_class=None,
            state_class="measurement",
            unit="VA",
        ),
        sensor("sensor.fridge_energy", FRIDGE_PLUG, "0xa4c13800000000b2_energy_zigbee2mqtt"),
        sensor(
            "sensor.fridge_power",
            FRIDGE_PLUG,
            "0xa4c13800000000b2_power_zigbee2mqtt",
            device_class="power",
            state_class="measurement",
            unit="W",
        ),
        sensor(
            "sensor.fridge_voltage",
            FRIDGE_PLUG,
            "0xa4c13800000000b2_voltage_zigbee2mqtt",
            device_class="voltage",
            state_class="measurement",
            unit="V",
        ),
        sensor(
            "sensor.tv_power",
            TV_PLUG,
            "0x54ef4410000000c3_power_zigbee2mqtt",
            device_class="power",
            state_class="measurement",
            unit="W",
        ),
        sensor(
            "sensor.energy_edge_home_energy",
            HUB,
            "zigbee2mqtt_home_energy",
            platform="energy_edge",
            translation_key="home_energy",
        ),
        *extra,
    ]
    return sensors_of(pairs)


def sensors_of(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[Any]:
    """What the stack reads from HA's state list and entity registry (a switch among them)."""
    states = [state for state, _ in pairs]
    states.append({"entity_id": "switch.fridge", "state": "on", "attributes": {}})
    return read_sensors(states, [entry for _, entry in pairs])


def test_the_linky_total_register_is_the_grid_and_each_metered_plug_a_device() -> None:
    """EAST (the total) is chosen over the tariff registers; plugs bring their power too."""
    choice = choose(household(), DEVICES)
    assert choice.grid_import == "sensor.linky_east"
    assert choice.grid_power is None  # SINSTS is in VA: not a power the power views accept
    assert choice.devices == (
        DeviceChoice(stat_consumption="sensor.fridge_energy", stat_rate="sensor.fridge_power"),
    )


def test_energy_edge_sensors_are_preferred_where_it_adds_them() -> None:
    """Energy Edge's grid import and power on the Linky, and its integrated energy of a plug."""
    choice = choose(
        household(
            sensor(
                "sensor.linky_grid_import",
                LINKY,
                "0x00158d00000000a1_grid_import",
                platform="energy_edge",
                translation_key="grid_import_energy",
            ),
            sensor(
                "sensor.linky_power",
                LINKY,
                "0x00158d00000000a1_power",
                platform="energy_edge",
                device_class="power",
                state_class="measurement",
                unit="W",
            ),
            sensor(
                "sensor.tv_energy",
                TV_PLUG,
                "0x54ef4410000000c3_energy",
                platform="energy_edge",
                translation_key="integrated_energy",
            ),
        ),
        DEVICES,
    )
    assert choice.grid_import == "sensor.linky_grid_import"
    assert choice.grid_power == "sensor.linky_power"
    assert choice.devices == (
        DeviceChoice(stat_consumption="sensor.fridge_energy", stat_rate="sensor.fridge_power"),
        DeviceChoice(stat_consumption="sensor.tv_energy", stat_rate="sensor.tv_power"),
    )


def test_production_counters_and_the_hub_total_are_not_consumers() -> None:
    """A PV plug's produced energy, and Energy Edge's home total, never count as a device."""
    pv_plug = {
        "id": "dev-pv",
        "identifiers": [["mqtt", "zigbee2mqtt_0x00158d00000000e5"]],
        "model_id": "SP-EUC01",
    }
    choice = choose(
        household(
            sensor("sensor.pv_produced_energy", pv_plug, "0x00158d00000000e5_produced_energy_z2m")
        ),
        [*DEVICES, pv_plug],
    )
    assert [device.stat_consumption for device in choice.devices] == ["sensor.fridge_energy"]


def test_nothing_to_choose_before_the_devices_exist() -> None:
    """A fresh HA (no simulator yet): no grid, no device, and no error."""
    assert choose([], []) == EnergyChoice(grid_import=None, grid_power=None, devices=())


def test_a_counter_in_the_wrong_class_or_unit_is_ignored() -> None:
    """Only counters the Energy dashboard accepts are chosen."""
    choice = choose(
        sensors_of(
            [
                sensor("sensor.linky_east", LINKY, "a", state_class="measurement"),
                sensor("sensor.fridge_energy", FRIDGE_PLUG, "b", unit="kVAh"),
            ]
        ),
        DEVICES,
    )
    assert choice == EnergyChoice(grid_import=None, grid_power=None, devices=())
