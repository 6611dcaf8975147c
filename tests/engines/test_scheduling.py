"""Deferrable loads run in the cheapest window that fits the contract before the deadline."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_edge.engines.scheduling import (
    ExpectedLoad,
    LoadForecast,
    PlannedRun,
    RunPhase,
    SchedulingError,
    SchedulingErrorReason,
    plan_run,
)
from custom_components.energy_edge.engines.tariff import Period, PriceSlot, Tariff, TempoColor

from .conftest import PARIS, paris

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def plan_on(
    tariff: Tariff,
    *,
    now: datetime,
    deadline: datetime,
    duration: timedelta,
    power_w: float = 2000,
    colors: dict[date, TempoColor] | None = None,
    forecast: LoadForecast | None = None,
    contract_limit_va: float = 6000,
) -> PlannedRun:
    return plan_run(
        load_id="water_heater",
        power_w=power_w,
        duration=duration,
        deadline=deadline,
        earliest_start=now,
        prices=tariff.price_calendar(now, deadline, colors or {}),
        contract_limit_va=contract_limit_va,
        forecast=forecast,
    )


def test_a_dishwasher_waits_for_off_peak_hours(hphc: Tariff) -> None:
    run = plan_on(
        hphc, now=paris(2026, 1, 15, 19, 12), deadline=paris(2026, 1, 16, 7), duration=2 * HOUR
    )
    assert (run.start, run.end) == (paris(2026, 1, 15, 22), paris(2026, 1, 16, 0))
    assert run.expected_cost == pytest.approx(2 * 2 * 0.1635)
    assert not run.prices_assumed


def test_a_run_is_planned_at_most_a_week_ahead(hphc: Tariff) -> None:
    """A deferrable load waits hours, not months: a week is the furthest deadline."""
    now = paris(2026, 1, 15, 19, 12)
    run = plan_on(hphc, now=now, deadline=now + timedelta(days=7), duration=2 * HOUR)
    assert run.end <= now + timedelta(days=7)
    with pytest.raises(SchedulingError) as refused:
        plan_on(hphc, now=now, deadline=now + timedelta(days=7, minutes=1), duration=2 * HOUR)
    assert refused.value.reason is SchedulingErrorReason.DEADLINE_TOO_FAR


def test_a_run_longer_than_the_off_peak_hours_covers_as_many_as_it_can(hphc: Tariff) -> None:
    run = plan_on(
        hphc, now=paris(2026, 1, 15, 12), deadline=paris(2026, 1, 16, 12), duration=10 * HOUR
    )
    assert run.expected_cost == pytest.approx(2 * (8 * 0.1635 + 2 * 0.2081))
    assert paris(2026, 1, 15, 20) <= run.start <= paris(2026, 1, 15, 22)
    assert run.start == paris(2026, 1, 15, 20)  # of equally cheap windows, the earliest


def test_a_run_starts_now_when_now_is_cheapest(hphc: Tariff) -> None:
    now = paris(2026, 1, 15, 23, 17, 42)
    run = plan_on(hphc, now=now, deadline=paris(2026, 1, 16, 7), duration=HOUR)
    assert run.start == now


def test_tempo_prefers_tonight_over_an_unknown_tomorrow(tempo: Tariff) -> None:
    """Tonight's off-peak hours belong to today's (known) Tempo day."""
    colors = {date(2026, 1, 15): TempoColor.WHITE}
    run = plan_on(
        tempo,
        now=paris(2026, 1, 15, 12),
        deadline=paris(2026, 1, 16, 22),
        duration=3 * HOUR,
        colors=colors,
    )
    assert run.start == paris(2026, 1, 15, 22)
    assert not run.prices_assumed


def test_tempo_avoids_a_red_day_for_a_known_blue_one(tempo: Tariff) -> None:
    colors = {date(2026, 1, 15): TempoColor.RED, date(2026, 1, 16): TempoColor.BLUE}
    run = plan_on(
        tempo,
        now=paris(2026, 1, 15, 7),
        deadline=paris(2026, 1, 16, 20),
        duration=10 * HOUR,  # longer than a night: some peak hours are unavoidable
        colors=colors,
    )
    assert run.start >= paris(2026, 1, 16, 6) - 8 * HOUR  # no red peak hour
    assert run.expected_cost == pytest.approx(2 * (8 * 0.1518 + 2 * 0.1552))


def test_a_run_on_a_day_of_unknown_colour_says_its_price_was_assumed(tempo: Tariff) -> None:
    run = plan_on(tempo, now=paris(2026, 1, 16, 7), deadline=paris(2026, 1, 16, 12), duration=HOUR)
    assert run.prices_assumed
    assert run.expected_cost == pytest.approx(2 * 0.6586)  # a winter Friday could be red


def test_a_run_moves_to_where_the_contract_leaves_room(hphc: Tariff) -> None:
    """Electric heating fills the contract from 22:00 to 02:00: the water heater goes after."""
    heating = ExpectedLoad(start=paris(2026, 1, 15, 22), end=paris(2026, 1, 16, 2), load_va=3500)
    run = plan_on(
        hphc,
        now=paris(2026, 1, 15, 20),
        deadline=paris(2026, 1, 16, 7),
        duration=3 * HOUR,
        power_w=2400,
        forecast=LoadForecast(baseline_va=500, extras=(heating,)),
    )
    assert (run.start, run.end) == (paris(2026, 1, 16, 2), paris(2026, 1, 16, 5))


def test_two_planned_loads_do_not_overload_the_contract_together(hphc: Tariff) -> None:
    """The water heater's run is expected load when the EV is planned: they take turns."""
    night = {"now": paris(2026, 1, 15, 20), "deadline": paris(2026, 1, 16, 6)}
    water_heater = plan_on(hphc, **night, duration=3 * HOUR, power_w=2400)
    ev = plan_on(
        hphc,
        **night,
        duration=4 * HOUR,
        power_w=3700,
        forecast=LoadForecast(baseline_va=300, extras=(water_heater.as_expected_load(),)),
    )
    assert (water_heater.start, water_heater.end) == (paris(2026, 1, 15, 22), paris(2026, 1, 16, 1))
    assert (ev.start, ev.end) == (paris(2026, 1, 16, 1), paris(2026, 1, 16, 5))


