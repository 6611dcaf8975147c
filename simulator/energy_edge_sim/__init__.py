"""Simulation mode: a French household that speaks Zigbee2MQTT 2.x's MQTT protocol.

`energy-edge-sim` (see `__main__`) runs it against a broker; the household model below runs
without MQTT, stepping through simulated time (see `household` and docs/simulator.md).
"""

from .household import Household, LoadReading, MeterReading, PlugReading, Snapshot
from .households import fr_house, scale_house
from .localtime import PARIS
from .tariff import TariffPeriod

__all__ = [
    "PARIS",
    "Household",
    "LoadReading",
    "MeterReading",
    "PlugReading",
    "Snapshot",
    "TariffPeriod",
    "fr_house",
    "scale_house",
]
