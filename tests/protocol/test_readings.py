"""Readings and energy: counters that go back, absurd jumps, integration from power."""

from hypothesis import given, strategies as st

from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.metering import MeteringPlan, Switch, Term
from zigbee2mqtt_protocol.readings import (
    MAX_INTEGRATION_GAP_S,
    CounterTracker,
    DeviceMeter,
    PowerIntegrator,
)

PLUG = MeteringPlan(power=(Term("power"),), switch=Switch())
METER = MeteringPlan(power=(Term("power"),), imported_energy=(Term("energy"),))
LINKY = MeteringPlan(
    power=(Term("apparent_power"),),
    apparent_power=(Term("apparent_power"),),
    imported_energy=(Term("current_tier1_summ_delivered"), Term("current_tier2_summ_delivered")),
    reference_power=Term("available_power", 1000.0),
    power_from_apparent=True,
)


def _reasons(notes: list[RejectedInputError]) -> list[Rejection]:
    return [note.reason for note in notes]


def test_integrated_energy_is_power_held_until_the_next_report() -> None:
    """2 kW for half an hour is 1 kWh; a gap longer than Z2M's reporting interval counts nothing."""
    integrator = PowerIntegrator()
    assert integrator.increment(2000.0, 0.0) == 0.0
    assert integrator.increment(500.0, 1800.0) == 1.0
    assert integrator.increment(500.0, 1800.0 + MAX_INTEGRATION_GAP_S + 1) == 0.0
    integrator.pause()
    assert integrator.increment(500.0, 1800.0 + MAX_INTEGRATION_GAP_S + 61) == 0.0


def test_a_counter_reset_is_rebased_without_counting_twice() -> None:
    """A device reboot sends the counter back to 0: nothing is lost or counted twice."""
    counter, notes = CounterTracker(), []
    steps = [(100.0, 0), (100.5, 600), (0.1, 1200), (0.4, 1800)]
    total = sum(counter.increment(value, at, notes) for value, at in steps)
    assert round(total, 6) == 0.8
    assert _reasons(notes) == [Rejection.COUNTER_BACKWARDS]


def test_jitter_backwards_keeps_the_higher_baseline() -> None:
    """A counter stepping back by a rounding error is noise: the next step counts from the top."""
    counter, notes = CounterTracker(), []
    total = sum(counter.increment(v, t, notes) for v, t in [(10.0, 0), (9.995, 60), (10.1, 120)])
    assert round(total, 6) == 0.1


def test_an_absurd_jump_is_refused_and_rebased() -> None:
    """A glitch to a billion kWh counts nothing, neither does the way back."""
    counter, notes = CounterTracker(), []
    steps = [(10.0, 0), (1e9, 60), (10.2, 120), (10.3, 180)]
    total = sum(counter.increment(value, at, notes) for value, at in steps)
    assert round(total, 6) == 0.1
    assert _reasons(notes) == [Rejection.ABSURD_VALUE, Rejection.COUNTER_BACKWARDS]


def test_a_transient_zero_then_the_stored_counter_counts_nothing_twice() -> None:
    """Some plugs report 0 right after booting, then their stored counter a minute later: the
    way back up is not consumption; what follows counts again."""
    counter, notes = CounterTracker(), []
    steps = [(100.0, 0), (0.0, 60), (100.05, 120), (101.05, 3720)]
    total = sum(counter.increment(value, at, notes) for value, at in steps)
    assert round(total, 6) == 1.0
    assert _reasons(notes) == [Rejection.COUNTER_BACKWARDS, Rejection.ABSURD_VALUE]


@given(
    st.lists(
        st.tuples(st.floats(0, 1e6, allow_nan=False), st.floats(0, 7200, allow_nan=False)),
        max_size=40,
    )
)
def test_counted_energy_never_decreases_nor_exceeds_what_is_plausible(
    steps: list[tuple[float, float]],
) -> None:
    """Whatever a counter reports, increments are never negative and never beyond 100 kW."""
    counter, notes, now = CounterTracker(), [], 0.0
    for value, elapsed in steps:
        now += elapsed
        increment = counter.increment(value, now, notes)
        assert 0.0 <= increment <= 100.0 * elapsed / 3600 + 1.0 + 1e-9


