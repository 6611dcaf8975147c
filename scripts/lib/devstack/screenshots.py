"""Refresh docs/screenshots/*.png from the native stack, through a real (headless) browser.

Uses the running stack, or starts one for the occasion and stops it after.
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path
import sys
import time

from selenium import webdriver

from .browser import browser_available, chromium, log_in, open_page
from .credentials import Credentials
from .homeassistant_api import HomeAssistantClient
from .layout import StackLayout
from .provision import Say, energy_choice
from .stack import recorded_services, stack_from_environment
from .waiting import http_status

SETTLE_SECONDS = 1.5  # HA's cards and charts animate in after their text is there


@dataclass(frozen=True)
class Shot:
    """A page to capture: where it is and a text that shows it has loaded."""

    file: str
    url: str
    shows: str


async def _stack_pages(layout: StackLayout, credentials: Credentials, say: Say) -> list[Shot]:
    """HA's integration pages; the Energy dashboard and a plug's page once the simulator's
    devices exist; the bridge's /docs if it runs. Each waits for a text only that page shows."""
    ha = layout.ha_url
    shots = [
        Shot("integrations.png", f"{ha}/config/integrations/dashboard", "MQTT"),
        Shot(
            "energy-edge-integration.png",
            f"{ha}/config/integrations/integration/energy_edge",
            "zigbee2mqtt",
        ),
    ]
    async with HomeAssistantClient(ha, credentials.ha_token) as client, client.websocket() as ws:
        choice = await energy_choice(ws)
        entities = await ws.command("config/entity_registry/list")
    if choice.grid_import:
        shots.append(Shot("energy-dashboard.png", f"{ha}/energy", "kWh"))
    else:
        say("no grid meter in Home Assistant yet (is the simulator running?): no Energy dashboard")
    if choice.devices:
        plug = choice.devices[0].stat_consumption
        device_id = next(e["device_id"] for e in entities if e["entity_id"] == plug)
        shots.append(Shot("plug-device.png", f"{ha}/config/devices/device/{device_id}", "kWh"))
    else:
        say("no plug in Home Assistant yet (is the simulator running?): no device page")
    if await http_status(f"{layout.bridge_url}/docs") == 200:
        shots.append(Shot("bridge-api.png", f"{layout.bridge_url}/docs", "/api/devices"))
    else:
        say("the bridge does not run: no screenshot of its /docs")
    return shots


def _capture(driver: webdriver.Chrome, shot: Shot, folder: Path) -> Path:
    open_page(driver, shot.url, shot.shows)
    time.sleep(SETTLE_SECONDS)
    path = folder / shot.file
    driver.save_screenshot(str(path))
    return path


def take_screenshots(layout: StackLayout, folder: Path, say: Say) -> list[Path]:
    """Log into HA as the owner and save each page as a PNG in the folder."""
    credentials = Credentials.load(layout.credentials_file)
    shots = asyncio.run(_stack_pages(layout, credentials, say))
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    with chromium(width=1280, height=800) as driver:
        log_in(driver, layout.ha_url, credentials.ha_username, credentials.ha_password)
        for shot in shots:
            saved.append(_capture(driver, shot, folder))
            say(f"saved {saved[-1].relative_to(layout.repo)}")
    return saved


def main() -> int:
    """Refresh the screenshots; start the stack for it if it does not run."""
    if missing := browser_available():
        print(f"ERROR: Chromium is {missing}: run ./scripts/setup", file=sys.stderr)
        return 1
    if (stack := stack_from_environment()) is None:
        return 2
    layout = stack.layout
    started_here = not recorded_services(layout)
    if started_here and stack.up() != 0:
        return 1
    try:
        take_screenshots(layout, layout.repo / "docs" / "screenshots", print)
    finally:
        if started_here:
            stack.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
