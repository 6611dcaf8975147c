"""Home power now: the main meter when it reports, else the sum of the metered devices."""

from types import MappingProxyType

from energy_edge_bridge.devices import DeviceView
from energy_edge_bridge.power import FRESH_NS, HomePower, device_watts, home_power, meter_power

NOW = 10 * FRESH_NS


def device(
    name: str,
    values: dict[str, object],
    *,
    model: str | None = "TS011F_plug_1",
    ieee: str | None = None,
    seen: int | None = NOW,
    online: bool | None = True,
) -> DeviceView:
    """A device as the registry shows it."""
    return DeviceView(name, ieee, model, None, None, online, seen, MappingProxyType(values))


def test_the_linky_is_the_meter() -> None:
    """A ZLinky's apparent power (SINSTS) is the home's power, even with plugs around."""
    devices = [
        device("kettle", {"power": 2000}),
        device("linky", {"apparent_power": 2600, "current_tarif": "HP"}, model="ZLinky_TIC"),
    ]
    assert home_power(devices, NOW) == HomePower(2600.0, "VA", "meter", ("linky",), NOW)


def test_a_three_phase_linky_gives_its_total() -> None:
    """total_apparent_power first."""
    linky = device(
        "linky", {"apparent_power": 900, "total_apparent_power": 2700}, model="ZLinky_TIC"
    )
    assert home_power([linky], NOW) == HomePower(2700.0, "VA", "meter", ("linky",), NOW)


def test_a_named_meter_replaces_the_linky() -> None:
    """BRIDGE_GRID_METER by name or IEEE address; its active power in W, phases summed."""
    meter = device(
        "main",
        {"power": 1000, "power_phase_b": 500, "power_phase_c": 250.5},
        model="SDM01W-U01",
        ieee="0x00124b0000000003",
    )
    plug = device("kettle", {"power": 2000})
    expected = HomePower(1750.5, "W", "meter", ("main",), NOW)
    assert home_power([meter, plug], NOW, meter="main") == expected
    assert home_power([meter, plug], NOW, meter="0x00124b0000000003") == expected


def test_without_a_fresh_meter_the_devices_are_summed() -> None:
    """A stale or silent meter, offline or stale plugs, plugs without power: left out."""
    devices = [
        device("linky", {"apparent_power": 2600}, model="ZLinky_TIC", seen=NOW - FRESH_NS - 1),
        device("kettle", {"power": 2000}, seen=NOW - 5),
        device("fridge", {"total_power": 120.5}),
        device("lamp", {"state": "ON"}),
        device("heater", {"power": 1500}, online=False),
        device("old", {"power": 800}, seen=NOW - FRESH_NS - 1),
        device("never", {"power": 5}, seen=None),
        device("bad", {"power": float("nan"), "power_phase_b": True}),
    ]
    assert home_power(devices, NOW) == HomePower(
        2120.5, "W", "devices", ("kettle", "fridge"), NOW - 5
    )


def test_a_meter_without_power_falls_back_to_the_devices() -> None:
    """A Linky message without power (a tariff change) says nothing about the power."""
    devices = [
        device("linky", {"current_tarif": "HC"}, model="ZLinky_TIC"),
        device("kettle", {"power": 2000}),
    ]
    assert home_power(devices, NOW) == HomePower(2000.0, "W", "devices", ("kettle",), NOW)


def test_nothing_reported_means_no_answer() -> None:
    """No meter, no metered device."""
    assert home_power([], NOW) is None
    assert home_power([device("lamp", {"state": "ON"})], NOW) is None


def test_power_readings() -> None:
    """Numbers only: booleans, text and NaN are not watts."""
    assert device_watts({"power": "12"}) is None
    assert device_watts({"power": 12, "power_phase_c": 3}) == 15.0
    assert meter_power({"power": 5}) == (5.0, "W")
    assert meter_power({"apparent_power": 7}) == (7.0, "VA")
    assert meter_power({}) is None