def test_a_deadline_too_close_is_a_clear_error(hphc: Tariff) -> None:
    with pytest.raises(SchedulingError, match="cannot end by") as caught:
        plan_on(
            hphc, now=paris(2026, 1, 15, 22), deadline=paris(2026, 1, 15, 23), duration=2 * HOUR
        )
    assert caught.value.reason is SchedulingErrorReason.DEADLINE_TOO_CLOSE


def test_a_deadline_in_the_past_is_too_close(hphc: Tariff) -> None:
    with pytest.raises(SchedulingError) as caught:
        plan_run(
            load_id="ev",
            power_w=3000,
            duration=HOUR,
            deadline=paris(2026, 1, 15, 8),
            earliest_start=paris(2026, 1, 15, 9),
            prices=[],
            contract_limit_va=6000,
        )
    assert caught.value.reason is SchedulingErrorReason.DEADLINE_TOO_CLOSE


def test_a_load_that_never_fits_is_a_clear_error(hphc: Tariff) -> None:
    with pytest.raises(SchedulingError, match="leaves room for 7000 W") as caught:
        plan_on(
            hphc,
            now=paris(2026, 1, 15, 20),
            deadline=paris(2026, 1, 16, 7),
            duration=HOUR,
            power_w=7000,
        )
    assert caught.value.reason is SchedulingErrorReason.NO_FEASIBLE_WINDOW


@pytest.mark.parametrize(
    ("power_w", "duration", "message"),
    [(2000, timedelta(0), "duration must be > 0"), (float("nan"), HOUR, "power must be >= 0")],
)
def test_an_invalid_request_is_a_clear_error(
    hphc: Tariff, power_w: float, duration: timedelta, message: str
) -> None:
    with pytest.raises(SchedulingError, match=message) as caught:
        plan_on(
            hphc,
            now=paris(2026, 1, 15, 20),
            deadline=paris(2026, 1, 16, 7),
            duration=duration,
            power_w=power_w,
        )
    assert caught.value.reason is SchedulingErrorReason.INVALID_REQUEST


def test_a_calendar_with_a_gap_is_refused(hphc: Tariff) -> None:
    slots = hphc.price_calendar(paris(2026, 1, 15, 20), paris(2026, 1, 16, 7))
    with pytest.raises(SchedulingError, match="no price known from") as caught:
        plan_run(
            load_id="ev",
            power_w=3000,
            duration=HOUR,
            deadline=paris(2026, 1, 16, 7),
            earliest_start=paris(2026, 1, 15, 20),
            prices=[slots[0], *slots[2:]],
            contract_limit_va=6000,
        )
    assert caught.value.reason is SchedulingErrorReason.PRICES_MISSING


def test_an_expected_load_must_be_a_number() -> None:
    with pytest.raises(ValueError, match="must be finite"):
        ExpectedLoad(start=paris(2026, 1, 1), end=paris(2026, 1, 2), load_va=float("inf"))


# --- the plan across restarts ----------------------------------------------------------------


def test_a_plan_survives_a_restart_and_knows_where_it_stands(hphc: Tariff) -> None:
    run = plan_on(
        hphc, now=paris(2026, 1, 15, 19), deadline=paris(2026, 1, 16, 7), duration=2 * HOUR
    )
    restored = PlannedRun.from_dict(json.loads(json.dumps(run.to_dict())))
    assert restored == run
    assert restored.phase_at(paris(2026, 1, 15, 21)) is RunPhase.WAITING
    assert restored.phase_at(paris(2026, 1, 15, 23)) is RunPhase.RUNNING
    assert restored.phase_at(paris(2026, 1, 16, 0)) is RunPhase.DONE


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"load_id": None}, "expected text"),
        ({"power_w": "2000"}, "expected a finite number"),
        ({"start": "22:00"}, "Invalid isoformat"),
        ({"end": "2026-01-15T21:00:00+00:00"}, "stored plan is damaged"),
        ({"prices_assumed": "no"}, "expected true or false"),
    ],
)
def test_a_damaged_plan_is_refused_clearly(
    hphc: Tariff, damage: dict[str, object], message: str
) -> None:
    run = plan_on(
        hphc, now=paris(2026, 1, 15, 19), deadline=paris(2026, 1, 16, 7), duration=2 * HOUR
    )
    data = run.to_dict() | damage
    with pytest.raises(ValueError, match=message):
        PlannedRun.from_dict(data)
    with pytest.raises(ValueError, match="load_id"):
        PlannedRun.from_dict({k: v for k, v in run.to_dict().items() if k != "load_id"})


