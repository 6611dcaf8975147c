"""Refresh docs/screenshots/*.png from the native stack, through a real (headless) browser.

Uses the running stack, or starts one for the occasion and stops it after. With the simulated
household, the loads are managed and an overload is forced first (`scene`), so the pictures show
managed loads and the logbook a load Energy Edge shed.
"""

import asyncio
from pathlib import Path
import sys
import time

from selenium import webdriver

from .browser import browser_available, chromium, log_in, open_page, press_until
from .credentials import Credentials
from .homeassistant_api import HomeAssistantClient
from .layout import StackLayout
from .pages import HOUSEHOLD_PAGES, Page, shed_logbook, stack_pages
from .provision import Say
from .scene import TARIFF, SimulatorError, choose_tariff, force_a_shed, manage_loads
from .stack import recorded_services, stack_from_environment
from .waiting import http_status

# HA's cards and charts animate in after their text is there: only the picture waits for them.
SETTLE_SECONDS = 3.0
WIDTH = 1280


async def _pages(layout: StackLayout, credentials: Credentials, say: Say) -> list[Page]:
    """The stack's pages; with the simulated household, its loads managed first and a load
    shed (then the logbook shows it)."""
    async with (
        HomeAssistantClient(layout.ha_url, credentials.ha_token) as client,
        client.websocket() as socket,
    ):
        pages = list((await stack_pages(socket, layout)).values())
        if not any(page.name == "options-loads" for page in pages):
            return pages
        await choose_tariff(client)
        say(f"tariff {TARIFF}; managing {', '.join(await manage_loads(socket))}")
        try:
            shed = await force_a_shed(socket, layout, credentials)
        except SimulatorError as err:
            say(f"no overload: the simulator {err}")
            return pages
        if shed is None:
            say("no load was shed: no picture of the logbook")
            return pages
        say(f"{shed['name']} shed ({shed['power_w']:.0f} W)")
        return [*pages, shed_logbook(layout)]


def _capture(driver: webdriver.Chrome, page: Page, path: Path, settle: float) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": page.height, "deviceScaleFactor": 1, "mobile": False},
    )
    open_page(driver, page.url, *page.shows)
    for press in page.presses:
        press_until(driver, press.button, *press.shows, presses=press.times)
    time.sleep(settle)
    driver.save_screenshot(str(path))


def take_screenshots(
    layout: StackLayout, folder: Path, say: Say, *, settle: float = SETTLE_SECONDS
) -> list[Path]:
    """Log into HA as the owner and save each page of the stack as `<page>.png` in the folder,
    `settle` seconds after it shows its text."""
    credentials = Credentials.load(layout.credentials_file)
    pages = asyncio.run(_pages(layout, credentials, say))
    if asyncio.run(http_status(f"{layout.bridge_url}/health")) is None:
        say("the bridge does not run: no screenshot of its /docs")
        pages = [page for page in pages if page.name != "bridge-api"]
    for absent in sorted(HOUSEHOLD_PAGES - {page.name for page in pages}):
        say(f"no {absent} yet: Energy Edge has not made its sensors (is the simulator running?)")
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    with chromium(width=WIDTH) as driver:
        log_in(driver, layout.ha_url, credentials.ha_username, credentials.ha_password)
        for page in pages:
            path = folder / f"{page.name}.png"
            _capture(driver, page, path, settle)
            saved.append(path)
            say(f"saved {path}")
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
