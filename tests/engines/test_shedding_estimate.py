"""Shedding between two Linky readings (one a minute): the plugs tell of a load starting long before
the meter does. A 6 kVA contract and the user guide's defaults (shed delay 2 s)."""

from custom_components.energy_edge.engines.shedding import (
    LoadShed,
    LoadShedder,
    MeterSilent,
    OverloadStarted,
    Priority,
    ShedReason,
    TurnOff,
)

CAR, OVEN = "ev_charger", "oven"


def home_read_at_zero(meter_va: float = 4000) -> LoadShedder:
    """The car charges at 3 kW (managed, low priority); the oven (not managed) is off; the Linky
    reads the home at 0 s."""
    engine = LoadShedder(0.0)
    engine.set_load(CAR, name="Car", priority=Priority.LOW, managed=True)
    engine.set_load(OVEN, name="Oven", priority=Priority.HIGH, managed=False)
    engine.on_load_state(0.0, CAR, is_on=True, power_w=3000)
    engine.on_load_state(0.0, OVEN, is_on=True, power_w=0)
    assert engine.on_meter_reading(0.0, meter_va) == []
    return engine


def until_deadline(engine: LoadShedder, end: float) -> list[tuple[float, object]]:
    """Wake the engine at each deadline up to `end`, as Home Assistant's timer does."""
    log: list[tuple[float, object]] = []
    while (deadline := engine.next_deadline()) is not None and deadline <= end:
        log += [(deadline, action) for action in engine.on_time(deadline)]
    return log


def test_a_load_starting_between_readings_is_shed_a_shed_delay_after_its_plug_reports_it() -> None:
    """The oven starts at 10 s (2.5 kW): 4000 + 2500 VA is over the 6000 VA contract. The
    Linky would tell at 60 s; the oven's plug tells at once, and the car goes 2 s later."""
    engine = home_read_at_zero()
    assert engine.on_load_state(10.0, OVEN, power_w=2500) == []
    assert engine.status().measured_va == 6500
    log = until_deadline(engine, 59.0)
    assert log[:2] == [
        (12.0, OverloadStarted(6500, 6000, 6000)),
        (12.0, TurnOff(CAR, ShedReason.OVERLOAD)),
    ]


def test_an_estimate_under_the_contract_sheds_nothing() -> None:
    engine = home_read_at_zero(3000)
    engine.on_load_state(10.0, OVEN, power_w=2500)  # 5500 VA
    assert until_deadline(engine, 59.0) == []
    assert engine.status().overloaded is False


def test_an_estimate_over_for_less_than_the_shed_delay_sheds_nothing() -> None:
    engine = home_read_at_zero()
    engine.on_load_state(10.0, OVEN, power_w=2500)
    assert engine.on_load_state(11.0, OVEN, power_w=0) == []  # a short preheat burst
    assert until_deadline(engine, 59.0) == []


def test_the_next_meter_reading_corrects_the_estimate() -> None:
    """The oven's plug said 2.5 kW; the Linky reads less than that adds up to (the rest of the
    home drew less meanwhile): the meter is right, and nothing is shed."""
    engine = home_read_at_zero(3000)
    engine.on_load_state(10.0, OVEN, power_w=2500)
    assert engine.status().measured_va == 5500
    engine.on_meter_reading(60.0, 5100)
    status = engine.status()
    assert status.measured_va == 5100
    assert status.estimate is not None
    assert (status.estimate.meter_va, status.estimate.from_plugs) == (5100, False)


def test_the_meter_reading_that_shows_an_overload_sheds_as_before() -> None:
    """A load no plug measures (the heating): only the Linky can tell, and shedding acts a shed
    delay after its reading, as without plugs."""
    engine = home_read_at_zero()
    engine.on_meter_reading(60.0, 7000)
    assert until_deadline(engine, 62.0) == [
        (62.0, OverloadStarted(7000, 6000, 6000)),
        (62.0, TurnOff(CAR, ShedReason.OVERLOAD)),
    ]


def test_a_shed_loads_drop_counts_once() -> None:
    """The car is shed; Zigbee2MQTT publishes its OFF state with the last power (3000 W) beside
    it, then the power falls to 0: the estimate drops by the car's 3 kW once, and the Linky's
    next reading (which no longer sees the car) is taken as it is."""
    engine = home_read_at_zero()
    engine.on_load_state(10.0, OVEN, power_w=2500)
    until_deadline(engine, 12.0)
    actions = engine.on_load_state(13.0, CAR, is_on=False, power_w=3000)
    assert actions == [LoadShed(CAR, "Car", 3000, ShedReason.OVERLOAD)]
    assert engine.status().measured_va == 6500 - 3000
    engine.on_load_state(16.0, CAR, power_w=0)
    assert engine.status().measured_va == 6500 - 3000
    engine.on_meter_reading(60.0, 3500)
    assert engine.status().measured_va == 3500
    assert engine.status().overloaded is False


def test_plugs_do_not_keep_a_silent_meter_alive() -> None:
    """The estimate rests on the meter: without its readings for 3 minutes, the meter is silent
    whatever the plugs say, and nothing is decided on a stale estimate."""
    engine = home_read_at_zero()
    actions = []
    for second in range(10, 200, 10):
        actions += engine.on_load_state(float(second), OVEN, power_w=2500 if second % 20 else 0)
        actions += until_deadline(engine, second + 9.0)  # type: ignore[arg-type]
    assert any(isinstance(action, MeterSilent) for action in actions)
    assert engine.status().measured_va is None
    assert engine.status().estimate is None
    engine.on_load_state(200.0, OVEN, power_w=2500)
    assert engine.status().measured_va is None


def test_a_plug_gone_unavailable_keeps_its_load_until_the_next_reading() -> None:
    engine = home_read_at_zero(3000)
    engine.on_load_state(10.0, OVEN, power_w=2500)
    engine.load_unavailable(OVEN)
    assert engine.status().measured_va == 5500
    engine.on_meter_reading(60.0, 3000)  # the oven stopped meanwhile
    engine.on_load_state(70.0, OVEN, power_w=0)  # back: its stop is in the meter's reading
    assert engine.status().measured_va == 3000


def test_a_removed_load_no_longer_counts() -> None:
    engine = home_read_at_zero(3000)
    engine.on_load_state(10.0, OVEN, power_w=2500)
    engine.remove_load(OVEN)
    assert engine.status().measured_va == 3000
