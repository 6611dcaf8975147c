"""The stack's Home Assistant is real and ready: onboarded, reachable with the saved token, on the
authenticated broker through its MQTT integration, with Energy Edge loaded and the Energy
dashboard set up."""

import asyncio
from collections.abc import Iterator
import contextlib
import re
from typing import Any

import pytest

from scripts.lib.devstack.energy_preferences import choose, read_sensors
from scripts.lib.devstack.homeassistant_api import HomeAssistantApiError, HomeAssistantClient
from scripts.lib.devstack.provision import configure_energy_dashboard, log_in, onboarding_left
from tests.e2e.conftest import NativeStack
from tests.e2e.mqtt import MqttSession, mqtt_session
from tests.e2e.zigbee2mqtt import E2E_LINKY, E2E_PLUG, E2E_SENSORS


async def test_home_assistant_is_onboarded_with_an_owner(native_stack: NativeStack) -> None:
    """No onboarding step left, and the owner logs in with the saved password."""
    async with native_stack.client(None) as anonymous:
        assert await onboarding_left(anonymous) == []
        session_token = await log_in(anonymous, native_stack.layout, native_stack.credentials)
    async with (
        native_stack.client(session_token) as owner,
        owner.websocket() as socket,
    ):
        user = await socket.command("auth/current_user")
    assert user["is_owner"]
    assert user["is_admin"]
    assert user["name"] == "Energy Edge owner"


async def test_the_saved_token_opens_both_apis_and_a_made_up_one_does_not(
    native_stack: NativeStack, home_assistant: HomeAssistantClient
) -> None:
    """REST and WebSocket with the long-lived token; 401 without a valid one."""
    assert await home_assistant.get("/api/") == {"message": "API running."}
    async with home_assistant.websocket() as socket:
        config = await socket.command("get_config")
    assert config["state"] == "RUNNING"
    assert (config["currency"], config["country"], config["time_zone"]) == (
        "EUR",
        "FR",
        "Europe/Paris",
    )
    async with native_stack.client("not-a-token") as stranger:
        with pytest.raises(HomeAssistantApiError) as refused:
            await stranger.get("/api/")
    assert refused.value.status == 401


async def test_http_settings_are_confirmed_on_the_stack_address(
    native_stack: NativeStack, home_assistant: HomeAssistantClient
) -> None:
    """HA keeps listening where the stack says (an unconfirmed change would revert in 5 min)."""
    async with home_assistant.websocket() as socket:
        http = await socket.command("http/config")
    assert http["pending"] is None
    assert http["revert_at"] is None
    assert http["stable"]["server_port"] == native_stack.layout.ha_port
    assert http["stable"]["server_host"] == [native_stack.layout.host]


def test_home_assistant_started_without_installing_packages(native_stack: NativeStack) -> None:
    """./scripts/setup installed every requirement HA has at start: nothing came from PyPI."""
    installed = re.findall(r"Attempting install of (\S+)", native_stack.ha_log())
    assert not installed, (
        f"HA installed {installed} at start: pin them in pyproject.toml's dev group"
        f" (uv add --dev {' '.join(repr(p) for p in installed)})"
    )


