"""Properties of load shedding that hold in every home hypothesis can think of."""

from datetime import timedelta

from hypothesis import given, settings, strategies as st

from custom_components.energy_edge.engines.shedding import (
    LoadShedder,
    Priority,
    SheddingAction,
    SheddingError,
    SheddingSettings,
    TurnOff,
)

from .home import Appliance, SimulatedHome, over_limit_spells

LOAD_IDS = [f"load_{n}" for n in range(6)]
# Hypothesis favours the first choices and small numbers: put first what gives shedding work.
MOSTLY_TRUE = st.sampled_from([True, True, True, False])
SHEDDABLE_FIRST = [Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL]


@st.composite
def homes(draw: st.DrawFn) -> tuple[SimulatedHome, list[tuple[float, float]]]:
    """A home with a few loads and a contract, and a day's worth of uncontrolled load changes."""
    appliances = [
        Appliance(
            load_id,
            power_w=draw(st.integers(300, 3500)),
            priority=draw(st.sampled_from(SHEDDABLE_FIRST)),
            managed=draw(MOSTLY_TRUE),
            on=draw(MOSTLY_TRUE),
        )
        for load_id in LOAD_IDS[: draw(st.integers(2, len(LOAD_IDS)))]
    ]
    shedding = SheddingSettings(
        contract_limit_va=draw(st.sampled_from([6000, 6000, 9000])),
        shed_delay=timedelta(seconds=draw(st.integers(1, 5))),
        restore_delay=timedelta(seconds=draw(st.integers(0, 120))),
        min_off_time=timedelta(seconds=draw(st.integers(0, 600))),
    )
    home = SimulatedHome(
        appliances,
        base_va=draw(st.integers(0, 4000)),
        settings=shedding,
        reading_period=draw(st.sampled_from([0.5, 1.0, 2.0])),
        switch_lag=draw(st.sampled_from([0.1, 0.5, 1.0])),
    )
    limit_va = shedding.contract_limit_va
    changes = draw(
        st.lists(st.tuples(st.integers(10, 300), st.integers(-3000, 2500)), min_size=3, max_size=10)
    )
    return home, [(float(gap), max(0.0, limit_va - 1500 + offset)) for gap, offset in changes]


def live(home: SimulatedHome, changes: list[tuple[float, float]]) -> None:
    """The changes, then a quiet quarter of an hour in which shed loads come back."""
    for gap, base_va in changes:
        home.run_for(gap)
        home.set_base(base_va)
    home.run_for(60)
    home.set_base(0)
    home.run_for(900)


@settings(max_examples=60, deadline=None)
@given(scenario=homes())
def test_the_limit_is_not_exceeded_longer_than_the_shed_delay_while_enough_load_can_go(
    scenario: tuple[SimulatedHome, list[tuple[float, float]]],
) -> None:
    """Beyond the shed delay, only the time to read the meter and to switch a plug (at most
    twice: a switch already under way, then ours) may pass."""
    home, changes = scenario
    live(home, changes)
    settings = home.engine.settings
    allowed = settings.shed_delay.total_seconds() + home.reading_period + 2 * home.switch_lag
    for spell in over_limit_spells(home, settings.contract_limit_va):
        if spell.sheddable_w >= spell.excess_va:
            assert spell.end - spell.start <= allowed + 1e-9, spell


@settings(max_examples=60, deadline=None)
@given(scenario=homes())
def test_no_load_is_switched_back_on_within_its_minimum_off_time(
    scenario: tuple[SimulatedHome, list[tuple[float, float]]],
) -> None:
    """Commands to a load alternate OFF, ON, OFF..., an ON never sooner than the minimum off
    time after the OFF."""
    home, changes = scenario
    live(home, changes)
    min_off_s = home.engine.settings.min_off_time.total_seconds()
    for load_id in home.appliances:
        commands = [(at, on) for at, load, on in home.commands() if load == load_id]
        assert [on for _, on in commands] == [n % 2 == 1 for n in range(len(commands))]
        for (off_at, _), (on_at, _) in zip(commands[::2], commands[1::2], strict=False):
            assert on_at - off_at >= min_off_s


operations = st.lists(
    st.one_of(
        st.tuples(st.just("reading"), st.floats(0, 12000)),
        st.tuples(st.just("wait"), st.floats(0, 400)),
        st.tuples(st.just("state"), st.sampled_from(LOAD_IDS), st.booleans(), st.floats(0, 4000)),
        st.tuples(st.just("shed_now"), st.sampled_from(LOAD_IDS)),
        st.tuples(st.just("restore_all")),
        st.tuples(st.just("priority"), st.sampled_from(LOAD_IDS), st.sampled_from(Priority)),
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(priorities=st.lists(st.sampled_from(Priority), min_size=6, max_size=6), ops=operations)
def test_a_critical_load_is_never_shed(priorities: list[Priority], ops: list[tuple]) -> None:  # type: ignore[type-arg]
    """Whatever happens: readings, time, loads switched by hand, user requests, priorities
    changed on the fly, loads that obey or not."""
    now = 0.0
    engine = LoadShedder(now)
    priority = dict(zip(LOAD_IDS, priorities, strict=True))
    for load_id in LOAD_IDS:
        engine.set_load(load_id, name=load_id, priority=priority[load_id], managed=True)

    def check(actions: list[SheddingAction]) -> None:
        for action in actions:
            if isinstance(action, TurnOff):
                assert priority[action.load_id] is not Priority.CRITICAL

    for op in ops:
        now += 0.5
        match op:
            case ("reading", va):
                check(engine.on_meter_reading(now, va))
            case ("wait", seconds):
                deadline = engine.next_deadline()
                while deadline is not None and deadline <= now + seconds:
                    check(engine.on_time(deadline))
                    deadline = engine.next_deadline()
                now += seconds
            case ("state", load_id, is_on, power_w):
                check(engine.on_load_state(now, load_id, is_on=is_on, power_w=power_w))
            case ("shed_now", load_id):
                try:
                    check(engine.shed_now(now, load_id))
                except SheddingError:
                    pass
                else:
                    assert priority[load_id] is not Priority.CRITICAL
            case ("restore_all",):
                check(engine.restore_all(now))
            case ("priority", load_id, new_priority):
                priority[load_id] = new_priority
                engine.set_load(load_id, name=load_id, priority=new_priority, managed=True)
