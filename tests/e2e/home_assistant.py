"""What Home Assistant shows of the stack's devices, read through its WebSocket API."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import time
from typing import Any

from scripts.lib.devstack.homeassistant_api import HomeAssistantWebSocket

ENERGY_EDGE = "energy_edge"
HUB_SENSORS = ("home_power", "untracked_power", "home_energy", "devices_online")


@dataclass(frozen=True, kw_only=True)
class SensorView:
    """A sensor entity: its registry entry joined with its current state."""

    entity_id: str
    platform: str
    translation_key: str | None
    entity_category: str | None
    device_class: str | None
    state_class: str | None
    unit: str | None
    state: str

    @property
    def classes(self) -> tuple[str | None, str | None, str | None]:
        """Device class, state class and unit: what the Energy dashboard judges a sensor by."""
        return self.device_class, self.state_class, self.unit

    @property
    def number(self) -> float | None:
        """The state as a number, None when it is `unknown`, `unavailable` or not a number."""
        try:
            return float(self.state)
        except ValueError:
            return None


POWER = ("power", "measurement", "W")
ENERGY = ("energy", "total_increasing", "kWh")


@dataclass(frozen=True)
class HomeView:
    """Sensors by entity id, and the sensors of each Zigbee device by IEEE address."""

    sensors: dict[str, SensorView]
    by_ieee: dict[str, list[SensorView]]

    def of(self, ieee: str, *, platform: str | None = None) -> list[SensorView]:
        """The sensors of a Zigbee device (of one integration when `platform` is given)."""
        return [s for s in self.by_ieee.get(ieee, []) if platform in {None, s.platform}]


async def home_view(socket: HomeAssistantWebSocket) -> HomeView:
    """HA's sensors now, with their device's IEEE address for Zigbee2MQTT's devices."""
    # Registries first: an entity in the state list is then always in them too.
    entities = await socket.command("config/entity_registry/list")
    devices = await socket.command("config/device_registry/list")
    states = await socket.command("get_states")
    registry = {entity["entity_id"]: entity for entity in entities}
    ieee_of = {
        device["id"]: identifier.removeprefix("zigbee2mqtt_")
        for device in devices
        for _, identifier in device["identifiers"]
        if identifier.startswith("zigbee2mqtt_0x")
    }
    sensors: dict[str, SensorView] = {}
    by_ieee: dict[str, list[SensorView]] = {}
    for state in states:
        entity_id = state["entity_id"]
        entry = registry.get(entity_id)
        if not entity_id.startswith("sensor.") or entry is None:
            continue
        attributes = state["attributes"]
        sensor = SensorView(
            entity_id=entity_id,
            platform=entry["platform"],
            translation_key=entry.get("translation_key"),
            entity_category=entry.get("entity_category"),
            device_class=attributes.get("device_class"),
            state_class=attributes.get("state_class"),
            unit=attributes.get("unit_of_measurement"),
            state=state["state"],
        )
        sensors[entity_id] = sensor
        if ieee := ieee_of.get(entry.get("device_id") or ""):
            by_ieee.setdefault(ieee, []).append(sensor)
    return HomeView(sensors, by_ieee)


class StateFollower:
    """The successive states of one entity (HA's `subscribe_entities`, as its frontend uses)."""

    def __init__(self, socket: HomeAssistantWebSocket, subscription: int, entity_id: str) -> None:
        self._socket = socket
        self._subscription = subscription
        self.entity_id = entity_id

    async def next_state(self, within: float) -> str:
        """The entity's next state (the first call gives the current one)."""
        while True:
            event: dict[str, Any] = await self._socket.next_event(self._subscription, within)
            if added := event.get("a", {}).get(self.entity_id):
                return str(added["s"])
            changed = event.get("c", {}).get(self.entity_id, {}).get("+", {})
            if "s" in changed:  # not when only attributes changed
                return str(changed["s"])


async def follow(socket: HomeAssistantWebSocket, entity_id: str) -> StateFollower:
    """Follow an entity's state (until the socket closes)."""
    subscription = await socket.subscribe("subscribe_entities", entity_ids=[entity_id])
    return StateFollower(socket, subscription, entity_id)


async def settled_problems(
    find: Callable[[], Awaitable[list[str]]], *, within: float, interval: float = 0.5
) -> list[str]:
    """Ask `find` for problems until it finds none or `within` seconds pass; return the last ones.

    For what the stack reaches a moment after it starts (entities set up, first readings in).
    """
    deadline = time.monotonic() + within
    while True:
        problems = await find()
        if not problems or time.monotonic() >= deadline:
            return problems
        await asyncio.sleep(interval)
