"""What Energy Edge's management keeps across restarts, in two stores per config entry.

Loads' priorities and managed flags, the loads kept off by shedding (adopted after a restart),
the planned runs, and the Tempo colours given by the service or by the user's entities. Costs are
not here: each cost sensor keeps its own state with Home Assistant's restore data, so a cost and
the sensor showing it are always restored from the same moment. The home's usual load
(`load_profile`) has its own store, written at most every few minutes: it changes with readings.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
import logging
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .engines import stored
from .engines.load_profile import LoadProfile
from .engines.scheduling import PlannedRun
from .engines.shedding import Priority
from .engines.tariff import TempoColor

_LOGGER = logging.getLogger(__package__)

STORAGE_VERSION = 1
SAVE_DELAY_S = 1.0
PROFILE_SAVE_DELAY_S = 600.0  # an SD card is spared; Home Assistant writes it when it stops
TEMPO_COLORS_KEPT = timedelta(days=7)  # pending Tempo energy waits a day or two at most


@dataclass(slots=True)
class LoadSetting:
    """What the user chose for a switchable load."""

    priority: Priority = Priority.MEDIUM
    managed: bool = False


@dataclass(slots=True)
class StoredRun:
    """A planned run, and whether it was switched on (a restart must then switch it off)."""

    run: PlannedRun
    started: bool = False


@dataclass(slots=True)
class ManagementState:
    """Everything stored, typed."""

    loads: dict[str, LoadSetting] = field(default_factory=dict)
    shed: dict[str, float] = field(default_factory=dict)
    """Loads kept off, in the order they were shed: IEEE address -> last power while on (W)."""
    runs: dict[str, StoredRun] = field(default_factory=dict)
    tempo_colors: dict[date, TempoColor] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "loads": {
                ieee: {"priority": setting.priority.value, "managed": setting.managed}
                for ieee, setting in self.loads.items()
            },
            "shed": [{"ieee": ieee, "last_on_power_w": power} for ieee, power in self.shed.items()],
            "runs": [
                {**item.run.to_dict(), "started": item.started} for item in self.runs.values()
            ],
            "tempo_colors": {
                day.isoformat(): color.value for day, color in self.tempo_colors.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ManagementState:
        """Read stored data; a damaged item is dropped with a warning, the rest is kept."""
        state = cls()

        def load(ieee: str, item: object) -> None:
            setting = stored.record(item)
            state.loads[ieee] = LoadSetting(
                Priority(stored.text(setting["priority"])), stored.flag(setting["managed"])
            )

        def shed(_: str, item: object) -> None:
            record = stored.record(item)
            state.shed[stored.text(record["ieee"])] = stored.amount(record["last_on_power_w"])

        def run(_: str, item: object) -> None:
            record = stored.record(item)
            planned = PlannedRun.from_dict(record)
            state.runs[planned.load_id] = StoredRun(planned, stored.flag(record["started"]))

        def color(day: str, item: object) -> None:
            state.tempo_colors[date.fromisoformat(day)] = TempoColor(stored.text(item))

        _read_each(data.get("loads", {}), "loads", load)
        _read_each(data.get("shed", []), "shed", shed)
        _read_each(data.get("runs", []), "runs", run)
        _read_each(data.get("tempo_colors", {}), "tempo_colors", color)
        return state


def _read_each(section: object, name: str, read: Callable[[str, object], None]) -> None:
    """Read each item of a stored section (a mapping's keys, or a list's items with key "");
    a damaged item is logged and dropped, the others are kept."""
    if isinstance(section, Mapping):
        pairs = [(str(key), value) for key, value in section.items()]
    elif isinstance(section, list):
        pairs = [("", value) for value in section]
    else:
        _LOGGER.warning("Stored %s are damaged and were dropped: %r", name, section)
        return
    for key, value in pairs:
        try:
            read(key, value)
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.warning("A stored item of %s is damaged and was dropped (%s)", name, err)


class ManagementStore:
    """One entry's stored management state, saved a moment after each change."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is read before `async_load`."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.management"
        )
        self.state = ManagementState()

    async def async_load(self) -> ManagementState:
        """Read the stored state (empty the first time)."""
        data = await self._store.async_load()
        if isinstance(data, Mapping):
            self.state = ManagementState.from_dict(data)
        return self.state

    def save(self) -> None:
        """Save soon (changes in one burst make one write)."""
        self._store.async_delay_save(self.state.to_dict, SAVE_DELAY_S)

    async def async_flush(self) -> None:
        """Save now (the entry is unloading)."""
        await self._store.async_save(self.state.to_dict())

    async def async_remove(self) -> None:
        """Delete the stored state (the entry is removed)."""
        await self._store.async_remove()

    def prune_tempo_colors(self, today: date) -> None:
        """Forget colours of days long past."""
        for day in [day for day in self.state.tempo_colors if day < today - TEMPO_COLORS_KEPT]:
            del self.state.tempo_colors[day]


class LoadProfileStore:
    """One entry's learned load profile, saved at most every `PROFILE_SAVE_DELAY_S`."""

    def __init__(self, hass: HomeAssistant, entry_id: str, time_zone: ZoneInfo) -> None:
        """Nothing is read before `async_load`."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.load_profile"
        )
        self.profile = LoadProfile(time_zone)
        self._save_pending = False

    async def async_load(self) -> LoadProfile:
        """Read the stored profile (empty the first time, or if it is damaged: it is relearned)."""
        data = await self._store.async_load()
        if isinstance(data, Mapping):
            try:
                self.profile = LoadProfile.from_dict(data, self.profile.time_zone)
            except ValueError as err:
                _LOGGER.warning("The home's usual load is relearned: %s", err)
        return self.profile

    def save(self) -> None:
        """Save within `PROFILE_SAVE_DELAY_S` (readings keep changing it: one write per delay)."""
        if not self._save_pending:
            self._save_pending = True
            self._store.async_delay_save(self._data, PROFILE_SAVE_DELAY_S)

    def _data(self) -> dict[str, Any]:
        self._save_pending = False
        return self.profile.to_dict()

    async def async_flush(self) -> None:
        """Save now (the entry is unloading)."""
        await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        """Delete the stored profile (the entry is removed)."""
        await self._store.async_remove()
