"""What Energy Edge adds to Home Assistant's Energy dashboard, merged with what the user has.

Pure module (no Home Assistant import): it reads and writes the energy preferences as Home
Assistant stores them (`energy_sources`, `device_consumption`). Nothing the user configured is
removed or changed: a grid with an import meter already there stays the grid, a device already
listed keeps its settings but its upstream device (`included_in_stat`: the energy counter of the
listed device that also measures it, as a plug behind a DIN-rail meter). That one is filled in
when it lacks, and follows the user's choice in Energy Edge when Energy Edge set it (the caller
remembers which ones it did, `Merge.upstreams_set`); one the user set in Home Assistant stays.
Merging what was merged before changes nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class GridChoice:
    """The grid meter: its import counter (kWh), the price per kWh, its power (W)."""

    stat_energy_from: str
    entity_energy_price: str | None
    stat_rate: str | None


@dataclass(frozen=True, kw_only=True)
class DeviceChoice:
    """One individual device: its energy counter, its power, and the energy counter of the
    device upstream that measures it too (None: wired straight to the main panel)."""

    stat_consumption: str
    stat_rate: str | None
    included_in_stat: str | None = None
    upstream_unknown: bool = False
    """An upstream device was chosen but its energy counter is not known now (offline, not
    discovered yet): whatever the dashboard has for this device stays."""


@dataclass(frozen=True, kw_only=True)
class Merge:
    """The preferences to write (None: nothing to add), and what was added."""

    update: dict[str, list[dict[str, Any]]] | None
    grid_added: str | None = None
    devices_added: list[str] = field(default_factory=list)
    upstreams_added: list[str] = field(default_factory=list)
    """Devices (their energy counters) given an upstream device by this merge."""
    upstreams_changed: list[str] = field(default_factory=list)
    """Devices whose upstream device, set by Energy Edge, is now another one."""
    upstreams_removed: list[str] = field(default_factory=list)
    """Devices whose upstream device, set by Energy Edge, was removed (none chosen now)."""
    upstreams_set: dict[str, str] = field(default_factory=dict)
    """The upstream devices Energy Edge set, to remember for the next merge (device ->
    upstream, by energy counter)."""


def makes_a_loop(upstream_of: Mapping[str, str], device: str, upstream: str) -> bool:
    """Whether `device` behind `upstream` would be behind itself, following `upstream_of`
    (device -> its upstream): Home Assistant's dashboard cannot nest a device in itself."""
    seen = {device}
    current: str | None = upstream
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = upstream_of.get(current)
    return False


def _grid_source(grid: GridChoice) -> dict[str, Any]:
    source: dict[str, Any] = {
        "type": "grid",
        "stat_energy_from": grid.stat_energy_from,
        "stat_energy_to": None,
        "stat_cost": None,
        "entity_energy_price": grid.entity_energy_price,
        "number_energy_price": None,
        "stat_compensation": None,
        "entity_energy_price_export": None,
        "number_energy_price_export": None,
        "cost_adjustment_day": 0.0,
    }
    if grid.stat_rate is not None:
        source["stat_rate"] = grid.stat_rate
    return source


def merge(
    current: Mapping[str, Any] | None,
    grid: GridChoice | None,
    devices: Sequence[DeviceChoice],
    upstreams_set_before: Mapping[str, str] | None = None,
) -> Merge:
    """The current preferences plus Energy Edge's grid (if no grid imports yet) and devices,
    with the upstream devices chosen (`upstreams_set_before`: those Energy Edge set so far)."""
    upstreams_set_before = upstreams_set_before or {}
    sources = [dict(source) for source in (current or {}).get("energy_sources", [])]
    consumers = [dict(device) for device in (current or {}).get("device_consumption", [])]
    grid_added = None
    has_grid_import = any(
        source.get("type") == "grid" and source.get("stat_energy_from") for source in sources
    )
    if grid is not None and not has_grid_import:
        rates = {source.get("stat_rate") for source in sources}
        if grid.stat_rate in rates:  # Home Assistant refuses one power in two grids
            grid = GridChoice(
                stat_energy_from=grid.stat_energy_from,
                entity_energy_price=grid.entity_energy_price,
                stat_rate=None,
            )
        sources.append(_grid_source(grid))
        grid_added = grid.stat_energy_from
    listed = {device.get("stat_consumption") for device in consumers}
    added = []
    for device in devices:
        if device.stat_consumption in listed:
            continue
        entry: dict[str, Any] = {"stat_consumption": device.stat_consumption}
        if device.stat_rate is not None:
            entry["stat_rate"] = device.stat_rate
        consumers.append(entry)
        listed.add(device.stat_consumption)
        added.append(device.stat_consumption)
    upstreams = _apply_upstreams(consumers, devices, upstreams_set_before)
    changed = upstreams.added or upstreams.changed or upstreams.removed
    return Merge(
        update=(
            {"energy_sources": sources, "device_consumption": consumers}
            if grid_added is not None or added or changed
            else None
        ),
        grid_added=grid_added,
        devices_added=added,
        upstreams_added=upstreams.added,
        upstreams_changed=upstreams.changed,
        upstreams_removed=upstreams.removed,
        upstreams_set=upstreams.ours,
    )


@dataclass(slots=True)
class _Upstreams:
    """What a merge did to upstream devices, and those Energy Edge set once it is done."""

    ours: dict[str, str]
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _apply_upstreams(
    consumers: list[dict[str, Any]], devices: Sequence[DeviceChoice], set_before: Mapping[str, str]
) -> _Upstreams:
    """Give each listed device the upstream chosen for it, if that one is listed too and no loop
    follows. An upstream Energy Edge set before (`set_before`, device -> upstream) follows the
    choice: replaced by the new one, or removed; any other upstream is the user's and stays, and
    so does an upstream of Energy Edge's that the user removed, while the choice is the same."""
    listed: dict[str, dict[str, Any]] = {
        consumer["stat_consumption"]: consumer for consumer in consumers
    }
    result = _Upstreams(dict(set_before))
    released: set[str] = set()
    for device in devices:  # first what Energy Edge set that no longer is the choice
        stat = device.stat_consumption
        consumer = listed.get(stat)
        if consumer is None or device.upstream_unknown:
            continue
        current = consumer.get("included_in_stat")
        if current and current != set_before.get(stat):
            result.ours.pop(stat, None)  # the user's: never Energy Edge's again
        elif current and (current != device.included_in_stat or current not in listed):
            del consumer["included_in_stat"]
            released.add(stat)
    upstream_of: dict[str, str] = {
        stat: consumer["included_in_stat"]
        for stat, consumer in listed.items()
        if consumer.get("included_in_stat")
    }
    for device in devices:  # then the choices, on devices without an upstream
        stat = device.stat_consumption
        consumer = listed.get(stat)
        if consumer is None or device.upstream_unknown or consumer.get("included_in_stat"):
            continue
        upstream = device.included_in_stat
        if upstream is None or upstream not in listed or makes_a_loop(upstream_of, stat, upstream):
            result.ours.pop(stat, None)
            if stat in released:
                result.removed.append(stat)
            continue
        if stat not in released and upstream == set_before.get(stat):
            continue  # the user removed it in Home Assistant: it stays removed
        consumer["included_in_stat"] = upstream
        upstream_of[stat] = upstream
        result.ours[stat] = upstream
        (result.changed if stat in released else result.added).append(stat)
    return result
