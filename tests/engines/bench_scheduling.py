"""Benchmark (not a test): what planning a deferrable load costs as its deadline moves away.

Run through `scripts/bench-scheduling`. The planner's whole path on the event loop: the Tempo
calendar (colours unknown past tomorrow), the home's usual load learned on every half hour, two
runs already planned, then the cheapest window of a 2 h, 2 kW run. CPU time per plan for
deadlines from a day to six months, with the week's bound lifted (how the search grows: the
exponent of the horizon, 1 linear, 2 quadratic) and as `schedule_load` runs (a deadline past a
week refused before any calendar is built). Nothing is asserted: figures are printed.
"""

from datetime import datetime, timedelta
import math
import sys
import time
from zoneinfo import ZoneInfo

from custom_components.energy_edge.engines import scheduling
from custom_components.energy_edge.engines.load_profile import LoadProfile
from custom_components.energy_edge.engines.scheduling import (
    MAX_HORIZON,
    ExpectedLoad,
    LoadForecast,
    SchedulingError,
    plan_run,
)
from custom_components.energy_edge.engines.tariff import Period, Tariff

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 1, 15, 19, 12, tzinfo=PARIS)
HORIZONS_DAYS = (1, 7, 30, 182)
TEMPO = Tariff.tempo(  # EDF's regulated Tempo prices, 2025
    prices_per_kwh={
        Period.HP_BLUE: 0.1552,
        Period.HC_BLUE: 0.1288,
        Period.HP_WHITE: 0.1792,
        Period.HC_WHITE: 0.1447,
        Period.HP_RED: 0.6586,
        Period.HC_RED: 0.1518,
    },
    subscription_per_month=16.0,
    time_zone=PARIS,
)


def _usual_load() -> LoadProfile:
    """Two weeks of a home's peaks on every half hour: 800 VA at night, 3 kVA at 19:00."""
    profile = LoadProfile(PARIS)
    for minutes in range(0, 14 * 24 * 60, 30):
        instant = NOW - timedelta(days=14) + timedelta(minutes=minutes)
        profile.record(instant, 3000.0 if instant.hour in (7, 19) else 800.0)
    return profile


def plan(deadline: datetime, usual: LoadProfile) -> None:
    """Plan one run as `RunPlanner.plan` does (inputs built up to a week at most)."""
    until = min(deadline, NOW + scheduling.MAX_HORIZON)
    others = (
        ExpectedLoad(start=NOW + timedelta(hours=3), end=NOW + timedelta(hours=5), load_va=1500),
        ExpectedLoad(start=NOW + timedelta(hours=9), end=NOW + timedelta(hours=12), load_va=2000),
    )
    plan_run(
        load_id="water_heater",
        power_w=2000,
        duration=timedelta(hours=2),
        deadline=deadline,
        earliest_start=NOW,
        prices=TEMPO.price_calendar(NOW, until, {}),
        contract_limit_va=9000,
        forecast=LoadForecast(extras=usual.expected_loads(NOW, until) + others),
    )


def cpu_per_plan(deadline: datetime, usual: LoadProfile) -> tuple[float, str]:
    """CPU seconds per plan (a second's worth of plans, at most 30 s), and a refusal if any."""
    began, runs, refused = time.process_time(), 0, ""
    while runs < 3 or time.process_time() - began < 1.0:
        try:
            plan(deadline, usual)
        except SchedulingError as err:
            refused = f"refused: {err.reason}"
        runs += 1
        if time.process_time() - began > 30:
            break
    return (time.process_time() - began) / runs, refused


def main() -> int:
    """Time a plan per horizon, without and with the bound, and print the figures."""
    usual = _usual_load()
    print("horizon   unbounded search: CPU ms, exponent   schedule_load: CPU ms")
    previous: tuple[int, float] | None = None
    for days in HORIZONS_DAYS:
        deadline = NOW + timedelta(days=days)
        scheduling.MAX_HORIZON = timedelta(days=max(HORIZONS_DAYS) + 1)
        try:
            unbounded, _ = cpu_per_plan(deadline, usual)
        finally:
            scheduling.MAX_HORIZON = MAX_HORIZON
        bounded, refused = cpu_per_plan(deadline, usual)
        exponent = ""
        if previous is not None:
            exponent = f"{math.log(unbounded / previous[1]) / math.log(days / previous[0]):.2f}"
        print(
            f"{days:4d} d   {unbounded * 1000:13.2f}    {exponent:>6}"
            f"          {bounded * 1000:8.2f}  {refused}"
        )
        previous = (days, unbounded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
