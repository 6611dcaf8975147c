"""Time above the contract power, measured on the home's true apparent power each second."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Excursion:
    """A stretch of seconds above the limit."""

    start_s: int
    seconds: int
    excess_va: float
    """How far over the limit the home went when it began."""
    peak_excess_va: float
    managed_va: float
    """What the managed, non-critical loads drew when it began: what shedding could remove."""
    seen_at_s: int | None
    """The first meter reading above the limit during it (None: the meter never saw it)."""

    @property
    def end_s(self) -> int:
        """The first second back under the limit."""
        return self.start_s + self.seconds

    @property
    def enough_managed_load(self) -> bool:
        """Shedding the managed loads running when it began would have covered the excess."""
        return self.managed_va >= self.excess_va

    @property
    def seconds_after_seen(self) -> int | None:
        """How long it lasted after the meter first reported it."""
        return None if self.seen_at_s is None else self.end_s - self.seen_at_s


class ExcursionTracker:
    """Turns one sample a second into excursions above `limit_va`."""

    def __init__(self, limit_va: float, managed_va: Callable[[], float]) -> None:
        self.limit_va = limit_va
        self.excursions: list[Excursion] = []
        self._managed_va = managed_va
        self._start_s: int | None = None
        self._excess_va = self._peak_va = self._managed_at_start_va = 0.0
        self._seen_at_s: int | None = None

    def sample(self, second: int, apparent_va: float) -> None:
        """The home's true apparent power during `second`."""
        if apparent_va > self.limit_va:
            if self._start_s is None:
                self._start_s, self._seen_at_s = second, None
                self._excess_va = self._peak_va = apparent_va - self.limit_va
                self._managed_at_start_va = self._managed_va()
            self._peak_va = max(self._peak_va, apparent_va - self.limit_va)
        elif self._start_s is not None:
            self._close(self._start_s, second)

    def meter_read(self, second: int, measured_va: float) -> None:
        """The meter reported `measured_va` at `second` (after that second's sample)."""
        if self._start_s is not None and self._seen_at_s is None and measured_va > self.limit_va:
            self._seen_at_s = second

    def finish(self, second: int) -> None:
        """Close an excursion still running at the end of the replay."""
        if self._start_s is not None:
            self._close(self._start_s, second)

    def _close(self, start_s: int, second: int) -> None:
        self.excursions.append(
            Excursion(
                start_s=start_s,
                seconds=second - start_s,
                excess_va=self._excess_va,
                peak_excess_va=self._peak_va,
                managed_va=self._managed_at_start_va,
                seen_at_s=self._seen_at_s,
            )
        )
        self._start_s = None