async def test_mqtt_is_set_up_on_the_authenticated_broker(
    native_stack: NativeStack, home_assistant: HomeAssistantClient
) -> None:
    """HA's MQTT entry is loaded; it reads a device's state and sends it a command, through the
    broker, as its account allows."""
    (entry,) = await home_assistant.get("/api/config/config_entries/entry?domain=mqtt")
    assert entry["state"] == "loaded"
    passwords = native_stack.credentials.mqtt_passwords
    with mqtt_session(native_stack.layout, "developer", passwords["developer"]) as developer:
        async with home_assistant.websocket() as socket:
            subscription = await socket.subscribe("mqtt/subscribe", topic="zigbee2mqtt/e2e_probe")
            # HA sends its subscriptions to the broker in batches, a moment after answering.
            async with asyncio.timeout(15):
                while True:
                    await asyncio.to_thread(developer.publish, "zigbee2mqtt/e2e_probe", "ping")
                    with contextlib.suppress(TimeoutError):
                        received = await socket.next_event(subscription, within=0.5)
                        break
        assert (received["topic"], received["payload"]) == ("zigbee2mqtt/e2e_probe", "ping")

        developer.subscribe("zigbee2mqtt/e2e_probe/set")
        await home_assistant.post(
            "/api/services/mqtt/publish", {"topic": "zigbee2mqtt/e2e_probe/set", "payload": "OFF"}
        )
        message = await asyncio.to_thread(developer.next_message)
        assert (message.topic, message.payload) == ("zigbee2mqtt/e2e_probe/set", b"OFF")


async def test_energy_edge_is_loaded(home_assistant: HomeAssistantClient) -> None:
    """One Energy Edge entry, for Zigbee2MQTT's default base topic, set up without error."""
    (entry,) = await home_assistant.get("/api/config/config_entries/entry?domain=energy_edge")
    assert entry["state"] == "loaded"
    assert entry["title"] == "zigbee2mqtt"


def test_energy_edge_logged_no_error(native_stack: NativeStack) -> None:
    """Nothing from Energy Edge at ERROR level or above in HA's log."""
    errors = [
        line
        for line in native_stack.ha_log().splitlines()
        if "energy_edge" in line and re.search(r" (ERROR|CRITICAL) ", line)
    ]
    assert not errors


async def test_energy_preferences_are_saved(home_assistant: HomeAssistantClient) -> None:
    """The Energy dashboard is set up: HA has preferences (it answers `not_found` before)."""
    async with home_assistant.websocket() as socket:
        preferences = await socket.command("energy/get_prefs")
    assert isinstance(preferences["energy_sources"], list)
    assert isinstance(preferences["device_consumption"], list)


async def test_energy_edge_was_discovered_from_zigbee2mqtt(
    home_assistant: HomeAssistantClient,
) -> None:
    """The simulator's `bridge/state` started Energy Edge's discovery flow; `up` confirmed it."""
    (entry,) = await home_assistant.get("/api/config/config_entries/entry?domain=energy_edge")
    assert entry["source"] == "mqtt"


async def test_the_linky_is_the_grid_and_each_metered_plug_a_device(
    home_assistant: HomeAssistantClient,
) -> None:
    """The Energy dashboard's grid is the simulated Linky's import energy from Energy Edge;
    every other simulated device with an energy counter is listed, with its power."""
    async with home_assistant.websocket() as socket:
        preferences = await socket.command("energy/get_prefs")
        entities = await socket.command("config/entity_registry/list")
        devices = await socket.command("config/device_registry/list")
        states = await socket.command("get_states")
    device_of = {entity["entity_id"]: entity["device_id"] for entity in entities}
    platform_of = {entity["entity_id"]: entity["platform"] for entity in entities}
    model_of = {device["id"]: device.get("model_id") for device in devices}
    (grid,) = [source for source in preferences["energy_sources"] if source["type"] == "grid"]
    assert model_of[device_of[grid["stat_energy_from"]]] == "ZLinky_TIC"
    # Energy Edge's grid import energy, made for the Energy dashboard, is the grid's counter.
    assert platform_of[grid["stat_energy_from"]] == "energy_edge"
    assert platform_of[grid["stat_rate"]] == "energy_edge"

    counters = {
        device_of[state["entity_id"]]
        for state in states
        if state["attributes"].get("state_class") == "total_increasing"
        and state["attributes"].get("device_class") == "energy"
        and model_of.get(device_of.get(state["entity_id"])) not in {None, "ZLinky_TIC"}
    }
    listed = preferences["device_consumption"]
    assert {device_of[device["stat_consumption"]] for device in listed} == counters
    assert all(device.get("stat_rate") for device in listed)


