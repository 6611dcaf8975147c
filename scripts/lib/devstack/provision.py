"""Home Assistant set up without a person: onboarding, token, MQTT, Energy Edge, energy preferences.

Every step goes through HA's public REST and WebSocket APIs (those the frontend uses) and is
idempotent: a second `up` finds the work done and only brings what changed up to date.
"""

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .credentials import Credentials
from .energy_preferences import EnergyChoice, Sensor, choose, read_sensors
from .homeassistant_api import HomeAssistantApiError, HomeAssistantClient, HomeAssistantWebSocket
from .layout import StackLayout
from .waiting import wait_until
from .zigbee2mqtt import ZigbeeDevice, announced_devices, left_out

type Say = Callable[[str], None]

ENERGY_EDGE = "energy_edge"
ZIGBEE2MQTT_BASE_TOPIC = "zigbee2mqtt"
# Onboarding adds these; they need the internet and have nothing to do with energy management.
ONLINE_ONLY_ONBOARDING_INTEGRATIONS = ("radio_browser",)


def client_id(layout: StackLayout) -> str:
    """The OAuth client id HA's own frontend would use on this address."""
    return f"{layout.ha_url}/"


async def _tokens_from_code(ha: HomeAssistantClient, layout: StackLayout, code: str) -> str:
    tokens = await ha.request(
        "POST",
        "/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": client_id(layout)},
    )
    return str(tokens["access_token"])


async def log_in(ha: HomeAssistantClient, layout: StackLayout, credentials: Credentials) -> str:
    """The login form's flow, as a person would fill it; returns a short-lived access token."""
    flow = await ha.post(
        "/auth/login_flow",
        {
            "client_id": client_id(layout),
            "handler": ["homeassistant", None],
            "redirect_uri": client_id(layout),
        },
    )
    result = await ha.post(
        f"/auth/login_flow/{flow['flow_id']}",
        {
            "client_id": client_id(layout),
            "username": credentials.ha_username,
            "password": credentials.ha_password,
        },
    )
    if result.get("type") != "create_entry":
        raise HomeAssistantApiError("login", "refused", str(result.get("errors")))
    return await _tokens_from_code(ha, layout, str(result["result"]))


async def _create_owner(
    ha: HomeAssistantClient, layout: StackLayout, credentials: Credentials
) -> str:
    """Onboarding's first step: the owner account; returns its short-lived access token."""
    created = await ha.post(
        "/api/onboarding/users",
        {
            "client_id": client_id(layout),
            "name": "Energy Edge owner",
            "username": credentials.ha_username,
            "password": credentials.ha_password,
            "language": "en",
        },
    )
    return await _tokens_from_code(ha, layout, created["auth_code"])


async def _finish_onboarding(layout: StackLayout, access_token: str, steps: list[str]) -> None:
    """The other onboarding steps, as the frontend posts them (the last one needs a session)."""
    async with HomeAssistantClient(layout.ha_url, access_token) as owner:
        for step in steps:
            body = {}
            if step == "integration":
                body = {
                    "client_id": client_id(layout),
                    "redirect_uri": f"{client_id(layout)}?auth_callback=1",
                }
            await owner.post(f"/api/onboarding/{step}", body)


async def _long_lived_token(layout: StackLayout, access_token: str) -> str:
    async with (
        HomeAssistantClient(layout.ha_url, access_token) as owner,
        owner.websocket() as socket,
    ):
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        token = await socket.command(
            "auth/long_lived_access_token",
            client_name=f"Energy Edge native stack {stamp}",
            lifespan=3650,
        )
    return str(token)


async def _token_works(layout: StackLayout, token: str) -> bool:
    try:
        async with HomeAssistantClient(layout.ha_url, token) as ha:
            await ha.get("/api/")
    except HomeAssistantApiError:
        return False
    return True


async def onboarding_left(ha: HomeAssistantClient) -> list[str]:
    """The onboarding steps still to do (the person's first visit would show them)."""
    try:
        steps = await ha.get("/api/onboarding")
    except HomeAssistantApiError as error:
        if error.status == 404:  # HA serves onboarding only until it is done
            return []
        raise
    return [step["step"] for step in steps if not step["done"]]


@dataclass
class SignIn:
    """The long-lived token, the onboarding steps still to do, and a session if one was opened."""

    token: str
    onboarding_left: list[str]
    session_token: str | None


