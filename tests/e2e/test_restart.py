"""Settings > Restart in Home Assistant brings it back, as its container would: the stack's
restart loop starts it again, with MQTT and Energy Edge loaded."""

from scripts.lib.devstack.homeassistant_api import HomeAssistantApiError, HomeAssistantClient
from scripts.lib.devstack.waiting import wait_until
from tests.e2e.conftest import NativeStack


async def test_home_assistant_comes_back_after_a_restart_from_its_ui(
    native_stack: NativeStack, home_assistant: HomeAssistantClient
) -> None:
    """The restart service ends `hass` with its restart code; it runs again under the same pid."""

    async def restarted() -> bool:
        return "asked for a restart" in native_stack.ha_log()

    async def loaded() -> bool:
        try:
            config = await home_assistant.get("/api/config")
            entries = await home_assistant.get("/api/config/config_entries/entry")
        except HomeAssistantApiError, OSError:  # down while it restarts
            return False
        states = {entry["domain"]: entry["state"] for entry in entries}
        return bool(
            config["state"] == "RUNNING" and states["mqtt"] == states["energy_edge"] == "loaded"
        )

    await home_assistant.post("/api/services/homeassistant/restart")
    await wait_until(restarted, within=60, what="HA asking for a restart")
    await wait_until(loaded, within=120, what="HA running again with its entries loaded")
    assert native_stack.processes["homeassistant"].is_running()