@pytest.fixture
def zigbee_devices(native_stack: NativeStack) -> Iterator[MqttSession]:
    """A Linky and a plug announced the way Zigbee2MQTT announces them; removed at the end."""
    password = native_stack.credentials.mqtt_passwords["developer"]
    with mqtt_session(native_stack.layout, "developer", password) as publisher:
        for sensor in E2E_SENSORS:
            publisher.publish(sensor.topic, sensor.config(), retain=True)
        try:
            yield publisher
        finally:
            for sensor in E2E_SENSORS:
                publisher.publish(sensor.topic, "", retain=True)


async def test_energy_preferences_choose_the_linky_and_the_plug_among_ha_entities(
    home_assistant: HomeAssistantClient, zigbee_devices: MqttSession
) -> None:
    """From HA's real registries: the Linky's total register as grid, the plug with its power."""
    async with home_assistant.websocket() as socket:

        async def registries() -> tuple[list[Any], list[Any], list[Any]]:
            # Registries first: HA registers an entity before it writes its first state.
            entities = await socket.command("config/entity_registry/list")
            devices = await socket.command("config/device_registry/list")
            return await socket.command("get_states"), entities, devices

        wanted = {sensor.unique_id for sensor in E2E_SENSORS}
        async with asyncio.timeout(20):
            while True:
                states, entities, devices = await registries()
                by_unique_id = {entity["unique_id"]: entity["entity_id"] for entity in entities}
                with_state = {state["entity_id"] for state in states}
                if all(by_unique_id.get(unique_id) in with_state for unique_id in wanted):
                    break
                await asyncio.sleep(0.2)
        ours = {f"zigbee2mqtt_{device.ieee}" for device in (E2E_LINKY, E2E_PLUG)}
        our_devices = [
            device
            for device in devices
            if any(identifier in ours for _, identifier in device["identifiers"])
        ]
        choice = choose(read_sensors(states, entities), our_devices)
        assert choice.grid_import == by_unique_id[f"{E2E_LINKY.ieee}_EAST_zigbee2mqtt"]
        (plug,) = choice.devices
        assert plug.stat_consumption == by_unique_id[f"{E2E_PLUG.ieee}_energy_zigbee2mqtt"]
        assert plug.stat_rate == by_unique_id[f"{E2E_PLUG.ieee}_power_zigbee2mqtt"]


async def test_the_energy_dashboard_action_keeps_what_is_there_and_repeats_nothing(
    home_assistant: HomeAssistantClient,
) -> None:
    """Through HA's own energy preferences API: a source the user added stays, the grid `up`
    configured stays as it is, and a second call adds and changes nothing."""
    async with home_assistant.websocket() as socket:
        before = await socket.command("energy/get_prefs")
        users = {"stat_consumption": "sensor.e2e_users_own_meter", "name": "Mine"}
        await socket.command(
            "energy/save_prefs",
            energy_sources=before["energy_sources"],
            device_consumption=[users, *before["device_consumption"]],
        )
        try:
            first = await configure_energy_dashboard(socket)
            after_first = await socket.command("energy/get_prefs")
            second = await configure_energy_dashboard(socket)
            after_second = await socket.command("energy/get_prefs")
        finally:
            await socket.command(
                "energy/save_prefs",
                energy_sources=before["energy_sources"],
                device_consumption=before["device_consumption"],
            )
    assert all(source in after_first["energy_sources"] for source in before["energy_sources"])
    kept = [users, *before["device_consumption"]]
    assert after_first["device_consumption"][: len(kept)] == kept
    assert len(first["devices_added"]) == len(after_first["device_consumption"]) - len(kept)
    assert second == {
        "grid_added": None,
        "devices_added": [],
        "upstreams_added": [],
        "upstreams_changed": [],
        "upstreams_removed": [],
    }
    assert after_second == after_first
