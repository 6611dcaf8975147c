"""Energy Edge's events in Home Assistant's logbook: overloads, loads shed and restored.

The logbook has no translations for integrations' events: the lines are in English, as Home
Assistant's own integrations write theirs. Each line is named after the event's device as the
user names it in Home Assistant (the hub for an overload, the load otherwise), and the event's
`device_id` puts it on that device's page. Anyone can fire these events (an automation, the
developer tools): data that is not Energy Edge's makes a plainer line, never a broken logbook.
"""

from collections.abc import Callable, Mapping
import math
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, EVENT_LOAD_RESTORED, EVENT_LOAD_SHED, EVENT_OVERLOAD

SHED = {
    "overload": "was shed: the home drew more than the contract allows",
    "user_request": "was shed on request",
}
RESTORED = {
    "headroom": "was restored: there is room under the contract again",
    "user_request": "was restored on request",
}
MAX_POWER = 1_000_000.0
"""Above a megawatt (VA or W) no home draws: such a figure was not Energy Edge's."""


def _amount(data: Mapping[str, Any], key: str, unit: str) -> str | None:
    """A figure of the event, rounded, with its unit (None when it is not a power a home has)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_POWER:
        return None
    return f"{value:.0f} {unit}"


def _device_name(registry: dr.DeviceRegistry, data: Mapping[str, Any]) -> str | None:
    """The name the user gave the event's device in Home Assistant, else the device's own."""
    device_id = data.get(ATTR_DEVICE_ID)
    device = registry.async_get(device_id) if isinstance(device_id, str) else None
    return (device.name_by_user or device.name) if device else None


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe Energy Edge's events for the logbook."""
    registry = dr.async_get(hass)

    @callback
    def describe_overload(event: Event) -> dict[str, Any]:
        power, limit = (_amount(event.data, key, "VA") for key in ("power_va", "contract_limit_va"))
        message = "detected an overload"
        if power and limit:
            message += f": {power} for a {limit} contract"
        return {
            LOGBOOK_ENTRY_NAME: _device_name(registry, event.data) or "Energy Edge",
            LOGBOOK_ENTRY_MESSAGE: message,
            LOGBOOK_ENTRY_ICON: "mdi:flash-alert",
        }

    def describer(
        messages: Mapping[str, str], plain: str, icon: str, *, freed: bool
    ) -> Callable[[Event], dict[str, Any]]:
        """A load's line: its name, why, and for a shed load (`freed`) the power it freed."""

        @callback
        def describe(event: Event) -> dict[str, Any]:
            message = messages.get(str(event.data.get("reason")), plain)
            if freed and (power := _amount(event.data, "power_w", "W")):
                message += f" ({power} freed)"
            name = _device_name(registry, event.data) or event.data.get("name")
            return {
                LOGBOOK_ENTRY_NAME: str(name or "A load"),
                LOGBOOK_ENTRY_MESSAGE: message,
                LOGBOOK_ENTRY_ICON: icon,
            }

        return describe

    async_describe_event(DOMAIN, EVENT_OVERLOAD, describe_overload)
    shed = describer(SHED, "was shed", "mdi:power-plug-off", freed=True)
    restored = describer(RESTORED, "was restored", "mdi:power-plug", freed=False)
    async_describe_event(DOMAIN, EVENT_LOAD_SHED, shed)
    async_describe_event(DOMAIN, EVENT_LOAD_RESTORED, restored)
