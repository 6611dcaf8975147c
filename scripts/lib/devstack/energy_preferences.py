"""Which entities the Energy dashboard would show, from HA's entities: the stack waits until
every device Zigbee2MQTT announced has them before Energy Edge's action fills the dashboard.

Pure: it reads HA's state list and registries as the WebSocket API returns them. Sensors are
recognised by device class, state class and unit; the grid meter is the Linky (a ZLinky_TIC),
individual devices are the other Zigbee devices.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
import re
from typing import Any

GRID_METER_MODELS = frozenset({"ZLinky_TIC"})
ZIGBEE_IDENTIFIER = re.compile(r"^zigbee2mqtt_0x[0-9a-f]+$")
ENERGY_UNITS = frozenset({"Wh", "kWh", "MWh"})
POWER_UNITS = frozenset({"W", "kW"})
# Counters of energy sent to the grid (PV, export registers), which are not consumption.
PRODUCTION_WORDS = frozenset({"produced", "received", "export", "returned", "production"})
# The Linky's total import register (standard mode EAST, historic mode BASE).
TOTAL_REGISTERS = frozenset({"east", "base"})
ENERGY_EDGE = "energy_edge"


@dataclass(frozen=True, kw_only=True)
class Sensor:
    """A sensor entity with what the choice needs to know about it."""

    entity_id: str
    device_id: str | None
    platform: str
    device_class: str | None
    state_class: str | None
    unit: str | None
    words: frozenset[str]

    @property
    def is_energy(self) -> bool:
        """An energy counter the Energy dashboard accepts."""
        return (
            self.device_class == "energy"
            and self.state_class in {"total", "total_increasing"}
            and self.unit in ENERGY_UNITS
        )

    @property
    def is_power(self) -> bool:
        """An instantaneous power the power views accept."""
        return (
            self.device_class == "power"
            and self.state_class == "measurement"
            and self.unit in POWER_UNITS
        )

    @property
    def is_production(self) -> bool:
        """Counts energy given to the grid rather than drawn from it."""
        return bool(self.words & PRODUCTION_WORDS)


@dataclass(frozen=True, kw_only=True)
class DeviceChoice:
    """One individual device of the Energy dashboard."""

    stat_consumption: str
    stat_rate: str | None


@dataclass(frozen=True, kw_only=True)
class EnergyChoice:
    """What the stack puts in HA's energy preferences."""

    grid_import: str | None
    grid_power: str | None
    devices: tuple[DeviceChoice, ...]


def _words(*texts: str | None) -> frozenset[str]:
    return frozenset(
        word for text in texts if text for word in re.split(r"[^a-z0-9]+", text.lower()) if word
    )


def read_sensors(
    states: Iterable[Mapping[str, Any]], entities: Iterable[Mapping[str, Any]]
) -> list[Sensor]:
    """Join the state list (classes, unit) with the entity registry (device, platform)."""
    registry = {entity["entity_id"]: entity for entity in entities}
    sensors = []
    for state in states:
        entity_id = str(state["entity_id"])
        if not entity_id.startswith("sensor."):
            continue
        attributes = state.get("attributes", {})
        entry = registry.get(entity_id, {})
        sensors.append(
            Sensor(
                entity_id=entity_id,
                device_id=entry.get("device_id"),
                platform=str(entry.get("platform", "")),
                device_class=attributes.get("device_class"),
                state_class=attributes.get("state_class"),
                unit=attributes.get("unit_of_measurement"),
                words=_words(entity_id, entry.get("unique_id"), entry.get("translation_key")),
            )
        )
    return sensors


def _grid_meter_ids(devices: Iterable[Mapping[str, Any]]) -> set[str]:
    return {
        device["id"]
        for device in devices
        if {device.get("model_id"), device.get("model")} & GRID_METER_MODELS
    }


def _zigbee_device_ids(devices: Iterable[Mapping[str, Any]]) -> set[str]:
    return {
        device["id"]
        for device in devices
        if any(ZIGBEE_IDENTIFIER.match(str(value)) for _, value in device.get("identifiers", []))
    }


def _grid_import_rank(sensor: Sensor) -> tuple[int, str]:
    if sensor.platform == ENERGY_EDGE:
        return (0 if "import" in sensor.words else 1), sensor.entity_id
    return (2 if sensor.words & TOTAL_REGISTERS else 3), sensor.entity_id


def _device_energy_rank(sensor: Sensor) -> tuple[int, str]:
    # The device's own counter first (Zigbee2MQTT's `energy`), then Energy Edge's integrated one.
    if "energy" in sensor.words and sensor.platform != ENERGY_EDGE:
        return 0, sensor.entity_id
    return (1 if sensor.platform == ENERGY_EDGE else 2), sensor.entity_id


def _device_power_rank(sensor: Sensor) -> tuple[int, str]:
    return (0 if "power" in sensor.words else 1), sensor.entity_id


def choose(sensors: Sequence[Sensor], devices: Sequence[Mapping[str, Any]]) -> EnergyChoice:
    """The grid meter's import counter and power, and one counter per other Zigbee device."""
    meters = _grid_meter_ids(devices)
    zigbee = _zigbee_device_ids(devices) - meters
    consumption = [sensor for sensor in sensors if sensor.is_energy and not sensor.is_production]
    grid = sorted((s for s in consumption if s.device_id in meters), key=_grid_import_rank)
    grid_power = sorted(
        s.entity_id
        for s in sensors
        if s.is_power and s.device_id in meters and s.platform == ENERGY_EDGE
    )
    chosen = []
    for device_id in sorted(zigbee):
        counters = sorted(
            (s for s in consumption if s.device_id == device_id), key=_device_energy_rank
        )
        if not counters:
            continue
        powers = sorted(
            (s for s in sensors if s.is_power and s.device_id == device_id), key=_device_power_rank
        )
        chosen.append(
            DeviceChoice(
                stat_consumption=counters[0].entity_id,
                stat_rate=powers[0].entity_id if powers else None,
            )
        )
    return EnergyChoice(
        grid_import=grid[0].entity_id if grid else None,
        grid_power=grid_power[0] if grid_power else None,
        devices=tuple(sorted(chosen, key=lambda choice: choice.stat_consumption)),
    )
