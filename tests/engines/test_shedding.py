"""Load shedding in a simulated home with a 6 kVA contract (the defaults of the user guide)."""

from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_edge.engines.shedding import (
    LoadControl,
    LoadOverridden,
    LoadRestored,
    LoadShed,
    LoadShedder,
    LoadUnresponsive,
    MeterBack,
    MeterSilent,
    OverloadStarted,
    Priority,
    RestoreReason,
    SheddingError,
    SheddingErrorReason,
    SheddingSettings,
    ShedReason,
    TurnOff,
    TurnOn,
    _few_covering,
    _fewest_covering,
    _Load,
)

from .home import Appliance, SimulatedHome

LOW, MEDIUM, HIGH, CRITICAL = Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL


def turned_off(home: SimulatedHome) -> list[str]:
    return [load for _, load, on in home.commands() if not on]


def turned_on(home: SimulatedHome) -> list[str]:
    return [load for _, load, on in home.commands() if on]


def overload_at(home: SimulatedHome, at: float, base_va: float) -> None:
    """Run until `at`, then raise the uncontrolled load."""
    home.run_until(at)
    home.set_base(base_va)


# --- when and what is shed ------------------------------------------------------------------


def test_a_spike_shorter_than_the_shed_delay_sheds_nothing() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 10.5, 4500)  # 6500 VA, read at 11 s
    overload_at(home, 12.9, 3000)  # gone before the reading at 13 s
    home.run_for(60)
    assert turned_off(home) == []
    assert home.actions(OverloadStarted) == []


def test_an_overload_lasting_the_shed_delay_sheds_the_lowest_priority_first() -> None:
    home = SimulatedHome(
        [
            Appliance("dryer", 1000, HIGH),
            Appliance("ev_charger", 3000, MEDIUM),
            Appliance("water_heater", 1500, LOW),
            Appliance("freezer", 200, CRITICAL),
        ],
        base_va=0,
    )
    home.run_for(5)
    overload_at(home, 10.5, 1000)  # 6700 VA from the reading at 11 s
    home.run_for(30)
    assert home.commands() == [(13.0, "water_heater", False)]  # 11 s + the 2 s shed delay
    assert [a.measured_va for _, a in home.actions(OverloadStarted)] == [6700]
    assert [(at, e.load_id, e.power_w, e.reason) for at, e in home.actions(LoadShed)] == [
        (13.5, "water_heater", 1500, ShedReason.OVERLOAD)
    ]
    assert home.load_va == 5200


@pytest.mark.parametrize(
    ("powers", "excess", "shed"),
    [
        ({"a": 500, "b": 800, "c": 2500}, 2000, {"c"}),  # one load covers it
        ({"a": 2100, "b": 3000}, 2000, {"a"}),  # of equally few, the smallest total
        ({"a": 900, "b": 800, "c": 700}, 1550, {"a", "c"}),  # two needed: 900 + 700 suffice
    ],
)
def test_within_a_priority_the_fewest_loads_covering_the_excess_are_shed(
    powers: dict[str, float], excess: float, shed: set[str]
) -> None:
    home = SimulatedHome([Appliance(k, v) for k, v in powers.items()], base_va=0)
    overload_at(home, 0.5, 6000 + excess - sum(powers.values()) + 1)
    home.run_for(10)
    assert set(turned_off(home)) == shed


@pytest.mark.timeout(60)  # trying every subset of 101 loads among 150 would never end
def test_a_home_of_many_small_loads_sheds_as_few_as_cover_the_excess() -> None:
    """150 managed 10 W loads (chargers, lamps) and 1,001 VA too many: 101 of them go, at once."""
    home = SimulatedHome([Appliance(f"lamp_{n}", 10) for n in range(150)], base_va=0)
    overload_at(home, 0.5, 6000 + 1001 - 1500)
    home.run_for(10)
    assert len(turned_off(home)) == 101


