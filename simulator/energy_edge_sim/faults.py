"""Faults a real Zigbee network shows, injected at random or on demand.

- `reboot`: a device restarts; its energy counter starts again from 0 and it announces itself.
- `dropout`: a device falls off the network for a while (availability offline, then back).
- `malformed`: a device's topic carries a payload no parser should trust.
- `bridge_restart`: Zigbee2MQTT restarts (bridge offline, then online and everything republished).
- `linky_silent`: the ZLinky stops reporting for a while.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
import math
import random

from . import z2mjson
from .seeding import seeded
from .z2mjson import JsonObject


class FaultKind(StrEnum):
    """The faults the simulator can inject."""

    REBOOT = "reboot"
    DROPOUT = "dropout"
    MALFORMED = "malformed"
    BRIDGE_RESTART = "bridge_restart"
    LINKY_SILENT = "linky_silent"

    @property
    def targets_device(self) -> bool:
        """The fault happens to one device (not to the bridge)."""
        return self is not FaultKind.BRIDGE_RESTART


# How long a fault lasts when nobody says, in simulated seconds (from, to).
DEFAULT_DURATIONS_S: dict[FaultKind, tuple[float, float]] = {
    FaultKind.DROPOUT: (120.0, 900.0),
    FaultKind.BRIDGE_RESTART: (8.0, 20.0),
    FaultKind.LINKY_SILENT: (600.0, 2400.0),
}


@dataclass(frozen=True)
class Fault:
    """One fault to inject at a simulated instant."""

    kind: FaultKind
    at: float
    device: str | None = None
    duration_s: float = 0.0


@dataclass
class FaultPlanner:
    """Draws faults as Poisson processes, one per kind, at `rates_per_hour` (simulated hours).

    The sequence only depends on the seed and the rates, so a faulty run can be replayed.
    """

    rates_per_hour: dict[FaultKind, float]
    seed: int
    devices: Sequence[str]
    meters: Sequence[str]
    _next: dict[FaultKind, float] = field(default_factory=dict, init=False)
    _rngs: dict[FaultKind, random.Random] = field(default_factory=dict, init=False)

    def start(self, moment: float) -> None:
        """Plan the first fault of each kind after `moment`."""
        for kind, rate in self.rates_per_hour.items():
            if rate < 0 or not math.isfinite(rate):
                raise ValueError(f"the rate of {kind} faults must be a non-negative number")
            if rate == 0 or not self._candidates(kind):
                continue
            self._rngs[kind] = seeded(self.seed, "fault", kind)
            self._next[kind] = moment + self._rngs[kind].expovariate(rate / 3600)

    def _candidates(self, kind: FaultKind) -> Sequence[str]:
        if kind is FaultKind.LINKY_SILENT:
            return self.meters
        return self.devices if kind.targets_device else ("bridge",)

    def due(self, moment: float) -> list[Fault]:
        """Faults whose time has come, in time order."""
        faults = []
        for kind in list(self._next):
            while self._next[kind] <= moment:
                rng = self._rngs[kind]
                at = self._next[kind]
                device = rng.choice(list(self._candidates(kind))) if kind.targets_device else None
                low, high = DEFAULT_DURATIONS_S.get(kind, (0.0, 0.0))
                faults.append(Fault(kind, at, device, rng.uniform(low, high)))
                self._next[kind] = at + rng.expovariate(self.rates_per_hour[kind] / 3600)
        return sorted(faults, key=lambda fault: fault.at)


def malformed_payload(values: JsonObject, rng: random.Random) -> bytes:
    """A broken version of a device's state: the kinds of garbage parsers must survive."""
    text = z2mjson.dumps(values)
    power = values.get("power")
    number = power if isinstance(power, int | float) and not isinstance(power, bool) else 50
    variants = [
        text[: max(1, len(text) // 2)].encode(),  # truncated JSON
        z2mjson.dumps({**values, "power": str(number)}).encode(),  # a number sent as a string
        z2mjson.dumps({**values, "power": "NaN"}).replace('"NaN"', "NaN").encode(),  # not JSON
        z2mjson.dumps({**values, "power": -abs(number) - 1}).encode(),  # negative power
        b"[1, 2, 3]",  # JSON that is not an object
        b"null",
        b"\xff\xfe not utf-8",
    ]
    return rng.choice(variants)