async def sign_in(layout: StackLayout, credentials: Credentials, say: Say) -> SignIn:
    """Create the owner if HA is new; return a working long-lived token (saved)."""
    async with HomeAssistantClient(layout.ha_url) as ha:
        steps = await onboarding_left(ha)
        session_token = None
        if "user" in steps:
            session_token = await _create_owner(ha, layout, credentials)
            steps.remove("user")
            say(f"onboarding: owner `{credentials.ha_username}` created")
        if credentials.ha_token and await _token_works(layout, credentials.ha_token):
            return SignIn(credentials.ha_token, steps, session_token)
        if credentials.ha_token:
            say("the saved access token is refused: making a new one")
        session_token = session_token or await log_in(ha, layout, credentials)
    credentials.ha_token = await _long_lived_token(layout, session_token)
    credentials.save(layout.credentials_file)
    say("long-lived access token saved")
    return SignIn(credentials.ha_token, steps, session_token)


async def _wait_running(ha: HomeAssistantClient) -> None:
    async def running() -> bool:
        return bool((await ha.get("/api/config"))["state"] == "RUNNING")

    await wait_until(running, within=120, what="Home Assistant running")


async def confirm_http_settings(socket: HomeAssistantWebSocket, say: Say) -> None:
    """Confirm the HTTP settings HA is trying out (its UI's Confirm button).

    HA tries new HTTP settings for five minutes, then restarts with the previous ones unless
    someone confirms them.
    """
    http = await socket.command("http/config")
    if http.get("pending") is None or http.get("active_config_type") != "pending":
        return
    await socket.command("http/config/promote")
    # Its warning about YAML settings no longer applies: the stack writes them only once.
    with contextlib.suppress(HomeAssistantApiError):  # raised only at the first start
        await socket.command(
            "repairs/ignore_issue", domain="http", issue_id="deprecated_yaml", ignore=True
        )
    say("HTTP settings confirmed")


async def move_home_assistant(current_url: str, token: str, host: str, port: int) -> None:
    """Give a running HA new HTTP settings; it restarts on them (to be confirmed there)."""
    async with HomeAssistantClient(current_url, token) as ha, ha.websocket() as socket:
        await _wait_running(ha)
        await socket.command(
            "http/config/configure", config={"server_host": [host], "server_port": port}
        )


async def configure_new_home(socket: HomeAssistantWebSocket) -> None:
    """A French home: euro, metric units, Paris time."""
    await socket.command(
        "config/core/update",
        location_name="Energy Edge",
        country="FR",
        currency="EUR",
        unit_system="metric",
        time_zone="Europe/Paris",
    )


async def remove_online_only_integrations(ha: HomeAssistantClient) -> None:
    """Remove what onboarding added that needs the internet (offline, it retries for ever).

    Onboarding starts their flows in the background, and removing an entry waits for its set-up
    to give up: run this beside the other steps.
    """
    for domain in ONLINE_ONLY_ONBOARDING_INTEGRATIONS:

        async def created(domain: str = domain) -> list[dict[str, Any]] | None:
            return await _entries(ha, domain) or None

        try:
            entries = await wait_until(created, within=10, what=domain)
        except TimeoutError:
            continue
        for entry in entries:
            await ha.delete(f"/api/config/config_entries/entry/{entry['entry_id']}")


async def _entries(ha: HomeAssistantClient, domain: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = await ha.get(
        f"/api/config/config_entries/entry?domain={domain}"
    )
    return entries


async def ensure_mqtt(
    ha: HomeAssistantClient, layout: StackLayout, credentials: Credentials, say: Say
) -> None:
    """HA's MQTT integration on the stack's broker, as the `homeassistant` broker user."""
    existing = await _entries(ha, "mqtt")
    start: dict[str, Any] = {"handler": "mqtt"}
    if existing:  # the ports may have changed since the last start: reconfigure
        start["entry_id"] = existing[0]["entry_id"]
    flow = await ha.post("/api/config/config_entries/flow", start)
    result = await ha.post(
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "broker": layout.host,
            "port": layout.mqtt_port,
            "username": "homeassistant",
            "password": credentials.mqtt_passwords["homeassistant"],
            "protocol": "5",
            "other_settings": {"set_client_cert": False, "set_ca_cert": "off", "transport": "tcp"},
        },
    )
    if result.get("type") not in {"create_entry", "abort"} or result.get("errors"):
        raise HomeAssistantApiError("MQTT config flow", "failed", str(result))
    say(f"MQTT: {'reconfigured' if existing else 'configured'} on {layout.host}:{layout.mqtt_port}")