@settings(max_examples=300)
@given(
    powers=st.lists(st.integers(1, 3000), min_size=1, max_size=9),
    share=st.floats(0.01, 1.0),
)
def test_a_choice_too_large_to_try_whole_still_takes_the_fewest_loads(
    powers: list[int], share: float
) -> None:
    """The quick choice for homes with many loads agrees with trying every subset on how few
    loads it takes, and covers the excess (its total may be a little larger)."""
    loads = [
        _Load(load_id=f"l{n}", name="", priority=LOW, managed=True, power_w=float(w))
        for n, w in enumerate(powers)
    ]
    excess = share * sum(powers)
    best = _fewest_covering(loads, excess)  # every subset tried: at most C(9, 4) = 126
    quick = _few_covering(sorted(loads, key=lambda load: -load.power_w), len(best), excess)
    assert len(quick) == len(best)
    assert len({load.load_id for load in quick}) == len(best)
    assert sum(load.power_w for load in quick) >= excess


def test_a_priority_that_cannot_cover_the_excess_goes_whole_and_the_next_makes_up() -> None:
    home = SimulatedHome(
        [
            Appliance("towel_rail", 500, LOW),
            Appliance("heater", 1000, MEDIUM),
            Appliance("ev_charger", 3000, MEDIUM),
            Appliance("dryer", 700, HIGH),
        ],
        base_va=0,
    )
    overload_at(home, 0.5, 6000 + 1200 - 5200)
    home.run_for(10)
    assert sorted(turned_off(home)) == ["heater", "towel_rail"]


def test_critical_and_unmanaged_loads_are_never_shed() -> None:
    home = SimulatedHome(
        [
            Appliance("freezer", 300, CRITICAL),
            Appliance("aquarium", 400, LOW, managed=False),
        ],
        base_va=0,
    )
    overload_at(home, 0.5, 6500)
    home.run_for(120)
    assert home.commands() == []
    assert len(home.actions(OverloadStarted)) == 1  # reported once, not at every reading
    assert home.engine.status().overloaded


def test_a_load_on_standby_is_not_shed_it_would_free_nothing() -> None:
    """The low-priority TV draws 3 W on standby: the EV goes alone, the TV is left alone."""

    def appliances() -> list[Appliance]:
        return [Appliance("tv", 3, LOW), Appliance("ev", 3000, MEDIUM)]

    home = SimulatedHome(appliances(), base_va=3000)
    overload_at(home, 0.5, 4000)  # 7003 VA
    home.run_for(30)
    assert turned_off(home) == ["ev"]
    assert [e.load_id for _, e in home.actions(LoadShed)] == ["ev"]
    standby_shed = SimulatedHome(
        appliances(), base_va=3000, settings=SheddingSettings(running_threshold_w=0)
    )
    overload_at(standby_shed, 0.5, 4000)
    standby_shed.run_for(30)
    assert turned_off(standby_shed) == ["tv", "ev"]  # what a 0 W threshold would do


def test_shedding_repeats_until_the_load_is_under_the_threshold() -> None:
    """The water heater said 1500 W but drew 500 W: the next load goes after another delay."""
    home = SimulatedHome(
        [Appliance("water_heater", 500, LOW, reported_w=1500), Appliance("ev", 3000, MEDIUM)],
        base_va=0,
    )
    overload_at(home, 0.5, 6000 + 1000 - 3500)
    home.run_for(30)
    assert [(at, load) for at, load, _ in home.commands()] == [
        (3.0, "water_heater"),  # read over at 1 s, shed at 3 s, off at 3.5 s
        (6.0, "ev"),  # first reading after that at 4 s, still over: shed at 6 s
    ]
    assert len(home.actions(OverloadStarted)) == 1
    assert home.load_va <= 6000


# --- restoring ------------------------------------------------------------------------------


