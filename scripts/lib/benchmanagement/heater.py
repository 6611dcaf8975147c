"""A water heater without its off-peak contact: the honest baseline for scheduling one.

`fr_house`'s water heater heats only while the Linky's off-peak contact is closed, as most French
tanks are wired: it already runs at the cheapest hours, and scheduling it can only match that.
Homes without the contact (or with it bypassed) heat as soon as hot water is drawn; this is that
heater, with the same family's hot-water draws (same seed, same name), alone behind its plug.
"""

from datetime import datetime

from energy_edge_sim import Household
from energy_edge_sim.appliances import WaterHeater
from energy_edge_sim.household import Circuit
from energy_edge_sim.localtime import LocalCalendar
from energy_edge_sim.tariff import OffPeakWindow, TariffSchedule

HEATER = "water_heater"
# Two windows that cover the whole day: the contact never opens.
ALWAYS_CLOSED = (OffPeakWindow(0, 12), OffPeakWindow(12, 0))


def heater_without_contact(seed: int, start: datetime, contract_va: float) -> Household:
    """`fr_house`'s water heater, heating whenever it needs to, as the only load of a home."""
    calendar = LocalCalendar()
    heater = WaterHeater(
        HEATER,
        seed=seed,
        calendar=calendar,
        tariff=TariffSchedule(windows=ALWAYS_CLOSED, calendar=calendar),
    )
    return Household(
        [Circuit(heater, HEATER)],
        seed=seed,
        start=start,
        contract_va=contract_va,
        calendar=calendar,
    )
