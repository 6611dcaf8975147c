"""Home power now, by the integration's rule: the grid meter while it is available and has
spoken in the last 10 minutes, else the available metered devices, whatever their age."""

from typing import Any

from energy_edge_bridge.devices import DeviceRegistry
from energy_edge_bridge.power import PowerNow, grid_meter, home_power_now
from tests.bridge.support import device_entry, linky_entry, listed

S = 1_000_000_000  # ns
NOW = 1_796_292_332 * S
STARTED = NOW - 3600 * S  # the bridge has listened for an hour
KETTLE = ("kettle", "0xa4c1380000000001")
FRIDGE = ("fridge", "0xa4c1380000000002")
LINKY = ("linky", "0x00158d0000000003")
METER = ("main", "0x00124b0000000004")


def meter_entry(name: str, ieee: str) -> dict[str, Any]:
    """A BITUO TECHNIK SDM01W-U01 three-phase meter: `total_power` (W) beside each phase's
    `power` (Zigbee2MQTT 2.12.1's exposes for it)."""
    exposes = [
        {"name": prop, "access": access, "type": "numeric", "property": prop, "unit": unit}
        for prop, unit, access in (
            ("total_power", "W", 1),
            ("total_power_apparent", "VA", 1),
            ("power", "W", 5),
            ("power_phase_b", "W", 5),
            ("power_phase_c", "W", 5),
            ("energy", "kWh", 5),
        )
    ]
    return device_entry(
        name,
        ieee,
        model="SDM01W-U01",
        vendor="BITUO TECHNIK",
        description="Smart energy monitor for 3P+N system",
        exposes=exposes,
    )


def home(*entries: dict[str, Any]) -> DeviceRegistry:
    """A registry that knows these devices from `bridge/devices`."""
    registry = DeviceRegistry()
    registry.start_listening(STARTED)
    registry.replace_devices(listed(*entries))
    return registry


def plug(power: float) -> dict[str, object]:
    """A TS011F plug's state message."""
    return {"current": round(power / 230, 3), "energy": 1.2, "power": power, "state": "ON"}


def linky(apparent_power: float) -> dict[str, object]:
    """A ZLinky's state message (standard mode): SINSTS in VA, the serial as text."""
    return {
        "apparent_power": apparent_power,
        "current_summ_delivered": 18452.312,
        "current_tarif": "BASE",
        "meter_serial_number": "021861348497",
    }


def power(registry: DeviceRegistry, meter: str | None = None) -> PowerNow | None:
    """/api/power's figure for the only home."""
    return home_power_now(registry.views(), registry.zigbee2mqtt().listening_since_ns, NOW, meter)


def test_the_linky_is_the_meter() -> None:
    """A ZLinky's apparent power (SINSTS, VA) is the home's power, even with plugs around."""
    registry = home(device_entry(*KETTLE), linky_entry(*LINKY))
    registry.record_state(KETTLE[0], plug(2000.0), NOW - 5 * S)
    registry.record_state(LINKY[0], linky(2600.0), NOW - 30 * S)
    assert power(registry) == PowerNow(2600.0, "VA", "meter", ("linky",), NOW - 30 * S)


def test_a_linky_silent_for_ten_minutes_no_longer_gives_the_homes_power() -> None:
    """METER_SILENCE_S: at 9 min 59 s the Linky still speaks for the home; at 10 min the
    plugs do."""
    registry = home(device_entry(*KETTLE), linky_entry(*LINKY))
    registry.record_state(KETTLE[0], plug(2000.0), NOW - 20 * S)
    registry.record_state(LINKY[0], linky(2600.0), NOW - 599 * S)
    assert power(registry) == PowerNow(2600.0, "VA", "meter", ("linky",), NOW - 599 * S)
    registry.record_state(LINKY[0], linky(2600.0), NOW - 600 * S)
    assert power(registry) == PowerNow(2000.0, "W", "devices", ("kettle",), NOW - 20 * S)


def test_a_plug_silent_for_twenty_minutes_but_online_still_counts() -> None:
    """Zigbee2MQTT's plugs report a power that does not change about once an hour at most:
    their last power holds while they are available, whatever its age."""
    registry = home(device_entry(*KETTLE), device_entry(*FRIDGE))
    registry.record_state(KETTLE[0], plug(2000.0), NOW - 20 * 60 * S)
    registry.record_availability(KETTLE[0], True)
    registry.record_state(FRIDGE[0], plug(120.5), NOW - 59 * 60 * S)  # no availability feature
    assert power(registry) == PowerNow(
        2120.5, "W", "devices", ("fridge", "kettle"), NOW - 59 * 60 * S
    )


def test_offline_devices_do_not_count() -> None:
    """An offline meter gives way to the devices; an offline plug is left out."""
    registry = home(device_entry(*KETTLE), device_entry(*FRIDGE), linky_entry(*LINKY))
    registry.record_state(LINKY[0], linky(2600.0), NOW - S)
    registry.record_availability(LINKY[0], False)
    registry.record_state(KETTLE[0], plug(2000.0), NOW - S)
    registry.record_availability(KETTLE[0], False)
    registry.record_state(FRIDGE[0], plug(120.5), NOW - 2 * S)
    assert power(registry) == PowerNow(120.5, "W", "devices", ("fridge",), NOW - 2 * S)


