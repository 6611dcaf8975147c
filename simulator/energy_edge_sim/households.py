"""The homes the simulator knows: `fr-house` and the scale mode's rows of plugs."""

from datetime import datetime
from typing import TypedDict

from .appliances import (
    Dishwasher,
    EvCharger,
    Fridge,
    InductionHob,
    Lighting,
    OccasionalUse,
    Oven,
    SmallAppliances,
    SolarPanels,
    SteadyLoad,
    Television,
    WashingMachine,
    WaterHeater,
)
from .household import Circuit, Household
from .localtime import LocalCalendar
from .tariff import TariffSchedule


class _Habits(TypedDict):
    seed: int
    calendar: LocalCalendar


def fr_house(
    seed: int, start: datetime, *, pv_peak_w: float = 0.0, contract_va: float = 6000.0
) -> Household:
    """A French family home on a 6 kVA peak/off-peak contract.

    Eight loads behind metered plugs (named after the load they power), and unmetered ventilation,
    lights, an induction hob and small appliances; optional rooftop panels. Evening cooking while
    the car charges exceeds the contract on several days a week.
    """
    calendar = LocalCalendar()
    tariff = TariffSchedule(calendar=calendar)
    habits: _Habits = {"seed": seed, "calendar": calendar}
    circuits = [
        Circuit(WaterHeater("water_heater", tariff=tariff, **habits), "water_heater"),
        Circuit(EvCharger("ev_charger", **habits), "ev_charger"),
        Circuit(Oven("oven", **habits), "oven"),
        Circuit(WashingMachine("washing_machine", **habits), "washing_machine"),
        Circuit(Fridge("fridge", **habits), "fridge"),
        Circuit(Dishwasher("dishwasher", **habits), "dishwasher"),
        Circuit(
            SteadyLoad("internet_box", level_w=19, spread_w=3, power_factor=0.7, **habits),
            "internet_box",
        ),
        Circuit(Television("tv", **habits), "tv"),
        Circuit(
            SteadyLoad(
                "ventilation_and_standby",
                level_w=115,
                spread_w=20,
                power_factor=0.85,
                block_s=600,
                **habits,
            )
        ),
        Circuit(Lighting("lighting", **habits)),
        Circuit(InductionHob("induction_hob", **habits)),
        Circuit(SmallAppliances("small_appliances", **habits)),
    ]
    if pv_peak_w > 0:
        circuits.append(Circuit(SolarPanels("solar_panels", peak_w=pv_peak_w, **habits)))
    return Household(
        circuits, seed=seed, start=start, contract_va=contract_va, tariff=tariff, calendar=calendar
    )


def scale_house(plugs: int, seed: int, start: datetime) -> Household:
    """`plugs` metered plugs (`plug_0001`...) each powering an appliance used a few times a day."""
    if plugs < 1:
        raise ValueError("the scale mode needs at least one plug")
    calendar = LocalCalendar()
    width = max(4, len(str(plugs)))
    circuits = [
        Circuit(OccasionalUse(name=name, seed=seed, calendar=calendar), name)
        for name in (f"plug_{index:0{width}d}" for index in range(1, plugs + 1))
    ]
    return Household(
        circuits, seed=seed, start=start, contract_va=6000.0 * plugs, calendar=calendar
    )