def test_a_shed_load_comes_back_after_its_minimum_off_time_when_there_is_room() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    overload_at(home, 20.5, 1000)  # plenty of room: 1000 + 2000 < 4800
    home.run_for(600)
    assert home.commands() == [(3.0, "water_heater", False), (303.5, "water_heater", True)]
    assert [(at, e.reason) for at, e in home.actions(LoadRestored)] == [
        (304.0, RestoreReason.HEADROOM)
    ]


def test_a_load_comes_back_only_after_the_restore_delay_of_room() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    overload_at(home, 400.5, 1000)  # room appears long after the minimum off time
    home.run_for(600)
    assert turned_on(home) == ["water_heater"]
    assert home.commands()[1][0] == 401.0 + 60


def test_with_a_meter_read_once_a_minute_no_load_comes_back_on_one_old_reading() -> None:
    """The Linky reports once a minute: room seen at one reading must still be there at a reading
    taken a restore delay later, or cooking that started in between is overloaded again."""
    settings = SheddingSettings(restore_delay=timedelta(seconds=30))
    home = SimulatedHome(
        [Appliance("water_heater", 2000)], base_va=3000, settings=settings, reading_period=60
    )
    overload_at(home, 0.5, 4500)  # read at 60, shed at 62
    overload_at(home, 400.5, 500)  # room read at 420...
    overload_at(home, 430, 4500)  # ...gone at 430: the reading at 480 shows it
    home.run_for(600)
    assert home.commands() == [(62.0, "water_heater", False)]
    overload_at(home, 1100.5, 500)  # room read at 1140 and again at 1200
    home.run_for(300)
    assert home.commands()[1:] == [(1200.0, "water_heater", True)]


def test_restoring_follows_the_reverse_order_of_shedding() -> None:
    home = SimulatedHome(
        [Appliance("towel_rail", 1000, LOW), Appliance("ev", 2000, MEDIUM)], base_va=3000
    )
    overload_at(home, 0.5, 3500)  # 6500: the towel rail goes
    overload_at(home, 10.5, 5000)  # 7000: now the EV too
    overload_at(home, 20.5, 500)
    home.run_for(1000)
    assert turned_off(home) == ["towel_rail", "ev"]
    assert turned_on(home) == ["ev", "towel_rail"]
    restores = [at for at, _, on in home.commands() if on]
    assert restores[1] - restores[0] >= 60  # each waits a restore delay after the previous


def test_hysteresis_a_load_that_would_bring_the_home_over_80_percent_stays_off() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    overload_at(home, 20.5, 3000)  # 3000 + 2000 = 83% of 6000: no room to spare
    home.run_for(3600)
    assert home.commands() == [(3.0, "water_heater", False)]
    overload_at(home, home.now + 0.5, 2700)  # 2700 + 2000 = 78%
    home.run_for(3600)
    assert turned_on(home) == ["water_heater"]
    assert len(home.commands()) == 2  # and it stays on: no flapping


# --- the user's hand ------------------------------------------------------------------------


def test_a_shed_load_switched_on_by_hand_is_left_on() -> None:
    home = SimulatedHome(
        [Appliance("water_heater", 2000, LOW), Appliance("ev", 3000, MEDIUM)], base_va=0
    )
    overload_at(home, 0.5, 2000)  # 7000 VA
    home.run_for(10)
    assert turned_off(home) == ["water_heater"]
    home.switch_by_hand("water_heater", on=True)  # 7000 VA again
    home.run_for(600)
    assert turned_off(home) == ["water_heater", "ev"]  # the EV goes, not the water heater
    assert [e.load_id for _, e in home.actions(LoadOverridden)] == ["water_heater"]
    status = {load.load_id: load.control for load in home.engine.status().loads}
    assert status["water_heater"] is LoadControl.OVERRIDDEN


