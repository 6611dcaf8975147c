"""Costs: each kWh at the price in force when consumed, nothing counted twice across restarts.

The cost engine is fed as Home Assistant feeds it: the energy consumed since the previous call
(`add_energy`), already checked by the hub's reading of each message
(tests/protocol/test_readings.py covers counters that go back or jump).
"""

from datetime import UTC, date, datetime, timedelta
import json

from hypothesis import given, strategies as st
import pytest

from custom_components.energy_edge.engines.costs import CostAccumulator
from custom_components.energy_edge.engines.tariff import Period, Tariff, TempoColor

from .conftest import PARIS, TEMPO_PRICES, paris


def test_energy_within_one_period_costs_that_period_s_price(hphc: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 10), 0.0, hphc)
    cost.add_energy(paris(2026, 1, 15, 11), 2.0, hphc)
    assert cost.total_cost == pytest.approx(2 * 0.2081)
    assert cost.energy_kwh == pytest.approx(2.0)


def test_an_increment_across_a_boundary_is_split_pro_rata_by_time(hphc: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 21), 0.0, hphc)
    cost.add_energy(paris(2026, 1, 15, 23), 2.0, hphc)  # one hour each side of 22:00
    assert cost.total_cost == pytest.approx(0.2081 + 0.1635)


def test_an_increment_across_the_spring_change_splits_by_real_hours(hphc: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 3, 29, 1), 0.0, hphc)  # CET
    cost.add_energy(paris(2026, 3, 29, 7), 5.0, hphc)  # CEST: 5 real hours later
    assert cost.total_cost == pytest.approx(4 * 0.1635 + 1 * 0.2081)


def test_an_increment_across_the_autumn_change_splits_by_real_hours(hphc: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 10, 25, 1), 0.0, hphc)  # CEST
    cost.add_energy(paris(2026, 10, 25, 7), 7.0, hphc)  # CET: 7 real hours later
    assert cost.total_cost == pytest.approx(6 * 0.1635 + 1 * 0.2081)


def test_base_costs_the_same_across_midnight(base: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 23), 0.0, base)
    cost.add_energy(paris(2026, 1, 16, 1), 4.0, base)
    assert cost.total_cost == pytest.approx(4 * 0.1952)


def test_tempo_night_after_midnight_costs_the_previous_day_s_colour(tempo: Tariff) -> None:
    colors = {date(2026, 1, 15): TempoColor.RED, date(2026, 1, 16): TempoColor.BLUE}
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 16, 4), 0.0, tempo, colors)
    cost.add_energy(paris(2026, 1, 16, 8), 4.0, tempo, colors)
    assert cost.total_cost == pytest.approx(2 * 0.1518 + 2 * 0.1552)


def test_energy_of_an_unknown_tempo_colour_waits_for_it(tempo: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 16, 20), 0.0, tempo)
    cost.add_energy(paris(2026, 1, 16, 23), 3.0, tempo)  # 2 h peak, 1 h off-peak
    assert cost.total_cost == 0
    assert cost.pending_kwh == {
        (date(2026, 1, 16), Period.HP): pytest.approx(2.0),
        (date(2026, 1, 16), Period.HC): pytest.approx(1.0),
    }
    cost.settle(tempo, {date(2026, 1, 16): TempoColor.WHITE})
    assert cost.total_cost == pytest.approx(2 * 0.1792 + 1 * 0.1447)
    assert cost.pending_energy_kwh == 0
    assert cost.energy_kwh == pytest.approx(3.0)


def test_energy_of_days_still_unknown_keeps_waiting(tempo: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 16, 12), 0.0, tempo)
    cost.add_energy(paris(2026, 1, 17, 12), 24.0, tempo)  # Friday noon to Saturday noon
    cost.settle(tempo, {date(2026, 1, 16): TempoColor.BLUE})  # Saturday still unknown
    assert cost.total_cost == pytest.approx(10 * 0.1552 + 8 * 0.1288)
    assert cost.pending_kwh == {(date(2026, 1, 17), Period.HP): pytest.approx(6.0)}


