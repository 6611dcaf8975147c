"""The outcome benchmark on one winter Wednesday: what the family notices with Energy Edge."""

from datetime import datetime

import pytest

from custom_components.energy_edge.engines.tariff import Period
from energy_edge_sim import PARIS
from scripts.lib.benchmanagement.__main__ import main
from scripts.lib.benchmanagement.benchmark import Setup, replay_heater, replay_home
from scripts.lib.benchmanagement.choices import TARIFF
from scripts.lib.benchmanagement.heater import HEATER
from scripts.lib.benchmanagement.replay import HOME, Outcome

# Seed 42's household overloads this evening: the car charges while the family cooks.
WEDNESDAY = Setup(seed=42, start=datetime(2025, 1, 8, tzinfo=PARIS), days=1)
HP, HC = TARIFF.prices_per_kwh[Period.HP], TARIFF.prices_per_kwh[Period.HC]


@pytest.fixture(scope="module")
def without() -> Outcome:
    return replay_home(WEDNESDAY, shedding=False, scheduling=False)


@pytest.fixture(scope="module")
def managed() -> Outcome:
    return replay_home(WEDNESDAY, shedding=True, scheduling=True)


def average_price(outcome: Outcome, name: str) -> float:
    cost = outcome.costs[name]
    return cost.energy_cost / cost.energy_kwh


def test_without_energy_edge_the_home_stays_over_its_contract_for_minutes(
    without: Outcome,
) -> None:
    assert without.seconds_above_limit > 20 * 60
    longest = max(without.excursions, key=lambda excursion: excursion.seconds)
    assert longest.seconds > 10 * 60
    assert longest.enough_managed_load  # the car alone would have covered it
    assert without.shed_events == 0


def test_with_energy_edge_an_overload_ends_a_shed_delay_after_the_linky_reports_it(
    without: Outcome, managed: Outcome
) -> None:
    """The engine can only act on what the Linky reports, once a minute: from that reading, the
    shed delay (2 s) and the relay (1 s), and the home is back under its contract."""
    seen = [e for e in managed.excursions if e.enough_managed_load and e.seen_at_s is not None]
    assert seen
    assert all(e.seconds_after_seen is not None and e.seconds_after_seen <= 3 for e in seen)
    assert all(e.seconds <= 60 + 3 for e in managed.excursions if e.enough_managed_load)
    assert managed.seconds_above_limit < without.seconds_above_limit / 10
    assert managed.shed_events >= 1
    assert managed.unresponsive == 0
    assert managed.shed_seconds > 0


def test_the_contract_comes_from_the_historic_linkys_subscribed_current(managed: Outcome) -> None:
    """ISOUSC 30 A is a 6 kVA contract: Enedis' 5 A per kVA."""
    assert managed.contract_limits_va == (6000.0,)


def test_an_overload_a_plug_reports_is_shed_before_the_linky_reads_it(managed: Outcome) -> None:
    """A plug reports its load's start within seconds; the Linky only at its next reading, up to
    a minute later. Estimated from the plugs, such an overload ends a shed delay (2 s) and a
    relay's lag (1 s) after it began, before the Linky ever reads it."""
    before_the_linky = [e for e in managed.excursions if e.seen_at_s is None]
    assert before_the_linky
    assert all(e.seconds <= 3 for e in before_the_linky)


def test_scheduling_runs_the_dishwasher_off_peak_and_lowers_the_bill(
    without: Outcome, managed: Outcome
) -> None:
    assert average_price(without, "dishwasher") > HC + 0.9 * (HP - HC)  # after dinner
    assert average_price(managed, "dishwasher") == pytest.approx(HC)
    assert managed.planned
    assert managed.planning_failures == 0
    assert managed.costs[HOME].energy_cost < without.costs[HOME].energy_cost


def test_the_cost_engine_bills_what_the_linky_counts(managed: Outcome) -> None:
    """Priced from each ZLinky message as Home Assistant reads it (the registers' increments,
    checked by the hub's meter), the home's energy costs what its own peak and off-peak indices
    say."""
    assert managed.costs[HOME].energy_cost == pytest.approx(managed.billed_energy_cost, rel=1e-3)


def test_a_heater_without_its_off_peak_contact_heats_off_peak_once_scheduled() -> None:
    alone = replay_heater(WEDNESDAY, scheduling=False).costs[HEATER]
    scheduled = replay_heater(WEDNESDAY, scheduling=True).costs[HEATER]
    assert alone.energy_cost / alone.energy_kwh == pytest.approx(HP)
    assert scheduled.energy_cost / scheduled.energy_kwh == pytest.approx(HC)


def test_the_command_line_prints_every_figure_and_the_goal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--days", "0.05", "--seed", "7", "--start", "2025-01-08T19:00"]) == 0
    report = capsys.readouterr().out
    for figure in (
        "fr-house, seed 7, 0.05 days from 2025-01-08 19:00 CET",
        "minutes above the contract (= cut-off), true start",
        "shed events per overload",
        "shed events",
        "minutes loads spent shed",
        "saving on the home's energy vs without EE",
        "Water heater without its off-peak contact",
        "Goal",
    ):
        assert figure in report


def test_the_command_line_refuses_a_span_it_cannot_replay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--days", "0"])
    assert exit_info.value.code == 2
    assert "expected a number of days" in capsys.readouterr().err