def test_a_managed_load_switched_on_by_hand_while_shedding_is_left_on() -> None:
    home = SimulatedHome(
        [Appliance("heater", 1500, LOW), Appliance("oven", 2500, LOW, on=False)],
        base_va=3000,
    )
    overload_at(home, 0.5, 5000)
    home.run_for(10)
    assert turned_off(home) == ["heater"]
    home.switch_by_hand("oven", on=True)  # 7500 VA: only the oven could be shed
    home.run_for(120)
    assert turned_off(home) == ["heater"]
    assert [e.load_id for _, e in home.actions(LoadOverridden)] == ["oven"]


def test_when_shedding_is_over_the_user_s_loads_are_managed_again() -> None:
    home = SimulatedHome([Appliance("water_heater", 1000), Appliance("ev", 3000)], base_va=0)
    overload_at(home, 0.5, 3000)  # 7000 VA: the water heater covers the excess
    home.run_for(10)
    home.switch_by_hand("water_heater", on=True)
    home.run_for(10)
    assert turned_off(home) == ["water_heater", "ev"]
    overload_at(home, home.now, 0)  # plenty of room: the EV comes back, shedding is over
    home.run_for(600)
    assert turned_on(home) == ["ev"]
    controls = {load.load_id: load.control for load in home.engine.status().loads}
    assert controls == {"water_heater": LoadControl.NONE, "ev": LoadControl.NONE}
    overload_at(home, home.now, 3000)  # a new overload: the water heater is fair game again
    home.run_for(10)
    assert turned_off(home) == ["water_heater", "ev", "water_heater"]


# --- Energy Edge's scheduler ----------------------------------------------------------------


def test_a_run_started_by_the_scheduler_while_shedding_is_no_override_its_load_can_be_shed() -> (
    None
):
    home = SimulatedHome(
        [Appliance("heater", 1500, LOW), Appliance("dishwasher", 2000, MEDIUM, on=False)],
        base_va=3000,
    )
    overload_at(home, 0.5, 5000)  # 6500 VA: the heater goes
    home.run_for(10)
    assert home.switch_by_schedule("dishwasher", on=True)  # 7000 VA while the heater is off
    home.run_for(30)
    assert turned_off(home) == ["heater", "dishwasher"]
    assert home.actions(LoadOverridden) == []
    assert home.load_va == 5000


def test_a_run_ended_by_the_scheduler_while_shedding_is_no_override() -> None:
    home = SimulatedHome(
        [Appliance("heater", 1500, LOW), Appliance("dishwasher", 2000, MEDIUM)], base_va=2000
    )
    overload_at(home, 0.5, 3000)  # 6500 VA: the heater goes
    home.run_for(10)
    assert home.switch_by_schedule("dishwasher", on=False)
    home.run_for(10)
    assert home.actions(LoadOverridden) == []
    assert home.switch_by_schedule("dishwasher", on=True)  # a new run, its load sheddable
    overload_at(home, home.now + 10, 4500)  # 6500 VA again
    home.run_for(30)
    assert turned_off(home) == ["heater", "dishwasher"]


def test_a_load_the_scheduler_is_turning_off_is_not_chosen_for_shedding() -> None:
    """The dishwasher's run ends as the home goes over: it is going anyway, the heater is shed,
    and the dishwasher is not brought back later."""
    home = SimulatedHome(
        [Appliance("heater", 1500, LOW), Appliance("dishwasher", 1000, LOW)],
        base_va=2000,
        switch_lag=3,
    )
    overload_at(home, 0.5, 4000)  # 6500 VA, read at 1 s: the dishwasher would cover it at 3 s
    home.run_until(2.5)
    assert home.switch_by_schedule("dishwasher", on=False)  # off at 5.5 s
    overload_at(home, 20, 1000)
    home.run_for(900)
    assert turned_off(home) == ["heater"]
    assert turned_on(home) == ["heater"]
    assert not home.appliances["dishwasher"].on
    assert home.actions(LoadUnresponsive) == []


