"""What the rooms of the bridge share: the ingest and the writer update it, the API reads it."""

from collections.abc import Callable
from dataclasses import dataclass, field

from .commands import Outbox
from .devices import DeviceRegistry
from .metrics import Counters, Links
from .supervision import Heartbeat

type Clock = Callable[[], int]
"""Nanoseconds since the epoch (`time.time_ns`); tests pass their own."""


@dataclass(frozen=True, slots=True)
class Loops:
    """The heartbeats of the bridge's long-running loops."""

    ingest: Heartbeat = field(default_factory=lambda: Heartbeat("ingest"))
    writer: Heartbeat = field(default_factory=lambda: Heartbeat("writer"))
    health: Heartbeat = field(default_factory=lambda: Heartbeat("health"))

    def all(self) -> tuple[Heartbeat, ...]:
        """Every loop, in the order the data flows."""
        return self.ingest, self.writer, self.health


@dataclass(frozen=True, slots=True)
class BridgeState:
    """Devices, counters, link states, loops, and commands waiting for the broker."""

    registry: DeviceRegistry = field(default_factory=DeviceRegistry)
    counters: Counters = field(default_factory=Counters)
    links: Links = field(default_factory=Links)
    outbox: Outbox = field(default_factory=Outbox)
    loops: Loops = field(default_factory=Loops)
