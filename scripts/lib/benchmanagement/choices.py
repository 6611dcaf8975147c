"""What the household chose in Energy Edge: priorities, managed loads, tariff and daily plans."""

from dataclasses import dataclass
from datetime import time, timedelta

from custom_components.energy_edge.engines.regulated import TRV_2026_08
from custom_components.energy_edge.engines.shedding import Priority
from custom_components.energy_edge.engines.tariff import OffPeakRange, Period, Tariff
from energy_edge_sim import PARIS
from energy_edge_sim.devices import LinkyMode, zlinky


@dataclass(frozen=True, slots=True)
class LoadChoice:
    """A switchable load's priority and whether the user let Energy Edge shed it."""

    priority: Priority
    managed: bool


LOAD_CHOICES: dict[str, LoadChoice] = {
    # The car charges until it leaves in the morning: a pause costs nothing.
    "ev_charger": LoadChoice(Priority.LOW, managed=True),
    # A 200 l tank keeps its heat for hours.
    "water_heater": LoadChoice(Priority.LOW, managed=True),
    # Programs pause and resume where they stopped.
    "washing_machine": LoadChoice(Priority.MEDIUM, managed=True),
    "dishwasher": LoadChoice(Priority.MEDIUM, managed=True),
    # The last resort: a paused oven spoils dinner less than a tripped main breaker.
    "oven": LoadChoice(Priority.HIGH, managed=True),
    # 100 W is not worth the annoyance: the user did not opt in.
    "tv": LoadChoice(Priority.HIGH, managed=False),
    "fridge": LoadChoice(Priority.CRITICAL, managed=False),
    "internet_box": LoadChoice(Priority.CRITICAL, managed=False),
}

# The regulated tariff (TRV) of 1 August 2026, option Heures Creuses, prices per kWh incl. taxes
# (`regulated`). Off-peak hours are the household's Linky's under the HP/HC reform: in winter
# 8 consecutive hours at night; in summer (1 April - 31 October) 5 at night and 3 between 11:00
# and 17:00. The 6 kVA subscription is an estimate (the regulated one is not shipped): it is the
# same with or without Energy Edge, so it changes no saving.
_PRICES = TRV_2026_08.prices_for(6)
TARIFF = Tariff.hphc(
    hp_price_per_kwh=_PRICES[Period.HP],
    hc_price_per_kwh=_PRICES[Period.HC],
    subscription_per_month=15.74,
    time_zone=PARIS,
    off_peak_ranges=(OffPeakRange(time(22, 30), time(6, 30)),),
    summer_off_peak_ranges=(
        OffPeakRange(time(2), time(7)),
        OffPeakRange(time(13), time(16)),
    ),
)
TARIFF_NAME = "Regulated tariff HP/HC, 1 Aug 2026 (incl. taxes)"

LINKY_PERIOD_S = round(zlinky(LinkyMode.HISTORIC).reporting.max_interval_s)
"""The ZLinky reports the meter once a minute."""
SWITCH_LAG_S = 1
"""From Home Assistant's command to the relay: MQTT, Zigbee2MQTT, the Zigbee round trip."""


@dataclass(frozen=True, slots=True)
class DailyRun:
    """A load planned every evening, as the blueprint "run a load daily at the cheapest time"
    does: its plug is switched off at `planned_at` and the cheapest window before the deadline
    gets it back on."""

    plug: str
    power_w: float
    duration: timedelta
    deadline: time
    """The next morning's wall-clock time by which the run must be over."""


PLANNED_AT = time(20)
"""Before the family starts the dishwasher after dinner."""
DAILY_RUNS = (
    # Enough for the largest daily need of its 200 l tank (about 11 kWh in winter, 4.6 h),
    # hot for the first shower.
    DailyRun("water_heater", 2400, timedelta(hours=6), time(6, 30)),
    # An 85-minute program, clean for breakfast.
    DailyRun("dishwasher", 2000, timedelta(minutes=90), time(7)),
)
NIGHT_BASELINE_VA = 1500.0
"""The home's load expected at night besides the planned runs: lights, television, fridge,
ventilation and standby, with a margin."""
