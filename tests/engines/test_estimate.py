"""The home's load between two Linky readings, from the plugs' own changes since the last one."""

from custom_components.energy_edge.engines.estimate import Estimate, LoadEstimate


def estimate_after_reading(meter_va: float, plugs: dict[str, float]) -> LoadEstimate:
    """Plugs reporting their draw, then the meter read at 60 s."""
    estimate = LoadEstimate()
    for plug, draw in plugs.items():
        estimate.plug_read(plug, draw)
    estimate.meter_read(60.0, meter_va)
    return estimate


def load_va(estimate: LoadEstimate) -> float:
    current = estimate.current
    assert current is not None
    return current.load_va


def test_nothing_is_estimated_before_the_first_meter_reading() -> None:
    estimate = LoadEstimate()
    assert not estimate.plug_read("kettle", 2000)
    assert estimate.current is None


def test_a_meter_reading_is_the_estimate_until_a_plug_changes() -> None:
    estimate = estimate_after_reading(3200, {"ev_charger": 0})
    unchanged = Estimate(load_va=3200, meter_va=3200, meter_at=60.0, from_plugs=False)
    assert estimate.current == unchanged
    assert not estimate.plug_read("ev_charger", 0)  # a periodic report: nothing new
    assert estimate.current == unchanged


def test_a_load_starting_after_the_reading_adds_its_draw() -> None:
    """The car starts charging (7.4 kW wallbox, 32 A at 230 V) twenty seconds after the reading."""
    estimate = estimate_after_reading(3200, {"ev_charger": 0, "oven": 2000})
    assert estimate.plug_read("ev_charger", 7360)
    assert estimate.current == Estimate(
        load_va=3200 + 7360, meter_va=3200, meter_at=60.0, from_plugs=True
    )


def test_each_plug_counts_by_its_draw_now_against_its_draw_at_the_reading() -> None:
    """The oven's thermostat cycles between readings: only where it ends up counts."""
    estimate = estimate_after_reading(5000, {"oven": 2000, "kettle": 0})
    estimate.plug_read("oven", 0)
    estimate.plug_read("oven", 2000)
    estimate.plug_read("kettle", 2200)
    estimate.plug_read("oven", 1000)
    assert load_va(estimate) == 5000 + (1000 - 2000) + 2200


def test_the_next_meter_reading_replaces_the_estimate_and_becomes_the_baseline() -> None:
    estimate = estimate_after_reading(3200, {"ev_charger": 0})
    estimate.plug_read("ev_charger", 7360)
    estimate.meter_read(120.0, 10900)
    assert estimate.current == Estimate(
        load_va=10900, meter_va=10900, meter_at=120.0, from_plugs=False
    )
    estimate.plug_read("ev_charger", 0)  # the car is full
    assert load_va(estimate) == 10900 - 7360


def test_a_plug_first_heard_after_the_reading_moves_nothing() -> None:
    """Its load may have been running at the reading already: its change is unknown."""
    estimate = estimate_after_reading(3200, {})
    assert not estimate.plug_read("dryer", 2500)
    assert load_va(estimate) == 3200
    estimate.plug_read("dryer", 0)
    assert load_va(estimate) == 3200 - 2500


def test_a_silent_plug_keeps_its_change_until_the_next_reading_then_starts_afresh() -> None:
    """A plug drops off the network while its heater runs: the heater is still running as far as
    anyone knows; the meter's next reading counts it (or not); back, the plug's first report is
    its new baseline, since the meter already saw whatever it did meanwhile."""
    estimate = estimate_after_reading(3000, {"heater": 0})
    estimate.plug_read("heater", 2000)
    estimate.plug_silent("heater")
    assert load_va(estimate) == 5000
    estimate.meter_read(120.0, 3100)  # the heater stopped while its plug was silent
    assert not estimate.plug_read("heater", 0)
    assert load_va(estimate) == 3100


def test_a_plug_silent_and_back_before_the_next_reading_counts_against_its_baseline() -> None:
    estimate = estimate_after_reading(3000, {"heater": 0})
    estimate.plug_silent("heater")
    estimate.plug_read("heater", 2000)
    assert load_va(estimate) == 5000


def test_a_removed_plug_no_longer_counts() -> None:
    estimate = estimate_after_reading(3000, {"heater": 0, "tv": 100})
    estimate.plug_read("heater", 2000)
    assert estimate.forget("heater")
    assert load_va(estimate) == 3000
    assert not estimate.forget("tv")  # unchanged since the reading
    assert not estimate.forget("unknown")
    estimate.plug_silent("unknown")  # never heard: nothing to keep
    assert load_va(estimate) == 3000


def test_the_estimate_is_never_negative() -> None:
    """A meter reading taken just after a load stopped, its plug reporting the stop later."""
    estimate = estimate_after_reading(400, {"heater": 2000})
    estimate.plug_read("heater", 0)
    assert load_va(estimate) == 0
