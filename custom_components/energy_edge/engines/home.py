"""The home as a whole, kept as readings arrive: its power, untracked power, devices online.

Pure module (no Home Assistant import). The devices' power is kept incrementally, in integer mW
(exact whatever the order of additions), rather than summed over every device at every update;
which figure is the home's power is the protocol library's one rule (`home_power`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from zigbee2mqtt_protocol.home import home_power


class HomeSnapshot(NamedTuple):
    """The home as a whole, computed from the latest readings (a tuple: one per update)."""

    power_w: float | None
    untracked_power_w: float | None
    devices_online: int


@dataclass(frozen=True, slots=True)
class CountedDevice:
    """A device as the home counts it: available or not, and its latest power (W)."""

    ieee: str
    available: bool
    power_w: float | None


class HomeTotals:
    """The available devices' power and count, without the grid meter's."""

    def __init__(self) -> None:
        """Start with nothing counted."""
        self.grid_meter: str | None = None
        self._devices_mw = 0
        self._powered = 0
        self._online = 0

    def count(self, devices: Iterable[CountedDevice], grid_meter: str | None) -> None:
        """Count again from every device (availability or the grid meter changed)."""
        self.grid_meter = grid_meter
        self._devices_mw = self._powered = self._online = 0
        for device in devices:
            if not device.available:
                continue
            self._online += 1
            if device.ieee != grid_meter and device.power_w is not None:
                self._devices_mw += round(device.power_w * 1000)
                self._powered += 1

    def power_changed(self, ieee: str, available: bool, old_w: float | None, new_w: float) -> None:
        """One device's power went from `old_w` to `new_w`."""
        if not available or ieee == self.grid_meter:
            return
        if old_w is None:
            self._powered += 1
        else:
            self._devices_mw -= round(old_w * 1000)
        self._devices_mw += round(new_w * 1000)

    def snapshot(self, grid_power_w: float | None) -> HomeSnapshot:
        """The home, given the grid meter's power (None: none, unavailable or silent)."""
        home = home_power(grid_power_w, self._devices_mw / 1000 if self._powered else None)
        if home is None:
            return HomeSnapshot(None, None, self._online)
        return HomeSnapshot(home.power, home.untracked, self._online)
