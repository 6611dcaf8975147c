"""What Energy Edge adds to Home Assistant's Energy dashboard, merged with what the user has.

Pure module (no Home Assistant import): it reads and writes the energy preferences as Home
Assistant stores them (`energy_sources`, `device_consumption`). Nothing the user configured is
removed or changed: a grid with an import meter already there stays the grid, a device already
listed keeps its settings; only an upstream device it lacks is filled in (`included_in_stat`:
the energy counter of the listed device that also measures it, as a plug behind a DIN-rail
meter). Merging what was merged before changes nothing.
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


@dataclass(frozen=True, kw_only=True)
class Merge:
    """The preferences to write (None: nothing to add), and what was added."""

    update: dict[str, list[dict[str, Any]]] | None
    grid_added: str | None = None
    devices_added: list[str] = field(default_factory=list)
    upstreams_added: list[str] = field(default_factory=list)
    """Devices (their energy counters) given an upstream device by this merge."""


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
    current: Mapping[str, Any] | None, grid: GridChoice | None, devices: Sequence[DeviceChoice]
) -> Merge:
    """The current preferences plus Energy Edge's grid (if no grid imports yet) and devices."""
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
    upstreams = _add_upstreams(consumers, devices)
    if grid_added is None and not added and not upstreams:
        return Merge(update=None)
    return Merge(
        update={"energy_sources": sources, "device_consumption": consumers},
        grid_added=grid_added,
        devices_added=added,
        upstreams_added=upstreams,
    )


def _add_upstreams(consumers: list[dict[str, Any]], devices: Sequence[DeviceChoice]) -> list[str]:
    """Give each listed device without an upstream the one chosen for it, if that one is
    listed too and no loop follows; an upstream already there is the user's and stays."""
    listed: dict[str, dict[str, Any]] = {
        consumer["stat_consumption"]: consumer for consumer in consumers
    }
    upstream_of: dict[str, str] = {
        stat: consumer["included_in_stat"]
        for stat, consumer in listed.items()
        if consumer.get("included_in_stat")
    }
    added = []
    for device in devices:
        upstream = device.included_in_stat
        consumer = listed.get(device.stat_consumption)
        if (
            upstream is None
            or consumer is None
            or consumer.get("included_in_stat")
            or upstream not in listed
            or makes_a_loop(upstream_of, device.stat_consumption, upstream)
        ):
            continue
        consumer["included_in_stat"] = upstream
        upstream_of[device.stat_consumption] = upstream
        added.append(device.stat_consumption)
    return added
