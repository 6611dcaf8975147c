"""The home's figures kept as readings arrive agree with the figures counted from scratch."""

from hypothesis import given, strategies as st

from custom_components.energy_edge.engines.home import CountedDevice, HomeSnapshot, HomeTotals

LINKY = "0x00158d0001a2b3c4"


def test_the_meter_gives_the_home_and_the_plugs_explain_part_of_it() -> None:
    """A Linky at 2,400 VA with a 1,500 W heater and a 100 W lamp: 800 untracked."""
    totals = HomeTotals()
    totals.count(
        [
            CountedDevice(LINKY, True, 2400.0),
            CountedDevice("0x01", True, 1500.0),
            CountedDevice("0x02", True, 100.0),
            CountedDevice("0x03", False, 900.0),  # unavailable: not counted
        ],
        LINKY,
    )
    assert totals.snapshot(2400.0) == HomeSnapshot(2400.0, 800.0, 3)
    # Without the meter's power (silent, unavailable), the devices make the home.
    assert totals.snapshot(None) == HomeSnapshot(1600.0, None, 3)


def test_without_any_power_the_home_has_none() -> None:
    """Devices online but none reporting a power yet."""
    totals = HomeTotals()
    totals.count([CountedDevice("0x01", True, None)], None)
    assert totals.snapshot(None) == HomeSnapshot(None, None, 1)


def test_a_meter_below_its_plugs_leaves_nothing_untracked() -> None:
    """Readings taken at different moments: the untracked power is never negative."""
    totals = HomeTotals()
    totals.count([CountedDevice("0x01", True, 2000.0)], LINKY)
    assert totals.snapshot(1500.0).untracked_power_w == 0.0


powers = st.floats(min_value=0, max_value=5000, allow_nan=False).map(lambda w: round(w, 1))


@given(st.lists(st.tuples(st.integers(0, 5), powers), max_size=60))
def test_incremental_figures_equal_a_count_from_scratch(updates: list[tuple[int, float]]) -> None:
    """Whatever the order of reports, the kept sum is the sum of the latest powers, exactly."""
    devices = [f"0x{i:02x}" for i in range(6)]
    totals = HomeTotals()
    totals.count([CountedDevice(ieee, True, None) for ieee in devices], devices[0])
    latest: dict[str, float] = {}
    for index, power in updates:
        ieee = devices[index]
        totals.power_changed(ieee, True, latest.get(ieee), power)
        latest[ieee] = power
    fresh = HomeTotals()
    fresh.count([CountedDevice(i, True, latest.get(i)) for i in devices], devices[0])
    assert totals.snapshot(None) == fresh.snapshot(None)
    assert totals.snapshot(10_000.0) == fresh.snapshot(10_000.0)
