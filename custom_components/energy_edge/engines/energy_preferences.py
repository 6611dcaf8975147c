"""What Energy Edge adds to Home Assistant's Energy dashboard, merged with what the user has.

Pure module (no Home Assistant import): it reads and writes the energy preferences as Home
Assistant stores them (`energy_sources`, `device_consumption`). Nothing the user configured is
removed or changed: a grid with an import meter already there stays the grid, a device already
listed keeps its settings. Merging what was merged before changes nothing.
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
    """One individual device: its energy counter and its power."""

    stat_consumption: str
    stat_rate: str | None


@dataclass(frozen=True, kw_only=True)
class Merge:
    """The preferences to write (None: nothing to add), and what was added."""

    update: dict[str, list[dict[str, Any]]] | None
    grid_added: str | None = None
    devices_added: list[str] = field(default_factory=list)


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
    if grid_added is None and not added:
        return Merge(update=None)
    return Merge(
        update={"energy_sources": sources, "device_consumption": consumers},
        grid_added=grid_added,
        devices_added=added,
    )
