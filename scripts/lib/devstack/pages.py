"""The pages of the stack a person looks at, found from Home Assistant's registries: where each is
and a text that shows it has loaded. The screenshots and the browser tests open the same pages."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .homeassistant_api import HomeAssistantWebSocket
from .layout import StackLayout

ENERGY_EDGE = "energy_edge"
# The pages that exist once Energy Edge has made the simulated household's sensors.
HOUSEHOLD_PAGES = frozenset({"plug-device", "options-loads", "hub-device", "energy-dashboard"})


@dataclass(frozen=True)
class Press:
    """A button pressed on a page until it shows the texts (`times` presses at most)."""

    button: str
    shows: tuple[str, ...]
    times: int = 1


@dataclass(frozen=True)
class Page:
    """A page: its name (the screenshot's file), its address, texts it shows once loaded, and
    buttons pressed then, in turn (to open a dialog and go through its steps)."""

    name: str
    url: str
    shows: tuple[str, ...]
    height: int = 800  # of the screenshot, in pixels, at 1280 wide
    presses: tuple[Press, ...] = ()


def shed_logbook(layout: StackLayout) -> Page:
    """HA's logbook once Energy Edge has shed a load (its line says so)."""
    return Page("logbook-shed", f"{layout.ha_url}/logbook", ("was shed",))


def _device_with(entities: Sequence[Mapping[str, Any]], translation_key: str) -> str | None:
    """The device of an Energy Edge entity of that kind (the first one)."""
    return next(
        (
            entity["device_id"]
            for entity in entities
            if entity["platform"] == ENERGY_EDGE
            and entity.get("translation_key") == translation_key
            and entity.get("device_id")
        ),
        None,
    )


def _hub(devices: Sequence[Mapping[str, Any]]) -> str | None:
    """Energy Edge's own device: the hub with the home's sensors."""
    return next(
        (
            device["id"]
            for device in devices
            if any(domain == ENERGY_EDGE for domain, _ in device["identifiers"])
        ),
        None,
    )


async def stack_pages(socket: HomeAssistantWebSocket, layout: StackLayout) -> dict[str, Page]:
    """HA's integration pages and the bridge's /docs always; the hub's device page, the page of a
    plug without an energy counter (Energy Edge integrates its power), the options' Loads step
    (once there is a switchable load) and the Energy dashboard (once the Linky has Energy Edge's
    grid power) when Energy Edge has made them."""
    ha = layout.ha_url
    pages = [
        Page("integrations", f"{ha}/config/integrations/dashboard", ("MQTT", "Energy Edge")),
        Page(
            "energy-edge-integration",
            f"{ha}/config/integrations/integration/{ENERGY_EDGE}",
            ("zigbee2mqtt",),
        ),
        # An operation's summary: Swagger UI has rendered the API.
        Page("bridge-api", f"{layout.bridge_url}/docs", ("Energy Edge bridge", "Send Command")),
    ]
    entities = await socket.command("config/entity_registry/list")
    devices = await socket.command("config/device_registry/list")
    if plug := _device_with(entities, "integrated_energy"):
        pages.append(
            Page("plug-device", f"{ha}/config/devices/device/{plug}", ("Energy (integrated)",))
        )
    if _device_with(entities, "managed"):
        # Energy Edge's options, through the steps before it (meter and tariff, prices if any,
        # shedding), to the Loads step.
        pages.append(
            Page(
                "options-loads",
                f"{ha}/config/integrations/integration/{ENERGY_EDGE}",
                ("zigbee2mqtt",),
                1400,
                (
                    Press("Configure", ("Meter and tariff",)),
                    Press("Submit", ("Managed loads",), times=3),
                ),
            )
        )
    if hub := _hub(devices):
        pages.append(Page("hub-device", f"{ha}/config/devices/device/{hub}", ("Home power",)))
    if _device_with(entities, "grid_power"):
        # The live view: the others need HA's hourly statistics, up to 2 hours after a start.
        pages.append(
            Page("energy-dashboard", f"{ha}/energy/now", ("Power usage", "Power sources"), 1000)
        )
    return {page.name: page for page in pages}
