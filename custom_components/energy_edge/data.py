"""What a loaded entry keeps at run time: the parts `async_setup_entry` builds.

A module of its own, below `__init__` and the platforms, so that anything needing the entry's
type (platforms, actions, diagnostics, repairs) imports it without an arrow back to `__init__`.
"""

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .hub import EnergyEdgeHub
from .load_control import LoadController
from .meter_tariff import MeterTariffWatch
from .planner import RunPlanner
from .pricing import Pricing
from .storage import LoadProfileStore, ManagementStore


@dataclass(slots=True)
class EnergyEdgeData:
    """What a loaded entry keeps at run time."""

    base_topic: str
    hub: EnergyEdgeHub
    store: ManagementStore
    usual_load: LoadProfileStore
    pricing: Pricing
    meter_tariff: MeterTariffWatch
    loads: LoadController
    planner: RunPlanner


type EnergyEdgeConfigEntry = ConfigEntry[EnergyEdgeData]
