"""Simulated time running `speed` times faster than the wall clock."""

from collections.abc import Callable
import time


class SimulationClock:
    """Maps the wall clock to simulated epoch seconds: `sim = start + speed * elapsed`."""

    def __init__(
        self, start: float, speed: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        """Start counting now."""
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> float:
        """The simulated instant matching this wall-clock instant."""
        return self.start + self.speed * (self._monotonic() - self._origin)

    def wall_seconds_until(self, moment: float) -> float:
        """Wall-clock seconds until the simulated instant `moment` (0 if already past)."""
        return max(0.0, (moment - self.now()) / self.speed)

    def simulated(self, wall_seconds: float) -> float:
        """Simulated seconds that pass during `wall_seconds`."""
        return wall_seconds * self.speed
