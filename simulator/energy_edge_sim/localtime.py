"""The home's local calendar: simulated time is epoch seconds, habits follow French clocks."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class LocalCalendar:
    """Converts between epoch seconds and the local dates and hours that habits are written in.

    Day starts are cached, so asking the same questions again and again (as the household does on
    every event) stays cheap; daylight-saving days have 23 or 25 hours, as in the real home.
    """

    zone: tzinfo = PARIS
    _day_starts: dict[date, float] = field(default_factory=dict, repr=False)

    def day_start(self, day: date) -> float:
        """Epoch seconds of local midnight starting `day`."""
        start = self._day_starts.get(day)
        if start is None:
            start = datetime.combine(day, time(), self.zone).timestamp()
            self._day_starts[day] = start
        return start

    def at(self, day: date, hours: float) -> float:
        """Epoch seconds of a local time on `day`, given as fractional hours after midnight.

        Hours past 24 fall on the next day; a time in the spring-forward gap moves one hour later.
        """
        whole_days, hours = divmod(hours, 24.0)
        day = day + timedelta(days=int(whole_days))
        seconds = round(hours * 3600.0, 3)
        return (datetime.combine(day, time(), self.zone) + timedelta(seconds=seconds)).timestamp()

    def date_of(self, moment: float) -> date:
        """The local date at an epoch instant."""
        return datetime.fromtimestamp(moment, self.zone).date()

    def local(self, moment: float) -> datetime:
        """The aware local datetime of an epoch instant."""
        return datetime.fromtimestamp(moment, self.zone)

    def next_day_start(self, moment: float) -> float:
        """Epoch seconds of the local midnight after `moment`."""
        return self.day_start(self.date_of(moment) + timedelta(days=1))
