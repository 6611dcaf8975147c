"""What Zigbee2MQTT (or the simulator standing in for it) announces on the stack's broker."""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
import json
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .credentials import Credentials
from .energy_preferences import (
    ENERGY_EDGE,
    ENERGY_UNITS,
    GRID_METER_MODELS,
    POWER_UNITS,
    ZIGBEE_IDENTIFIER,
    EnergyChoice,
    Sensor,
)
from .layout import StackLayout

BASE_TOPIC = "zigbee2mqtt"


@dataclass(frozen=True, kw_only=True)
class ZigbeeDevice:
    """A device of `bridge/devices`: its names and the units of what it exposes."""

    name: str
    ieee: str
    model: str  # Zigbee2MQTT's model (its definition's), e.g. "TS011F_plug_1"
    units: frozenset[str]

    @property
    def is_grid_meter(self) -> bool:
        """The Linky, through a ZLinky adapter."""
        return self.model in GRID_METER_MODELS

    @property
    def measures_power(self) -> bool:
        """Reports its power."""
        return bool(self.units & POWER_UNITS)

    @property
    def counts_energy(self) -> bool:
        """Has an energy counter of its own."""
        return bool(self.units & ENERGY_UNITS)


def _units(exposes: list[dict[str, Any]]) -> Iterator[str]:
    for expose in exposes:
        if unit := expose.get("unit"):
            yield str(unit)
        yield from _units(expose.get("features", []))


def parse_bridge_devices(payload: bytes) -> list[ZigbeeDevice]:
    """The devices of a `bridge/devices` message (not the coordinator: it has no definition)."""
    return [
        ZigbeeDevice(
            name=device["friendly_name"],
            ieee=device["ieee_address"],
            model=device["definition"]["model"],
            units=frozenset(_units(device["definition"].get("exposes", []))),
        )
        for device in json.loads(payload)
        if device.get("definition")
    ]


def wait_for_retained(
    layout: StackLayout,
    credentials: Credentials,
    topic: str,
    accept: Callable[[bytes], bool],
    timeout: float,
) -> bytes | None:
    """The first message on the topic that `accept`s, within `timeout` seconds, else None.

    Retained messages arrive at once, so this reads what Zigbee2MQTT last announced.
    """
    received: list[bytes] = []
    done = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        if not done.is_set() and accept(message.payload):
            received.append(message.payload)
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set("developer", credentials.mqtt_passwords["developer"])
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(topic, qos=1)
    client.on_message = on_message
    client.connect(layout.host, layout.mqtt_port)
    client.loop_start()
    try:
        return received[0] if done.wait(timeout) else None
    finally:
        client.disconnect()
        client.loop_stop()


def zigbee2mqtt_online(layout: StackLayout, credentials: Credentials, timeout: float) -> bool:
    """Zigbee2MQTT's retained bridge state says `online` (the simulator is up)."""
    topic = f"{BASE_TOPIC}/bridge/state"
    return (
        wait_for_retained(layout, credentials, topic, lambda p: b'"online"' in p, timeout)
        is not None
    )


def announced_devices(
    layout: StackLayout, credentials: Credentials, timeout: float
) -> list[ZigbeeDevice]:
    """The devices Zigbee2MQTT lists in its retained `bridge/devices` (none if it has not yet)."""
    topic = f"{BASE_TOPIC}/bridge/devices"
    payload = wait_for_retained(layout, credentials, topic, lambda _: True, timeout)
    return parse_bridge_devices(payload) if payload is not None else []


def left_out(
    choice: EnergyChoice,
    sensors: Sequence[Sensor],
    devices: Sequence[Mapping[str, Any]],
    announced: Iterable[ZigbeeDevice],
) -> list[str]:
    """The announced energy devices that the Energy dashboard's choice leaves out, or takes
    without all it should have, by name.

    While Home Assistant is still setting up the devices' entities, some are missing, and
    Zigbee2MQTT's own come before Energy Edge's: the Linky needs Energy Edge's import counter
    and power (its registers come first), every other energy device a counter, and its power
    when it measures one.
    """
    by_id = {sensor.entity_id: sensor for sensor in sensors}
    ieee_of = {
        device["id"]: str(identifier).removeprefix(f"{BASE_TOPIC}_")
        for device in devices
        for _, identifier in device.get("identifiers", [])
        if ZIGBEE_IDENTIFIER.match(str(identifier))
    }

    def ieee(entity_id: str | None) -> str | None:
        sensor = by_id.get(entity_id or "")
        return ieee_of.get(sensor.device_id or "") if sensor else None

    grid_import = by_id.get(choice.grid_import or "")
    grid = None
    if choice.grid_power and grid_import and grid_import.platform == ENERGY_EDGE:
        grid = ieee(choice.grid_import)
    chosen = {ieee(device.stat_consumption): device for device in choice.devices}

    def complete(device: ZigbeeDevice) -> bool:
        if device.is_grid_meter:
            return device.ieee == grid
        if not (device.measures_power or device.counts_energy):
            return True  # no energy device
        entry = chosen.get(device.ieee)
        return entry is not None and (entry.stat_rate is not None or not device.measures_power)

    return [device.name for device in announced if not complete(device)]