def test_a_run_starting_while_its_load_is_shed_waits_for_shedding_to_restore_it() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    home.run_for(10)
    assert not home.switch_by_schedule("water_heater", on=True)
    home.run_for(60)
    assert home.commands() == [(3.0, "water_heater", False)]  # still off: the home is full
    overload_at(home, home.now, 1000)
    home.run_for(600)
    assert turned_on(home) == ["water_heater"]  # by shedding's rules
    assert home.actions(LoadOverridden) == []


def test_a_run_ending_while_its_load_is_shed_leaves_it_off_for_good() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    overload_at(home, 10, 1000)  # plenty of room: it would come back after its minimum off time
    home.run_for(120)
    assert home.switch_by_schedule("water_heater", on=False)  # but its run is over
    home.run_for(900)
    assert turned_on(home) == []
    assert home.engine.status().shed_loads == ()


def test_a_state_long_after_the_scheduler_s_switch_is_the_user_s_hand() -> None:
    """A plug that never confirmed the scheduler's ON, switched on by hand minutes later
    while shedding is under way, is left as the user set it."""
    home = SimulatedHome(
        [Appliance("heater", 1500, LOW), Appliance("oven", 2000, LOW, on=False, obeys_on=False)],
        base_va=3000,
    )
    overload_at(home, 0.5, 5000)
    home.run_for(10)
    home.switch_by_schedule("oven", on=True)
    home.run_for(60)
    home.switch_by_hand("oven", on=True)
    home.run_for(30)
    assert [e.load_id for _, e in home.actions(LoadOverridden)] == ["oven"]
    assert turned_off(home) == ["heater"]


# --- a silent meter -------------------------------------------------------------------------


def test_a_silent_meter_keeps_shed_loads_off_and_is_reported() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    home.run_for(10)
    home.stop_meter()
    home.set_base(0)  # the home is nearly empty, but nobody can see it
    home.run_for(3 * 3600)
    assert turned_on(home) == []
    assert [at for at, _ in home.actions(MeterSilent)] == [10.0 + 180]  # last reading at 10 s
    status = home.engine.status()
    assert status.meter_silent
    assert status.measured_va is None
    assert status.headroom_va is None
    assert [load.load_id for load in status.shed_loads] == ["water_heater"]

    back_at = home.now
    home.restart_meter()
    home.run_for(120)
    assert [at for at, _ in home.actions(MeterBack)] == [back_at]
    assert home.commands()[-1] == (back_at + 60, "water_heater", True)


def test_no_shedding_on_a_reading_that_went_stale() -> None:
    settings = SheddingSettings(
        shed_delay=timedelta(seconds=20), meter_silence_timeout=timedelta(seconds=10)
    )
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000, settings=settings)
    overload_at(home, 0.5, 4500)
    home.run_for(1)  # read over at 1 s, then the meter falls silent
    home.stop_meter()
    home.run_for(600)
    assert home.commands() == []
    assert [at for at, _ in home.actions(MeterSilent)] == [11.0]


def test_a_meter_that_never_reports_is_reported_silent() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    home.stop_meter()
    home.run_for(400)
    assert [at for at, _ in home.actions(MeterSilent)] == [180.0]


# --- loads that do not obey ------------------------------------------------------------------


def test_a_load_that_does_not_turn_off_is_flagged_and_the_next_is_shed() -> None:
    home = SimulatedHome(
        [Appliance("heater", 1500, LOW, obeys_off=False), Appliance("ev", 3000, MEDIUM)],
        base_va=1000,
    )
    overload_at(home, 0.5, 3000)  # 7500 VA
    home.run_for(60)
    assert home.commands() == [(3.0, "heater", False), (13.0, "ev", False)]
    assert [(at, e.load_id, e.expected_on) for at, e in home.actions(LoadUnresponsive)] == [
        (13.0, "heater", False)
    ]
    assert [load.load_id for load in home.engine.status().unresponsive_loads] == ["heater"]


