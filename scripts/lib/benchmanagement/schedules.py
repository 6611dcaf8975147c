"""Every evening, the cheapest windows for the deferrable loads, planned by `plan_run`."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from custom_components.energy_edge.engines.scheduling import (
    ExpectedLoad,
    LoadForecast,
    PlannedRun,
    SchedulingError,
    plan_run,
)
from custom_components.energy_edge.engines.tariff import Tariff

from .choices import DailyRun


@dataclass(frozen=True, slots=True)
class PlugSwitch:
    """Switch a plug on or off at an instant."""

    at: datetime
    plug: str
    on: bool


class EveningPlanner:
    """Plans each run in turn, each one expecting the runs planned before it, so that together
    they fit in the contract. Its plug goes off now and on for its window."""

    def __init__(
        self,
        runs: Sequence[DailyRun],
        *,
        tariff: Tariff,
        contract_limit_va: float,
        baseline_va: float,
    ) -> None:
        self.runs = tuple(runs)
        self.tariff = tariff
        self.contract_limit_va = contract_limit_va
        self.baseline_va = baseline_va
        self.planned: list[PlannedRun] = []
        self.failures: list[SchedulingError] = []

    def plan(self, now: datetime) -> list[PlugSwitch]:
        """Plan tonight's runs; the switches to carry out, in no particular order."""
        switches = [PlugSwitch(now, run.plug, on=False) for run in self.runs]
        expected: list[ExpectedLoad] = []
        for run in self.runs:
            deadline = next_wall_clock(now, run.deadline, self.tariff.time_zone)
            try:
                planned = plan_run(
                    load_id=run.plug,
                    power_w=run.power_w,
                    duration=run.duration,
                    deadline=deadline,
                    earliest_start=now,
                    prices=self.tariff.price_calendar(now, deadline),
                    contract_limit_va=self.contract_limit_va,
                    forecast=LoadForecast(baseline_va=self.baseline_va, extras=tuple(expected)),
                )
            except SchedulingError as error:
                self.failures.append(error)
                continue
            self.planned.append(planned)
            expected.append(planned.as_expected_load())
            switches += [
                PlugSwitch(planned.start, run.plug, on=True),
                PlugSwitch(planned.end, run.plug, on=False),
            ]
        return switches


def next_wall_clock(after: datetime, wall_clock: time, zone: ZoneInfo) -> datetime:
    """The first instant after `after` at which the clock of `zone` shows `wall_clock`."""
    day = after.astimezone(zone).date()
    while (candidate := datetime.combine(day, wall_clock, tzinfo=zone)) <= after:
        day += timedelta(days=1)
    return candidate