def test_a_named_meter_replaces_the_linky() -> None:
    """BRIDGE_GRID_METER by name or IEEE address: a three-phase meter's `total_power` (W),
    not its phases added to it."""
    registry = home(meter_entry(*METER), linky_entry(*LINKY), device_entry(*KETTLE))
    registry.record_state(
        METER[0],
        {"total_power": 1750.5, "power": 1000, "power_phase_b": 500, "power_phase_c": 250.5},
        NOW - S,
    )
    registry.record_state(LINKY[0], linky(2600.0), NOW - S)
    registry.record_state(KETTLE[0], plug(2000.0), NOW - S)
    expected = PowerNow(1750.5, "W", "meter", ("main",), NOW - S)
    assert power(registry, "main") == expected
    assert power(registry, METER[1]) == expected
    # A name that is no metering device: the Linky.
    assert power(registry, "kettle's socket") == PowerNow(
        2600.0, "VA", "meter", ("linky",), NOW - S
    )


def test_the_meter_is_never_one_of_the_devices() -> None:
    """A silent meter gives no power, and is not added to the devices either."""
    registry = home(meter_entry(*METER), device_entry(*KETTLE))
    registry.record_state(METER[0], {"total_power": 1750.5}, NOW - 11 * 60 * S)
    registry.record_state(KETTLE[0], plug(2000.0), NOW - S)
    assert power(registry, "main") == PowerNow(2000.0, "W", "devices", ("kettle",), NOW - S)


def test_a_meter_message_without_power_falls_back_to_the_devices() -> None:
    """LiXee's "no data" (0xFFFF) or a message without SINSTS says nothing about the power."""
    registry = home(linky_entry(*LINKY), device_entry(*KETTLE))
    registry.record_state(KETTLE[0], plug(2000.0), NOW - S)
    registry.record_state(LINKY[0], linky(65535), NOW - S)
    assert power(registry) == PowerNow(2000.0, "W", "devices", ("kettle",), NOW - S)
    registry.record_state(LINKY[0], {"current_tarif": "BASE"}, NOW - S)
    assert power(registry) == PowerNow(2000.0, "W", "devices", ("kettle",), NOW - S)


def test_back_online_the_meter_gets_its_full_delay_again() -> None:
    """Zigbee2MQTT offline then online: the Linky's last reading, 15 minutes old, gives the
    home's power for 10 minutes from Zigbee2MQTT's return, as the integration does."""
    registry = home(linky_entry(*LINKY))
    registry.record_state(LINKY[0], linky(2600.0), NOW - 15 * 60 * S)
    assert power(registry) is None
    registry.record_bridge_state(False, NOW - 3 * 60 * S)
    registry.record_bridge_state(True, NOW - 2 * 60 * S)
    assert registry.zigbee2mqtt().online is True
    assert power(registry) == PowerNow(2600.0, "VA", "meter", ("linky",), NOW - 15 * 60 * S)


def test_devices_without_a_definition_give_no_power() -> None:
    """A group or a device before bridge/devices: no exposes, so no metering plan."""
    registry = home()
    registry.record_state("living room", {"power": 300, "state": "ON"}, NOW - S)
    assert power(registry) is None
    assert grid_meter(registry.views()) is None


def test_nothing_reported_means_no_answer() -> None:
    """No meter, no metered device; or devices that never reported."""
    assert power(home()) is None
    assert power(home(device_entry(*KETTLE), linky_entry(*LINKY))) is None


def test_devices_disabled_in_zigbee2mqtt_count_for_nothing() -> None:
    """An old ZLinky left disabled in Zigbee2MQTT (a lower IEEE address than the live one) is
    not the meter, and a disabled plug's last reading is not in the sum: as in the integration,
    where a disabled device is not present."""
    old_linky = {**linky_entry("old_linky", "0x00158d0000000001"), "disabled": True}
    old_plug = {**device_entry("old_plug", "0xa4c1380000000009"), "disabled": True}
    registry = home(device_entry(*KETTLE), old_plug, old_linky, linky_entry(*LINKY))
    registry.record_state("old_linky", linky(9000.0), NOW - 60 * S)
    registry.record_state("old_plug", plug(700.0), NOW - 60 * S)
    registry.record_state(KETTLE[0], plug(2000.0), NOW - 5 * S)
    # The live Linky has not spoken in the hour the bridge has listened: the devices count.
    assert power(registry) == PowerNow(2000.0, "W", "devices", ("kettle",), NOW - 5 * S)
    registry.record_state(LINKY[0], linky(2600.0), NOW - 30 * S)
    assert power(registry) == PowerNow(2600.0, "VA", "meter", ("linky",), NOW - 30 * S)
    assert grid_meter(registry.views()) == registry.view("linky")