# --- the oracle -----------------------------------------------------------------------------

ORIGIN = datetime(2026, 3, 28, 20, tzinfo=UTC)


@dataclass(frozen=True)
class Request:
    slots: list[PriceSlot]
    earliest: datetime
    deadline: datetime
    duration: timedelta
    power_w: int
    forecast: LoadForecast
    limit_va: int

    def plan(self) -> PlannedRun:
        return plan_run(
            load_id="load",
            power_w=self.power_w,
            duration=self.duration,
            deadline=self.deadline,
            earliest_start=self.earliest,
            prices=self.slots,
            contract_limit_va=self.limit_va,
            forecast=self.forecast,
        )


@st.composite
def requests(draw: st.DrawFn) -> Request:
    """Prices, expected loads, a window and a load, all on whole minutes."""
    lengths = draw(st.lists(st.integers(10, 180), min_size=2, max_size=8))
    prices = draw(st.lists(st.integers(5, 70), min_size=len(lengths), max_size=len(lengths)))
    slots, at = [], ORIGIN
    for length, cents in zip(lengths, prices, strict=True):
        slots.append(PriceSlot(at, at + length * MINUTE, Period.BASE, cents / 100))
        at += length * MINUTE
    horizon = sum(lengths)
    duration = draw(st.integers(1, min(240, horizon)))
    earliest = draw(st.integers(0, horizon - duration))
    # A little negative slack now and then: deadlines too close belong to the property too.
    deadline = min(horizon, earliest + duration + draw(st.integers(-20, horizon)))
    extras = draw(
        st.lists(
            st.tuples(st.integers(0, horizon), st.integers(1, 120), st.integers(0, 4000)),
            max_size=4,
        )
    )
    return Request(
        slots=slots,
        earliest=ORIGIN + earliest * MINUTE,
        deadline=ORIGIN + deadline * MINUTE,
        duration=duration * MINUTE,
        power_w=draw(st.integers(0, 6000)),
        forecast=LoadForecast(
            baseline_va=draw(st.integers(0, 3000)),
            extras=tuple(
                ExpectedLoad(start=ORIGIN + a * MINUTE, end=ORIGIN + (a + n) * MINUTE, load_va=va)
                for a, n, va in extras
            ),
        ),
        limit_va=draw(st.integers(2000, 12000)),
    )


def brute_force(request: Request) -> dict[datetime, float]:
    """The cost of every window that fits, tried minute by minute."""
    costs = {}
    start = request.earliest
    while start + request.duration <= request.deadline:
        minutes = [start + i * MINUTE for i in range(int(request.duration / MINUTE))]
        load = [request.forecast.load_va_at(m) + request.power_w for m in minutes]
        if max(load) <= request.limit_va:
            prices = [
                next(s.price_per_kwh for s in request.slots if s.start <= m < s.end)
                for m in minutes
            ]
            costs[start] = sum(prices) * request.power_w / 1000 / 60
        start += MINUTE
    return costs


@settings(max_examples=200, deadline=None)
@given(request=requests())
def test_the_chosen_window_is_the_cheapest_of_all_windows(request: Request) -> None:
    oracle = brute_force(request)
    if not oracle:
        too_close = request.deadline - request.earliest < request.duration
        with pytest.raises(SchedulingError) as caught:
            request.plan()
        assert caught.value.reason is (
            SchedulingErrorReason.DEADLINE_TOO_CLOSE
            if too_close
            else SchedulingErrorReason.NO_FEASIBLE_WINDOW
        )
        return
    run = request.plan()
    cheapest = min(oracle.values())
    assert run.start in oracle, "the chosen window must fit the contract and the deadline"
    assert run.expected_cost == pytest.approx(oracle[run.start], abs=1e-9)
    assert run.expected_cost == pytest.approx(cheapest, abs=1e-9)
    assert all(cost > cheapest + 1e-9 for start, cost in oracle.items() if start < run.start)


def test_the_search_works_in_local_time_across_the_autumn_change(hphc: Tariff) -> None:
    """Slots given in Paris time, one of them across the repeated hour, are compared as instants."""
    run = plan_on(
        hphc,
        now=paris(2026, 10, 25, 1),
        deadline=paris(2026, 10, 25, 8),
        duration=6 * HOUR,
    )
    assert run.start == paris(2026, 10, 25, 1)  # 01:00 CEST + 6 real hours = 06:00 CET
    assert run.end.astimezone(PARIS) == paris(2026, 10, 25, 6)
    assert run.expected_cost == pytest.approx(6 * 2 * 0.1635)
