"""The household the screenshots show: an HP/HC tariff, loads managed with their priorities, and
an overload that Energy Edge really sheds.

The simulated home stays under its contract (the Linky's cut-off power, PCOUP, is the contract),
so the overload is forced as the end-to-end tests force one: through the simulator's control
channel (`docs/simulator.md`), a 2 kW load behind the low-priority water heater's plug, then an
unmetered load taking the home 20 % over its contract. Energy Edge sees it on the Linky's
readings, sheds the water heater and fires `energy_edge_load_shed`; the forced loads are then
removed and the water heater comes back by the usual rules.
"""

import asyncio
from collections.abc import Mapping
import json
import threading
from typing import Any
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .credentials import Credentials
from .homeassistant_api import HomeAssistantClient, HomeAssistantWebSocket
from .layout import StackLayout
from .pages import ENERGY_EDGE
from .waiting import wait_until

CONTROL_TOPIC = "energy_edge/simulator/control"
# The simulated loads' priorities in the pictures; those Energy Edge manages.
PRIORITIES = {"water_heater": "low", "ev_charger": "medium", "dishwasher": "medium"}
PRIORITIES |= {"washing_machine": "high", "fridge": "critical", "internet_box": "critical"}
MANAGED = frozenset({"water_heater", "ev_charger", "dishwasher", "washing_machine"})
SHED = "water_heater"
SHED_LOAD_W = 2000.0
FORCED_S = 60.0  # wall-clock seconds the forced loads last at most
RUNNING_S = 5.0  # for the plug to report the load it now draws
SHED_WITHIN_S = 45.0  # from the overload to Energy Edge's event, on a loaded machine
ANSWER_S = 15.0  # for the simulator to answer a command
TARIFF = "hphc"  # peak and off-peak periods and prices show on the hub's page
RELOAD_S = 60.0  # for Energy Edge to be loaded again after its options changed
SETTLE_S = 5.0  # then for the devices' entities, from Zigbee2MQTT's retained messages


class SimulatorError(RuntimeError):
    """The simulator refused a command, or did not answer it."""


def simulator_command(
    layout: StackLayout, credentials: Credentials, action: str, **fields: Any
) -> dict[str, Any]:
    """Send a command on the control channel; return the simulator's answer to it."""
    request_id = uuid.uuid4().hex
    answers: list[dict[str, Any]] = []
    answered = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        answer = json.loads(message.payload)
        if isinstance(answer, dict) and answer.get("id") == request_id:
            answers.append(answer)
            answered.set()

    def on_subscribe(client: mqtt.Client, *_: object) -> None:
        body = {"action": action, "id": request_id, **fields}
        client.publish(CONTROL_TOPIC, json.dumps(body), qos=1)

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set("developer", credentials.mqtt_passwords["developer"])
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(f"{CONTROL_TOPIC}/response", qos=1)
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(layout.host, layout.mqtt_port)
    client.loop_start()
    try:
        if not answered.wait(ANSWER_S):
            raise SimulatorError(f"no answer to {action} after {ANSWER_S} s")
    finally:
        client.disconnect()
        client.loop_stop()
    if not answers[0].get("ok"):
        raise SimulatorError(f"{action}: {answers[0]}")
    return answers[0]


async def choose_tariff(ha: HomeAssistantClient) -> None:
    """Energy Edge's options with the HP/HC tariff, every other answer as it is, through the
    options flow as the UI goes through it; then wait for Energy Edge to be loaded again."""
    entries = await ha.get(f"/api/config/config_entries/entry?domain={ENERGY_EDGE}")
    entry_id = entries[0]["entry_id"]
    result = await ha.post("/api/config/config_entries/options/flow", {"handler": entry_id})
    answers = [{"tariff": TARIFF}]
    for _ in range(6):  # init, prices, shedding, loads, upstream devices; a refusal ends it too
        if result.get("type") != "form":
            break
        step = f"/api/config/config_entries/options/flow/{result['flow_id']}"
        result = await ha.post(step, answers.pop(0) if answers else {})

    async def reloaded() -> bool:
        """The current period is one of the tariff's (`hp`/`hc`): loaded with the new options."""
        state = await ha.get("/api/states/sensor.energy_edge_current_period")
        return str(state.get("state", "")).startswith(("hp", "hc"))

    await wait_until(reloaded, within=RELOAD_S, what=f"Energy Edge reloaded with {TARIFF}")
    await asyncio.sleep(SETTLE_S)


async def manage_loads(
    socket: HomeAssistantWebSocket,
    priorities: Mapping[str, str] = PRIORITIES,
    managed: frozenset[str] = MANAGED,
) -> list[str]:
    """Give the loads named (their devices' names) their priorities and manage those in
    `managed`, through Energy Edge's own entities, as a user would; return those managed."""
    devices = {d["id"]: d for d in await socket.command("config/device_registry/list")}
    found: set[str] = set()
    for entity in await socket.command("config/entity_registry/list"):
        device = devices.get(entity.get("device_id") or "") or {}
        name = str(device.get("name_by_user") or device.get("name"))
        if entity["platform"] != ENERGY_EDGE or name not in priorities:
            continue
        target = entity["entity_id"]
        if entity.get("translation_key") == "managed" and name in managed:
            await _call(socket, "switch", "turn_on", entity_id=target)
            found.add(name)
        elif entity.get("translation_key") == "priority":
            priority = priorities[name]
            await _call(socket, "select", "select_option", entity_id=target, option=priority)
    return sorted(found)


async def force_a_shed(
    socket: HomeAssistantWebSocket, layout: StackLayout, credentials: Credentials
) -> dict[str, Any] | None:
    """Overload the home until Energy Edge sheds a load; its event's data (None if none came)."""
    # A load kept off since an earlier run comes back first: the water heater must be on.
    await _call(socket, ENERGY_EDGE, "restore_loads")
    shed = await socket.subscribe("subscribe_events", event_type="energy_edge_load_shed")

    def command(action: str, **fields: Any) -> Any:
        return asyncio.to_thread(simulator_command, layout, credentials, action, **fields)

    await command("start_load", device=SHED, power_w=SHED_LOAD_W, duration_s=FORCED_S)
    try:
        await asyncio.sleep(RUNNING_S)
        await command("force_overload", duration_s=FORCED_S)
        try:
            event = await socket.next_event(shed, within=SHED_WITHIN_S)
        except TimeoutError:
            return None
        data: dict[str, Any] = event["data"]
        return data
    finally:
        await command("clear_overload")
        await command("stop_load", device=SHED)


async def _call(socket: HomeAssistantWebSocket, domain: str, service: str, **data: Any) -> None:
    await socket.command("call_service", domain=domain, service=service, service_data=data)
