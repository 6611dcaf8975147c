"""The French peak/off-peak ("heures pleines / heures creuses") tariff that the Linky applies."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from .localtime import LocalCalendar


class TariffPeriod(StrEnum):
    """Which register of the Linky counts the energy right now."""

    OFF_PEAK = "HC"  # heures creuses: index 1 (EASF01, HCHC)
    PEAK = "HP"  # heures pleines: index 2 (EASF02, HCHP)


@dataclass(frozen=True)
class OffPeakWindow:
    """One daily off-peak window in local hours; it may run past midnight (22.5 -> 6.5)."""

    start_hour: float
    end_hour: float

    def __post_init__(self) -> None:
        if not (0 <= self.start_hour < 24 and 0 <= self.end_hour < 24):
            raise ValueError("off-peak hours must lie in [0, 24)")
        if self.start_hour == self.end_hour:
            raise ValueError("an off-peak window cannot be empty")


@dataclass
class TariffSchedule:
    """Peak and off-peak periods over local days (8 off-peak hours a day, as Enedis grants)."""

    windows: tuple[OffPeakWindow, ...] = (OffPeakWindow(22.5, 6.5),)
    calendar: LocalCalendar = field(default_factory=LocalCalendar)
    _cache: dict[date, list[tuple[float, float]]] = field(default_factory=dict, repr=False)

    def _intervals(self, moment: float) -> list[tuple[float, float]]:
        """Off-peak intervals (epoch seconds) around the local day of `moment`."""
        today = self.calendar.date_of(moment)
        cached = self._cache.get(today)
        if cached is not None:
            return cached
        intervals = []
        for offset in (-1, 0, 1):
            day = today + timedelta(days=offset)
            for window in self.windows:
                end = (
                    window.end_hour if window.end_hour > window.start_hour else window.end_hour + 24
                )
                intervals.append(
                    (self.calendar.at(day, window.start_hour), self.calendar.at(day, end))
                )
        self._cache[today] = sorted(intervals)
        return self._cache[today]

    def period_at(self, moment: float) -> TariffPeriod:
        """The tariff period in force at an epoch instant."""
        for start, end in self._intervals(moment):
            if start <= moment < end:
                return TariffPeriod.OFF_PEAK
        return TariffPeriod.PEAK

    def next_change(self, moment: float) -> float:
        """The first instant strictly after `moment` at which the period may change.

        Tomorrow's windows are among the candidates, so there always is one.
        """
        edges = sorted({edge for interval in self._intervals(moment) for edge in interval})
        return next(edge for edge in edges if edge > moment)
