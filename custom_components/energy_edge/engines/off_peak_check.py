"""Does the Linky agree with the off-peak hours the user configured?

Pure module (no Home Assistant import). The meter is the truth: Enedis sets each customer's
off-peak windows (and moves them under the HP/HC reform), and the Linky switches its tariff period
by them. The ZLinky reports that period as text: `PTEC` in historic mode (`HC..`, `HP..`,
`HCJB`..`HPJR` for Tempo, `TH..` for base) and `LTARF` in standard mode (the supplier's label,
e.g. `HEURES CREUSES`, `HP BLEU`).

A disagreement lasting more than a day is worth the user's attention; a glitch is not. So a
reading disagrees only away from the configured boundaries (the meter's clock and its reporting
delay may be a few minutes off ours), the check raises once disagreeing readings span more than a
day without a whole day of agreement between them, and lifts once a whole day passes in agreement.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
import re

from .tariff import Tariff, TariffKind

DISAGREEMENT_SPAN = timedelta(days=1)
"""How long the meter and the windows must keep disagreeing before the user is told."""
BOUNDARY_TOLERANCE = timedelta(minutes=5)
"""Readings this close to a configured boundary are not judged (clock skew, reporting delay)."""

_OFF_PEAK_WORDS = frozenset({"CREUSE", "CREUSES"})
_PEAK_WORDS = frozenset({"PLEINE", "PLEINES"})


def meter_says_off_peak(text: str) -> bool | None:
    """Whether the meter's tariff period text names off-peak hours (True), peak hours (False),
    or neither (None: a base period `TH..`, an unknown label)."""
    words = re.split(r"[^A-Z]+", text.upper())
    off_peak = any(word.startswith("HC") or word in _OFF_PEAK_WORDS for word in words)
    peak = any(word.startswith("HP") or word in _PEAK_WORDS for word in words)
    return off_peak if off_peak != peak else None


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A reading where the meter and the configured windows disagree."""

    at: datetime
    meter_period: str
    meter_off_peak: bool


class OffPeakCheck:
    """Compares each meter reading of the tariff period with the configured windows."""

    def __init__(self, tariff: Tariff, *, raised: bool = False) -> None:
        """`raised`: the disagreement was already reported (before a restart)."""
        if tariff.kind is TariffKind.BASE:
            raise ValueError("a base tariff has no off-peak hours to check")
        self.tariff = tariff
        self.raised = raised
        self.last_disagreement: Disagreement | None = None
        self._first_disagreement: datetime | None = None
        self._agreeing_since: datetime | None = None

    def observe(self, at: datetime, meter_period: str) -> bool:
        """Judge one reading; True when `raised` changed."""
        meter_off_peak = meter_says_off_peak(meter_period)
        if meter_off_peak is None or self._near_boundary(at):
            return False
        if meter_off_peak == self.tariff.period_at(at).is_off_peak:
            if self._agreeing_since is None:
                self._agreeing_since = at
            if at - self._agreeing_since < DISAGREEMENT_SPAN:
                return False
            self._first_disagreement = None  # a whole day in agreement
            return self._set_raised(False)
        self._agreeing_since = None
        self.last_disagreement = Disagreement(at, meter_period, meter_off_peak)
        if self._first_disagreement is None:
            self._first_disagreement = at
        return at - self._first_disagreement > DISAGREEMENT_SPAN and self._set_raised(True)

    def _set_raised(self, raised: bool) -> bool:
        changed = raised != self.raised
        self.raised = raised
        return changed

    def _near_boundary(self, at: datetime) -> bool:
        """Whether the configured period changes within the tolerance of an instant."""
        before = self.tariff.period_at(at - BOUNDARY_TOLERANCE).is_off_peak
        after = self.tariff.period_at(at + BOUNDARY_TOLERANCE).is_off_peak
        return before != after or before != self.tariff.period_at(at).is_off_peak