def test_a_load_that_turns_off_late_counts_as_shed_and_comes_back() -> None:
    home = SimulatedHome(
        [Appliance("heater", 1500, LOW, obeys_off=False), Appliance("ev", 3000, MEDIUM)],
        base_va=1000,
    )
    overload_at(home, 0.5, 3000)
    home.run_for(60)
    home.switch_by_hand("heater", on=False)  # the Zigbee message finally got through
    assert [e.load_id for _, e in home.actions(LoadShed)] == ["ev", "heater"]
    overload_at(home, home.now, 0)
    home.run_for(900)
    assert turned_on(home) == ["ev", "heater"]


def test_a_load_that_does_not_come_back_is_flagged_and_tried_again() -> None:
    home = SimulatedHome([Appliance("heater", 1500, obeys_on=False)], base_va=3000)
    overload_at(home, 0.5, 5000)
    overload_at(home, 10, 0)
    home.run_for(420)
    ons = [at for at, _, on in home.commands() if on]
    assert ons[0] == 303.5
    assert home.actions(LoadUnresponsive)[0] == (313.5, LoadUnresponsive("heater", "Heater", True))
    assert ons[1] >= 313.5 + 60  # a full restore delay of readings after the failure


# --- user requests --------------------------------------------------------------------------


def test_the_user_can_shed_a_load_now_and_it_comes_back_by_the_rules() -> None:
    home = SimulatedHome([Appliance("ev", 3000, MEDIUM, managed=False)], base_va=1000)
    home.run_for(5)
    home.record(home.engine.shed_now(home.now, "ev"))
    home.run_for(600)
    assert home.commands() == [(5.0, "ev", False), (305.5, "ev", True)]
    assert [e.reason for _, e in home.actions(LoadShed)] == [ShedReason.USER_REQUEST]


@pytest.mark.parametrize(
    ("load_id", "reason"),
    [
        ("freezer", SheddingErrorReason.CRITICAL_LOAD),
        ("nothing", SheddingErrorReason.UNKNOWN_LOAD),
        ("oven", SheddingErrorReason.NOT_RUNNING),
        ("water_heater", SheddingErrorReason.ALREADY_SHED),
    ],
)
def test_a_request_to_shed_that_cannot_be_met_says_why(
    load_id: str, reason: SheddingErrorReason
) -> None:
    home = SimulatedHome(
        [
            Appliance("freezer", 200, CRITICAL),
            Appliance("oven", 2000, on=False),
            Appliance("water_heater", 2000),
        ],
        base_va=0,
    )
    home.record(home.engine.shed_now(0.0, "water_heater"))
    with pytest.raises(SheddingError) as caught:
        home.engine.shed_now(0.0, load_id)
    assert caught.value.reason is reason


def test_restore_all_brings_every_shed_load_back_at_once() -> None:
    home = SimulatedHome(
        [Appliance("towel_rail", 1000, LOW), Appliance("ev", 3000, MEDIUM)], base_va=0
    )
    overload_at(home, 0.5, 3500)  # 7500: the towel rail and the EV must both go
    home.run_for(10)
    assert turned_off(home) == ["towel_rail", "ev"]
    home.record(home.engine.restore_all(home.now))
    home.run_for(1)
    assert turned_on(home) == ["ev", "towel_rail"]
    assert {e.reason for _, e in home.actions(LoadRestored)} == {RestoreReason.USER_REQUEST}


def test_after_a_restart_shed_loads_are_taken_back_and_restored_by_the_rules() -> None:
    engine = LoadShedder(1000.0)
    for load_id in ("water_heater", "ev", "dryer"):
        engine.set_load(load_id, name=load_id, priority=LOW, managed=True)
    engine.on_load_state(1000.0, "dryer", is_on=True, power_w=2000)
    stored = {"water_heater": 2400.0, "ev": 3000.0, "dryer": 2000.0, "unknown": 10.0}
    assert engine.adopt_shed_loads(1000.0, stored) == ["water_heater", "ev"]
    shed = engine.status().shed_loads
    assert [(s.load_id, s.last_on_power_w) for s in shed] == [("water_heater", 2400), ("ev", 3000)]
    assert engine.on_load_state(1001.0, "ev", is_on=True) == [
        LoadOverridden("ev", "ev", is_on=True)
    ]
    for second in range(1001, 1400):
        actions = engine.on_meter_reading(float(second), 500)
        if actions:
            break
    assert actions == [TurnOn("water_heater", RestoreReason.HEADROOM)]
    assert second == 1300  # the minimum off time counts from the restart


