"""A French household for the management tests: devices on Zigbee2MQTT, Energy Edge in Paris time.

`start` sets Home Assistant in Paris time, publishes the devices as Z2M does, sets Energy Edge up
at a given wall-clock instant (the `clock` fixture is Energy Edge's only time source), and waits
until every device is known. The returned `Household` moves time, sends device states, reads
entities and waits for the commands Energy Edge sends to the loads.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import json
import time
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.const import DOMAIN
from custom_components.energy_edge.data import EnergyEdgeData
from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually, setup_energy_edge, subscribed, travel

PARIS = ZoneInfo("Europe/Paris")

LINKY = z2m.zlinky_standard("0x00158d0004c00001", "linky")
WATER_HEATER = z2m.plug("0xa4c1380004c00002", "water_heater")
HEATER = z2m.plug("0xa4c1380004c00003", "heater")
OVEN = z2m.plug("0xa4c1380004c00004", "oven")
FREEZER = z2m.plug("0xa4c1380004c00005", "freezer")
DIN_METER = z2m.din_meter_3p("0x8c65a3fffe4c0006", "workshop")

# The per-device entities Energy Edge's management makes, by device role.
ENTITIES_OF = {
    "sub_meter": [("sensor", "cost")],
    "switchable_load": [
        ("sensor", "cost"),
        ("sensor", "next_run"),
        ("switch", "managed"),
        ("select", "priority"),
    ],
}


def expected_role(device: z2m.Device) -> str:
    """The role Energy Edge must give a device of these tests."""
    if device.model_id == "ZLinky_TIC":
        return "grid_meter"
    has_switch = any(expose.get("type") == "switch" for expose in device.exposes)
    return "switchable_load" if has_switch else "sub_meter"


def paris(*parts: int, fold: int = 0) -> datetime:
    """A wall-clock time in Paris; `fold=1` is the second 02:xx of the autumn change."""
    return datetime(*parts, tzinfo=PARIS, fold=fold)


@dataclass
class Household:
    """Energy Edge running for a household, with time under the test's control."""

    hass: HomeAssistant
    zigbee2mqtt: Zigbee2MQTT
    clock: Clock
    entry: MockConfigEntry
    devices: list[z2m.Device]
    _subscribed: set[tuple[int, str]] = field(default_factory=set)

    @property
    def data(self) -> EnergyEdgeData:
        """The loaded entry's runtime data (a new one after each reload)."""
        runtime: EnergyEdgeData = self.entry.runtime_data
        return runtime

    async def travel(self, delta: timedelta) -> None:
        """Let time pass."""
        await travel(self.hass, self.clock, delta.total_seconds())

    async def travel_to(self, instant: datetime) -> None:
        """Let time pass until a wall-clock instant."""
        await self.travel(instant - self.clock.utc)

    async def send(self, device: z2m.Device, **values: Any) -> None:
        """A state message of a device, read by Energy Edge before this returns."""
        hub = self.data.hub
        if (id(hub), device.state_topic) not in self._subscribed:  # once per topic and start
            await subscribed(self.hass, device.state_topic)
            self._subscribed.add((id(hub), device.state_topic))
        status = hub.status(device.ieee)
        before = status.last_state if status else None
        self.zigbee2mqtt.state(device, **values)
        deadline = time.monotonic() + 10
        while (status := hub.status(device.ieee)) is None or status.last_state is before:
            assert time.monotonic() < deadline, f"Energy Edge did not read {device.state_topic}"
            await asyncio.sleep(0.002)
        await self.hass.async_block_till_done()

    async def meter_reads(self, meter: z2m.Device, va: float, duration: timedelta) -> None:
        """The meter reports the same apparent power every minute (as a Linky does) for a while."""
        steps = max(round(duration / timedelta(minutes=1)), 1)
        for _ in range(steps):
            await self.send(meter, apparent_power=va)
            await self.travel(duration / steps)

    async def commands_for(self, device: z2m.Device, count: int) -> list[str]:
        """The states Energy Edge commanded to a device, once there are `count` of them."""

        def commanded() -> list[str]:
            return [
                json.loads(payload)["state"]
                for name, payload in self.zigbee2mqtt.commands
                if name == device.friendly_name
            ]

        await eventually(self.hass, lambda: len(commanded()) >= count)
        return commanded()

    def state(self, entity_id: str) -> State:
        """An entity's state (it must exist)."""
        state = self.hass.states.get(entity_id)
        assert state is not None, f"{entity_id} does not exist"
        return state

    def number(self, entity_id: str) -> float | None:
        """An entity's numeric state, None when unknown or unavailable."""
        state = self.state(entity_id).state
        return None if state in ("unknown", "unavailable") else float(state)

    def entity_id(self, device: z2m.Device, key: str, platform: str = SENSOR_DOMAIN) -> str:
        """The entity id Energy Edge gave one of a device's entities."""
        entity_id = er.async_get(self.hass).async_get_entity_id(
            platform, DOMAIN, f"{device.ieee}_{key}_{DOMAIN}"
        )
        assert entity_id is not None, f"no {platform} {key} for {device.friendly_name}"
        return entity_id

    def device_id(self, device: z2m.Device) -> str:
        """The Home Assistant device of a Zigbee device (Z2M's own, made by MQTT discovery)."""
        (found,) = dr.async_get(self.hass).async_get_devices(
            identifiers={("mqtt", f"zigbee2mqtt_{device.ieee}")}
        )
        return found.id

    async def reload(self) -> None:
        """Reload Energy Edge (what a restart does to it), keeping the same clock."""
        assert await self.hass.config_entries.async_reload(self.entry.entry_id)
        await self.hass.async_block_till_done()
        await self.settle()

    async def stop(self) -> None:
        """Energy Edge stops (Home Assistant going down); time may pass before `restart`."""
        assert await self.hass.config_entries.async_unload(self.entry.entry_id)
        await self.hass.async_block_till_done()

    async def restart(self) -> None:
        """Energy Edge starts again after `stop`."""
        assert await self.hass.config_entries.async_setup(self.entry.entry_id)
        await self.hass.async_block_till_done()
        await self.settle()

    async def settle(self) -> None:
        """Wait until Energy Edge knows every device in its final role (discovery configs and
        the device list arrive in any order) and has made their entities."""
        hub = self.data.hub

        def role(device: z2m.Device) -> str | None:
            known = hub.device(device.ieee)
            available = known is not None and hub.device_available(device.ieee)
            return known.role.value if available and known and known.role else None

        await eventually(
            self.hass,
            lambda: all(role(device) == expected_role(device) for device in self.devices),
        )
        await eventually(
            self.hass,
            lambda: all(
                self._live(platform, f"{device.ieee}_{key}_{DOMAIN}")
                for device in self.devices
                for platform, key in ENTITIES_OF.get(expected_role(device), ())
            ),
        )

    def _live(self, platform: str, unique_id: str) -> bool:
        """The entity is there, made by this run of Energy Edge (not a placeholder restored by
        Home Assistant while the entity is not set up yet)."""
        entity_id = er.async_get(self.hass).async_get_entity_id(platform, DOMAIN, unique_id)
        state = self.hass.states.get(entity_id) if entity_id else None
        return state is not None and not state.attributes.get("restored")


async def start(
    hass: HomeAssistant,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    devices: list[z2m.Device],
    *,
    at: datetime,
    **options: Any,
) -> Household:
    """Energy Edge set up at `at` (Paris time) for these devices, with these options."""
    await hass.config.async_set_time_zone("Europe/Paris")
    clock.set(at)
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices(devices)
    for device in devices:
        zigbee2mqtt.discovery(device)
    entry = await setup_energy_edge(hass, **options)
    household = Household(hass, zigbee2mqtt, clock, entry, devices)
    await household.settle()
    return household