def test_pending_energy_is_priced_by_the_next_increment_once_the_colour_is_known(
    tempo: Tariff,
) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 16, 10), 0.0, tempo)
    cost.add_energy(paris(2026, 1, 16, 11), 1.0, tempo)
    colors = {date(2026, 1, 16): TempoColor.RED}
    cost.add_energy(paris(2026, 1, 16, 12), 1.0, tempo, colors)
    assert cost.total_cost == pytest.approx(2 * TEMPO_PRICES[Period.HP_RED])


def test_energy_from_a_clock_set_back_is_priced_at_its_own_instant(hphc: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 23), 0.0, hphc)
    cost.add_energy(paris(2026, 1, 15, 21), 0.5, hphc)  # an NTP correction
    assert cost.total_cost == pytest.approx(0.5 * 0.2081)
    assert cost.last_reading_at == paris(2026, 1, 15, 21)


def test_a_naive_reading_time_is_refused(base: Tariff) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        CostAccumulator().add_energy(datetime(2026, 1, 15, 10), 5.0, base)  # noqa: DTZ001


# --- the home's subscription ----------------------------------------------------------------


def test_the_home_cost_includes_the_subscription_pro_rata(base: Tariff) -> None:
    home = CostAccumulator(with_subscription=True)
    home.add_energy(paris(2026, 4, 1), 0.0, base)
    home.add_energy(paris(2026, 4, 16), 150.0, base)  # half of April
    assert home.subscription_cost == pytest.approx(15.65 / 2)
    assert home.total_cost == pytest.approx(150 * 0.1952 + 15.65 / 2)
    home.advance(paris(2026, 5, 1), base)
    assert home.subscription_cost == pytest.approx(15.65)
    home.advance(paris(2026, 4, 20), base)  # earlier than already accrued: nothing
    assert home.subscription_cost == pytest.approx(15.65)


def test_a_device_cost_has_no_subscription(base: Tariff) -> None:
    device = CostAccumulator()
    device.add_energy(paris(2026, 4, 1), 0.0, base)
    device.advance(paris(2026, 5, 1), base)
    assert device.total_cost == 0


# --- restarts -------------------------------------------------------------------------------


def restart(cost: CostAccumulator) -> CostAccumulator:
    """What Home Assistant does: store as JSON, stop, start, load."""
    return CostAccumulator.from_dict(json.loads(json.dumps(cost.to_dict())))


def test_after_a_restart_energy_is_spread_since_the_last_increment(hphc: Tariff) -> None:
    home = CostAccumulator(with_subscription=True)
    home.add_energy(paris(2026, 1, 15, 20), 0.0, hphc)
    home.add_energy(paris(2026, 1, 15, 21), 1.0, hphc)
    home = restart(home)  # down from 21:00 to 23:00; the counter kept counting
    home.add_energy(paris(2026, 1, 15, 23), 2.0, hphc)
    assert home.energy_kwh == pytest.approx(3.0)
    assert home.energy_cost == pytest.approx(2 * 0.2081 + 0.1635)
    hours_since_start = 3 / (31 * 24)
    assert home.subscription_cost == pytest.approx(16.11 * hours_since_start)


def test_pending_tempo_energy_survives_a_restart(tempo: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 16, 10), 0.0, tempo)
    cost.add_energy(paris(2026, 1, 16, 12), 2.0, tempo)
    cost = restart(cost)
    cost.settle(tempo, {date(2026, 1, 16): TempoColor.BLUE})
    assert cost.total_cost == pytest.approx(2 * 0.1552)


