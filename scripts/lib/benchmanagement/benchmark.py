"""The scenarios compared: the household without Energy Edge, with its load shedding, and with
load shedding and scheduling; and a water heater without its off-peak contact, alone and
scheduled."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from custom_components.energy_edge.engines.options import shedding_settings
from custom_components.energy_edge.engines.shedding import SheddingSettings
from energy_edge_sim import fr_house

from .choices import DAILY_RUNS, NIGHT_BASELINE_VA, TARIFF, DailyRun
from .heater import HEATER, heater_without_contact
from .replay import Outcome, Replay, Timing
from .schedules import EveningPlanner

DISHWASHER, EV_CHARGER, OVEN = "dishwasher", "ev_charger", "oven"
PRICED_PLUGS = (*(run.plug for run in DAILY_RUNS), EV_CHARGER, OVEN)
"""The scheduled loads; the car for scale (it is not scheduled); the oven, whose cooking is lost
while it is shed."""


@dataclass(frozen=True, slots=True)
class Setup:
    """What is replayed: which home, from when, for how long, on which contract (the Linky's
    subscribed power; Energy Edge learns it from the Linky's readings)."""

    seed: int
    start: datetime
    days: float
    contract_va: float = 6000.0
    timing: Timing = field(default_factory=Timing)

    @property
    def seconds(self) -> int:
        """The replayed span in whole seconds."""
        return round(self.days * 86400)

    @property
    def shedding(self) -> SheddingSettings:
        """The defaults of the user documentation, before the Linky tells the contract."""
        return shedding_settings({})


@dataclass(frozen=True, slots=True)
class Results:
    """Every scenario's outcome."""

    setup: Setup
    without: Outcome
    shedding: Outcome
    shedding_and_scheduling: Outcome
    heater_alone: Outcome
    heater_scheduled: Outcome


def replay_home(setup: Setup, *, shedding: bool, scheduling: bool) -> Outcome:
    """`fr_house` over the span, with the engines asked for."""
    house = fr_house(setup.seed, setup.start, contract_va=setup.contract_va)
    return Replay(
        house,
        seconds=setup.seconds,
        tariff=TARIFF,
        shedding=setup.shedding if shedding else None,
        planner=_planner(setup, DAILY_RUNS) if scheduling else None,
        priced_plugs=PRICED_PLUGS,
        timing=setup.timing,
    ).run()


def replay_heater(setup: Setup, *, scheduling: bool) -> Outcome:
    """The water heater without its off-peak contact, alone or scheduled every evening."""
    house = heater_without_contact(setup.seed, setup.start, setup.contract_va)
    runs = [run for run in DAILY_RUNS if run.plug == HEATER]
    return Replay(
        house,
        seconds=setup.seconds,
        tariff=TARIFF,
        planner=_planner(setup, runs) if scheduling else None,
        priced_plugs=(HEATER,),
        timing=setup.timing,
    ).run()


def run_all(setup: Setup) -> Results:
    """Every scenario, one after the other."""
    return Results(
        setup=setup,
        without=replay_home(setup, shedding=False, scheduling=False),
        shedding=replay_home(setup, shedding=True, scheduling=False),
        shedding_and_scheduling=replay_home(setup, shedding=True, scheduling=True),
        heater_alone=replay_heater(setup, scheduling=False),
        heater_scheduled=replay_heater(setup, scheduling=True),
    )


def _planner(setup: Setup, runs: Sequence[DailyRun]) -> EveningPlanner:
    return EveningPlanner(
        runs,
        tariff=TARIFF,
        contract_limit_va=setup.contract_va,
        baseline_va=NIGHT_BASELINE_VA,
    )
