"""Energy Edge's events in Home Assistant's logbook: overloads, loads shed and restored.

The logbook has no translations for integrations' events: the lines are in English, as Home
Assistant's own integrations write theirs. Anyone can fire these events (an automation, the
developer tools): data that is not Energy Edge's makes a plainer line, never a broken logbook.
"""

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_DOMAIN,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_LOAD_RESTORED, EVENT_LOAD_SHED, EVENT_OVERLOAD

SHED = {
    "overload": "was shed: the home drew more than the contract allows",
    "user_request": "was shed on request",
}
RESTORED = {
    "headroom": "was restored: there is room under the contract again",
    "user_request": "was restored on request",
}


def _amount(data: Mapping[str, Any], key: str, unit: str) -> str | None:
    """A figure of the event, rounded, with its unit (None when it is not a number)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"{value:.0f} {unit}"


@callback
def _describe_overload(event: Event) -> dict[str, Any]:
    power, limit = (_amount(event.data, key, "VA") for key in ("power_va", "contract_limit_va"))
    message = "detected an overload"
    if power and limit:
        message += f": {power} for a {limit} contract"
    return {
        LOGBOOK_ENTRY_NAME: "Energy Edge",
        LOGBOOK_ENTRY_MESSAGE: message,
        LOGBOOK_ENTRY_ICON: "mdi:flash-alert",
        LOGBOOK_ENTRY_DOMAIN: DOMAIN,
    }


def _describer(
    messages: Mapping[str, str], plain: str, icon: str, *, freed: bool
) -> Callable[[Event], dict[str, Any]]:
    """A load's line: its name, why, and for a shed load (`freed`) the power it freed."""

    @callback
    def describe(event: Event) -> dict[str, Any]:
        message = messages.get(str(event.data.get("reason")), plain)
        if freed and (power := _amount(event.data, "power_w", "W")):
            message += f" ({power} freed)"
        return {
            LOGBOOK_ENTRY_NAME: str(event.data.get("name") or "A load"),
            LOGBOOK_ENTRY_MESSAGE: message,
            LOGBOOK_ENTRY_ICON: icon,
            LOGBOOK_ENTRY_DOMAIN: DOMAIN,
        }

    return describe


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe Energy Edge's events for the logbook."""
    async_describe_event(DOMAIN, EVENT_OVERLOAD, _describe_overload)
    shed = _describer(SHED, "was shed", "mdi:power-plug-off", freed=True)
    restored = _describer(RESTORED, "was restored", "mdi:power-plug", freed=False)
    async_describe_event(DOMAIN, EVENT_LOAD_SHED, shed)
    async_describe_event(DOMAIN, EVENT_LOAD_RESTORED, restored)