@given(
    increments=st.lists(
        st.tuples(st.integers(1, 6 * 60), st.floats(0, 12, allow_nan=False)),
        min_size=2,
        max_size=30,
    ),
    restart_after=st.integers(0, 29),
)
def test_a_restart_anywhere_changes_nothing(
    increments: list[tuple[int, float]], restart_after: int
) -> None:
    """The same increments give the same cost with or without a restart in between (a few
    minutes to hours apart, at a household's power, across the spring change)."""
    tariff = Tariff.hphc(
        hp_price_per_kwh=0.2081,
        hc_price_per_kwh=0.1635,
        subscription_per_month=16.11,
        time_zone=PARIS,
    )
    uninterrupted = CostAccumulator(with_subscription=True)
    restarted = CostAccumulator(with_subscription=True)
    at, consumed = paris(2026, 3, 28, 12), 0.0
    for index, (minutes, power_kw) in enumerate(increments):
        at = (at.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(PARIS)  # real minutes
        energy_kwh = power_kw * minutes / 60
        consumed += energy_kwh
        uninterrupted.add_energy(at, energy_kwh, tariff)
        restarted.add_energy(at, energy_kwh, tariff)
        if index == restart_after:
            restarted = restart(restarted)
    assert restarted.total_cost == pytest.approx(uninterrupted.total_cost)
    assert restarted.energy_kwh == pytest.approx(consumed)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"version": 99}, "unknown version"),
        ({"energy_cost": "12"}, "expected a finite number"),
        ({"energy_cost": -1}, "expected a number >= 0"),
        ({"with_subscription": 1}, "expected true or false"),
        ({"last_reading_at": "yesterday"}, "Invalid isoformat"),
        ({"last_reading_at": "2026-01-15T10:00:00"}, "has no time zone"),
        ({"pending": {}}, "expected a list"),
        ({"pending": [3]}, "expected an object"),
        ({"pending": [{"day": 5, "period": "hp", "energy_kwh": 1}]}, "expected text"),
        ({"pending": [{"day": "2026-01-16", "period": "hp"}]}, "energy_kwh"),
    ],
)
def test_a_damaged_stored_state_is_refused_clearly(
    base: Tariff, damage: dict[str, object], message: str
) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 10), 0.0, base)
    with pytest.raises(ValueError, match=message):
        CostAccumulator.from_dict(cost.to_dict() | damage)


# --- first, large and bad increments ------------------------------------------------------


def test_a_first_increment_counts_at_its_own_instant(hphc: Tariff) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 23), 1.0, hphc)
    assert cost.total_cost == pytest.approx(0.1635)


def test_a_large_checked_increment_is_counted_in_full(base: Tariff) -> None:
    """A ZLinky counter rounded to the kWh steps by 1 kWh within a minute: the hub has checked
    it, so nothing is refused as a jump here."""
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 10), 0.0, base)
    cost.add_energy(paris(2026, 1, 15, 10, 1), 1.0, base)
    assert cost.energy_kwh == pytest.approx(1.0)


def test_increments_of_an_unknown_tempo_day_wait_and_survive_a_restart(tempo: Tariff) -> None:
    cost = CostAccumulator(with_subscription=True)
    cost.add_energy(paris(2026, 1, 16, 10), 0.0, tempo)
    cost.add_energy(paris(2026, 1, 16, 12), 2.0, tempo)
    cost = restart(cost)
    cost.add_energy(paris(2026, 1, 16, 13), 1.0, tempo, {date(2026, 1, 16): TempoColor.WHITE})
    assert cost.energy_cost == pytest.approx(3 * TEMPO_PRICES[Period.HP_WHITE])
    assert cost.subscription_cost == pytest.approx(16.0 * 3 / (31 * 24))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1])
def test_a_bad_increment_is_refused_and_changes_nothing(base: Tariff, bad: float) -> None:
    cost = CostAccumulator()
    cost.add_energy(paris(2026, 1, 15, 10), 1.0, base)
    before = cost.to_dict()
    with pytest.raises(ValueError, match="finite and >= 0"):
        cost.add_energy(paris(2026, 1, 15, 11), bad, base)
    assert cost.to_dict() == before
