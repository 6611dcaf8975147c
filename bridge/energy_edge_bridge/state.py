"""What the rooms of the bridge share: the ingest and the writer update it, the API reads it."""

from collections.abc import Callable
from dataclasses import dataclass, field

from .commands import Outbox
from .devices import DeviceRegistry
from .metrics import Counters, Links

type Clock = Callable[[], int]
"""Nanoseconds since the epoch (`time.time_ns`); tests pass their own."""


@dataclass(frozen=True, slots=True)
class BridgeState:
    """Devices, counters, link states, and commands waiting for the broker."""

    registry: DeviceRegistry = field(default_factory=DeviceRegistry)
    counters: Counters = field(default_factory=Counters)
    links: Links = field(default_factory=Links)
    outbox: Outbox = field(default_factory=Outbox)