# --- settings, status and bad input ---------------------------------------------------------


def test_lowering_the_contract_limit_sheds_at_once_when_over() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    home.run_for(5)
    lower = replace(home.engine.settings, contract_limit_va=4500)
    home.record(home.engine.update_settings(home.now, lower))
    home.run_for(10)
    assert home.commands() == [(7.0, "water_heater", False)]  # read over at 5 s, +2 s


def test_status_reports_headroom_and_shed_loads() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000), Appliance("tv", 100)], base_va=3000)
    home.run_for(5)
    status = home.engine.status()
    assert (status.measured_va, status.headroom_va, status.overloaded) == (5100, 900, False)
    overload_at(home, 5.5, 4500)
    home.run_for(2.6)  # read over at 6 s, shed at 8 s
    status = home.engine.status()
    assert status.overloaded
    assert status.headroom_va == -600
    assert [load.control for load in status.shed_loads] == [LoadControl.TURNING_OFF]
    home.run_for(1)
    shed = home.engine.status().shed_loads
    assert [(load.load_id, load.last_on_power_w, load.power_w) for load in shed] == [
        ("water_heater", 2000, 0)
    ]


def test_next_deadline_says_when_time_alone_matters() -> None:
    engine = LoadShedder(0.0)
    assert engine.next_deadline() == 180.0  # the meter would be silent by then
    engine.set_load("heater", name="Heater", priority=LOW, managed=True)
    engine.on_load_state(0.0, "heater", is_on=True, power_w=2000)
    engine.on_meter_reading(10.0, 6500)
    assert engine.next_deadline() == 12.0
    assert engine.on_time(12.0) == [
        OverloadStarted(6500, 6000, 6000),
        TurnOff("heater", ShedReason.OVERLOAD),
    ]
    assert engine.next_deadline() == 22.0  # the switch timeout
    engine.on_time(190.0)
    assert engine.status().meter_silent
    assert engine.next_deadline() is None


def test_status_lists_loads_kept_off_in_shedding_order_then_the_others() -> None:
    home = SimulatedHome(
        [Appliance("b_heater", 1000), Appliance("z_ev", 3000), Appliance("c_tv", 100, HIGH)],
        base_va=1000,
    )
    overload_at(home, 0.5, 3000)  # 7100: the EV alone covers the excess
    home.run_for(10)
    assert [load.load_id for load in home.engine.status().loads] == ["z_ev", "b_heater", "c_tv"]
    assert [load.load_id for load in home.engine.status().shed_loads] == ["z_ev"]


def test_a_removed_load_is_forgotten() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    overload_at(home, 10.5, 0)
    home.run_for(100)
    home.engine.remove_load("water_heater")
    home.engine.remove_load("never_known")
    assert home.engine.status().loads == ()