async def ensure_energy_edge(
    ha: HomeAssistantClient, socket: HomeAssistantWebSocket, discovery_timeout: float, say: Say
) -> None:
    """Energy Edge's entry: confirm the flow Z2M's discovery started, else add it by hand."""
    if await _entries(ha, ENERGY_EDGE):
        return

    async def discovered() -> str | None:
        flows = await socket.command("config_entries/flow/progress")
        return next((flow["flow_id"] for flow in flows if flow["handler"] == ENERGY_EDGE), None)

    flow_id = None
    if discovery_timeout > 0:
        try:
            flow_id = await wait_until(
                discovered, within=discovery_timeout, what="Energy Edge discovery"
            )
        except TimeoutError:
            say("Energy Edge was not discovered in time: adding it through its user flow")
    if flow_id is not None:
        result = await ha.post(f"/api/config/config_entries/flow/{flow_id}", {})
        how = "discovered from Zigbee2MQTT's bridge state, confirmed"
    else:
        flow = await ha.post("/api/config/config_entries/flow", {"handler": ENERGY_EDGE})
        result = await ha.post(
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            {"base_topic": ZIGBEE2MQTT_BASE_TOPIC, "discovery_prefix": "homeassistant"},
        )
        how = "added through its user flow"
    if result.get("type") != "create_entry":
        raise HomeAssistantApiError("Energy Edge config flow", "failed", str(result))
    say(f"Energy Edge: {how}")


async def _sensors_and_devices(
    socket: HomeAssistantWebSocket,
) -> tuple[list[Sensor], list[dict[str, Any]]]:
    # States first: every entity in them is then in the registry read after.
    states = await socket.command("get_states")
    entities = await socket.command("config/entity_registry/list")
    devices: list[dict[str, Any]] = await socket.command("config/device_registry/list")
    return read_sensors(states, entities), devices


async def configure_energy_dashboard(socket: HomeAssistantWebSocket) -> dict[str, Any]:
    """Energy Edge's action `configure_energy_dashboard` adds the grid and devices to HA's energy
    preferences, keeping what is there; preferences are saved even when empty (that sets the
    panel up). Answers with what the action added."""
    result = await socket.command(
        "call_service",
        domain=ENERGY_EDGE,
        service="configure_energy_dashboard",
        service_data={},
        return_response=True,
    )
    try:
        await socket.command("energy/get_prefs")
    except HomeAssistantApiError:  # never saved: nothing to add yet
        await socket.command("energy/save_prefs", energy_sources=[], device_consumption=[])
    added: dict[str, Any] = result["response"]
    return added


async def set_energy_preferences(
    socket: HomeAssistantWebSocket, announced: list[ZigbeeDevice], within: float, say: Say
) -> dict[str, Any]:
    """Configure the Energy dashboard once HA has set up every device Zigbee2MQTT announced
    (their entities come one by one), or after `within` seconds with what there is."""
    missing: list[str] = []

    async def complete() -> EnergyChoice | None:
        nonlocal missing
        sensors, devices = await _sensors_and_devices(socket)
        choice = choose(sensors, devices)
        missing = left_out(choice, sensors, devices, announced)
        if not announced:  # nothing to wait for but the grid meter
            return choice if choice.grid_import and choice.grid_power else None
        return None if missing else choice

    try:
        await wait_until(complete, within=within, what="energy devices", interval=1)
    except TimeoutError:
        if missing:
            say(f"energy preferences: not yet in Home Assistant: {', '.join(missing)}")
    added = await configure_energy_dashboard(socket)
    grid = added["grid_added"] or "kept as it was"
    say(
        f"energy preferences: grid {grid}; {len(added['devices_added'])} individual device(s) added"
    )
    return added


async def provision(
    layout: StackLayout, credentials: Credentials, *, simulator_running: bool, say: Say
) -> None:
    """Bring a started HA to a ready state for Energy Edge."""
    signed_in = await sign_in(layout, credentials, say)
    async with HomeAssistantClient(layout.ha_url, signed_in.token) as ha, ha.websocket() as socket:
        await _wait_running(ha)
        await confirm_http_settings(socket, say)
        cleanup = None
        if steps := signed_in.onboarding_left:
            # After the start: integrations that onboarding adds would otherwise delay it.
            async with HomeAssistantClient(layout.ha_url) as anonymous:
                session = signed_in.session_token or await log_in(anonymous, layout, credentials)
            await _finish_onboarding(layout, session, steps)
            say(f"onboarding: {', '.join(steps)} done")
            if "core_config" in steps:
                await configure_new_home(socket)
                cleanup = asyncio.create_task(remove_online_only_integrations(ha))
        await ensure_mqtt(ha, layout, credentials, say)
        await ensure_energy_edge(ha, socket, 30 if simulator_running else 0, say)
        announced = []
        if simulator_running:
            announced = await asyncio.to_thread(announced_devices, layout, credentials, 10)
        await set_energy_preferences(socket, announced, 30 if simulator_running else 0, say)
        if cleanup is not None:
            await cleanup