def test_a_plug_reading() -> None:
    """Power, switch state and integrated energy from one plug's messages."""
    meter = DeviceMeter(PLUG, frozenset({"power", "state", "linkquality"}))
    first = meter.read({"power": 1200, "state": "ON", "linkquality": 80}, 0.0)
    assert (first.power_w, first.switch_on, first.imported_kwh, first.notes) == (
        1200.0,
        True,
        0.0,
        [],
    )
    second = meter.read({"power": 0, "state": "OFF"}, 3600.0)
    assert (second.power_w, second.switch_on, second.imported_kwh) == (0.0, False, 1.2)
    third = meter.read({"state": "TOGGLING"}, 3700.0)
    assert (third.power_w, third.switch_on, third.imported_kwh) == (None, None, 0.0)


def test_bad_values_are_noted_and_never_counted() -> None:
    """Strings, negatives, NaN, absurd powers and unknown properties are noted once each.

    Zigbee2MQTT publishes numeric exposes as JSON numbers (the reference captures' state
    messages); a number sent as a string is not a reading."""
    meter = DeviceMeter(METER, frozenset({"power", "energy"}))
    meter.read({"power": 100, "energy": 5.0}, 0.0)
    reading = meter.read({"power": "250", "energy": "5.5", "mystery": 1}, 60.0)
    assert (reading.power_w, reading.imported_kwh) == (None, 0.0)
    assert _reasons(reading.notes) == [
        Rejection.UNKNOWN_PROPERTY,
        Rejection.NUMBER_AS_STRING,
        Rejection.NUMBER_AS_STRING,
    ]
    assert meter.unknown_properties == {"mystery"}
    for payload, reason in [
        ({"power": -5}, Rejection.NEGATIVE_VALUE),
        ({"power": "NaN"}, Rejection.NUMBER_AS_STRING),
        ({"power": float("nan")}, Rejection.NOT_FINITE),
        ({"power": 6553500}, Rejection.ABSURD_VALUE),
        ({"power": "lots"}, Rejection.NOT_A_NUMBER),
        ({"energy": -1}, Rejection.NEGATIVE_VALUE),
        ({"mystery": 2}, None),
    ]:
        reading = meter.read(payload, 120.0)
        assert reading.power_w is None
        assert reading.imported_kwh == 0.0
        assert _reasons(reading.notes) == ([reason] if reason else [])


def test_a_linky_reading_sums_its_registers() -> None:
    """Historic HC/HP: both registers count; apparent power is the grid power; PREF in VA."""
    meter = DeviceMeter(LINKY, LINKY.watched_properties)
    meter.read({"current_tier1_summ_delivered": 1000, "current_tier2_summ_delivered": 2000}, 0)
    reading = meter.read(
        {
            "current_tier1_summ_delivered": 1001,
            "current_tier2_summ_delivered": 2002,
            "apparent_power": 3200,
            "available_power": 9,
        },
        3600,
    )
    assert reading.imported_kwh == 3.0
    assert (reading.power_w, reading.apparent_power_va, reading.reference_power_va) == (
        3200.0,
        3200.0,
        9000.0,
    )


def test_replanning_keeps_the_baselines_of_properties_still_read() -> None:
    """A new plan does not recount a counter's whole value."""
    meter = DeviceMeter(METER, frozenset({"power", "energy"}))
    meter.read({"energy": 7.0}, 0)
    meter.replan(METER, frozenset({"power", "energy"}))
    assert meter.read({"energy": 7.25}, 60).imported_kwh == 0.25
    meter.replan(PLUG, frozenset({"power"}))
    meter.replan(METER, frozenset({"power", "energy"}))
    assert meter.read({"energy": 7.5}, 120).imported_kwh == 0.0  # baseline again, nothing counted