def test_a_load_s_settings_can_change_while_it_is_shed() -> None:
    home = SimulatedHome([Appliance("water_heater", 2000)], base_va=3000)
    overload_at(home, 0.5, 4500)
    home.run_for(10)
    home.engine.set_load("water_heater", name="Boiler", priority=CRITICAL, managed=False)
    overload_at(home, home.now, 0)
    home.run_for(600)
    assert turned_on(home) == ["water_heater"]  # still comes back
    assert home.engine.status().loads[0].name == "Boiler"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.on_meter_reading(5.0, float("nan")), "measured load must be finite"),
        (lambda e: e.on_meter_reading(5.0, -1), "measured load must be finite"),
        (lambda e: e.on_load_state(5.0, "heater", power_w=-3), "power of Heater must be"),
        (lambda e: e.on_time(1.0), "monotonic time went backwards"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(call: object, message: str) -> None:
    engine = LoadShedder(0.0)
    engine.set_load("heater", name="Heater", priority=LOW, managed=True)
    engine.on_load_state(2.0, "heater", is_on=True, power_w=1000)
    engine.on_meter_reading(2.0, 3000)
    before = engine.status()
    with pytest.raises(ValueError, match=message):
        call(engine)  # type: ignore[operator]
    assert engine.status() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"contract_limit_va": 0}, "contract limit must be > 0"),
        ({"restore_threshold_pct": 100}, "restore threshold must be above 0%"),
        ({"shed_delay": timedelta(seconds=-1)}, "cannot be negative"),
        ({"switch_timeout": timedelta(0)}, "must be > 0"),
        ({"running_threshold_w": float("nan")}, "running threshold must be finite"),
        ({"running_threshold_w": -1}, "running threshold must be finite"),
    ],
)
def test_inconsistent_settings_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SheddingSettings(**changes)  # type: ignore[arg-type]


def test_a_load_s_new_power_under_the_limit_is_taken_quietly_and_sheds_by_it_later() -> None:
    """A load left alone reporting its power while the home is under its limit decides nothing;
    the power is still the one shedding goes by when the overload comes."""
    engine = LoadShedder(0.0, SheddingSettings(shed_delay=timedelta(0)))
    engine.set_load("heater", name="heater", priority=MEDIUM, managed=True)
    engine.set_load("oven", name="oven", priority=HIGH, managed=True)
    assert engine.on_load_state(0.0, "heater", is_on=True, power_w=500) == []
    assert engine.on_load_state(0.0, "oven", is_on=True, power_w=2000) == []
    # Before the meter's first reading there is no estimate for the report to move.
    assert engine.note_load_power(0.5, "heater", is_on=True, power_w=1500)
    assert engine.status().loads[0].last_on_power_w == 1500
    assert engine.on_meter_reading(1.0, 4000) == []
    # 1000 VA over: the heater's 1500 W, its last report, is enough; the oven stays on.
    actions = engine.on_meter_reading(3.0, 7000)
    assert TurnOff("heater", ShedReason.OVERLOAD) in actions
    assert all(not isinstance(a, TurnOff) or a.load_id == "heater" for a in actions)


def test_a_report_that_may_decide_something_is_not_taken_quietly() -> None:
    engine = LoadShedder(0.0, SheddingSettings(shed_delay=timedelta(seconds=2)))
    engine.set_load("heater", name="heater", priority=MEDIUM, managed=True)
    assert not engine.note_load_power(0.0, "nowhere", power_w=10)  # unknown load
    assert not engine.note_load_power(0.0, "heater", is_on=True, power_w=1500)  # first state
    engine.on_load_state(0.0, "heater", is_on=True, power_w=1500)
    assert not engine.note_load_power(1.0, "heater", is_on=False, power_w=0)  # switched by hand
    assert not engine.note_load_power(1.0, "heater", is_on=True)  # no power
    assert not engine.note_load_power(1.0, "heater", power_w=-5)  # refused by on_load_state
    engine.on_meter_reading(1.0, 3000)
    # A new draw moves the estimate of the home's load: quiet while it stays under the limit...
    assert engine.note_load_power(1.0, "heater", is_on=True, power_w=2500)
    assert engine.measured_va == 4000
    # ... not when it takes the home over it (6000 VA by default).
    assert not engine.note_load_power(1.0, "heater", is_on=True, power_w=5000)
    assert engine.measured_va == 6500
    engine.on_meter_reading(1.0, 7000)  # over the limit, within the shed delay
    assert not engine.note_load_power(2.0, "heater", is_on=True, power_w=1600)
    assert not engine.note_load_power(0.5, "heater", is_on=True, power_w=1600)  # time went back
