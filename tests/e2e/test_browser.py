"""A person's view: headless Chromium logs into the stack's Home Assistant and finds Energy Edge's
sensors, with their values, on a plug's page, the hub's page and the Energy dashboard; the bridge's
/docs lists its API. HA's pages are read through their shadow roots (`browser.page_text`)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from scripts.lib.devstack.browser import (
    ShownNumber,
    browser_available,
    chromium,
    log_in,
    open_page,
    wait_for_number,
    wait_for_text,
)
from scripts.lib.devstack.homeassistant_api import HomeAssistantClient
from scripts.lib.devstack.pages import HOUSEHOLD_PAGES, Page, stack_pages
from tests.e2e.conftest import NativeStack


def _chromium() -> Iterator[webdriver.Chrome]:
    if missing := browser_available():
        pytest.skip(f"Chromium for the browser tests is {missing}: run ./scripts/setup")
    with chromium() as driver:
        yield driver


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile."""
    yield from _chromium()


@pytest.fixture(scope="module")
def owner(native_stack: NativeStack) -> Iterator[webdriver.Chrome]:
    """Chromium signed into HA as the owner through the login form, for the module's tests."""
    credentials = native_stack.credentials
    for driver in _chromium():
        log_in(driver, native_stack.layout.ha_url, credentials.ha_username, credentials.ha_password)
        yield driver


@pytest.fixture
async def pages(native_stack: NativeStack, home_assistant: HomeAssistantClient) -> dict[str, Page]:
    """The stack's pages (`up` waited for Energy Edge's sensors before it finished)."""
    async with home_assistant.websocket() as socket:
        found = await stack_pages(socket, native_stack.layout)
    absent = HOUSEHOLD_PAGES - found.keys()
    assert not absent, f"Energy Edge has made no sensors for {absent}"
    return found


@pytest.fixture
async def energy_edge_entities(home_assistant: HomeAssistantClient) -> list[dict[str, Any]]:
    """Energy Edge's entries in HA's entity registry."""
    async with home_assistant.websocket() as socket:
        entities = await socket.command("config/entity_registry/list")
    return [entity for entity in entities if entity["platform"] == "energy_edge"]


@pytest.fixture
async def energy_preferences(home_assistant: HomeAssistantClient) -> dict[str, Any]:
    """What the Energy dashboard is set up to show."""
    async with home_assistant.websocket() as socket:
        preferences: dict[str, Any] = await socket.command("energy/get_prefs")
    return preferences


class States:
    """HA's states through its REST API, with the owner's token: what the pages should show."""

    def __init__(self, native_stack: NativeStack) -> None:
        self._url = native_stack.layout.ha_url
        self._headers = {"Authorization": f"Bearer {native_stack.credentials.ha_token}"}

    def _state(self, entity_id: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self._url}/api/states/{entity_id}", headers=self._headers, timeout=10
        )
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    def number(self, entity_id: str) -> float:
        """An entity's state as a number."""
        return float(self._state(entity_id)["state"])

    def name(self, entity_id: str) -> str:
        """The name HA shows for an entity."""
        return str(self._state(entity_id)["attributes"]["friendly_name"])


def _is_shown(shown: ShownNumber, low: float, high: float) -> bool:
    """A counter the page shows, rounded to its last digit, read between two reads of HA."""
    margin = shown.resolution / 2
    return low - margin <= shown.value <= high + margin


def test_the_owner_logs_in_and_finds_energy_edge_among_the_integrations(
    native_stack: NativeStack, owner: webdriver.Chrome
) -> None:
    """The login form takes the saved password; Energy Edge's page lists its Zigbee2MQTT entry."""
    page = f"{native_stack.layout.ha_url}/config/integrations/integration/energy_edge"
    shown = open_page(owner, page, "Custom integration", "zigbee2mqtt")
    assert "Energy Edge" in shown
    assert "Energy Edge owner" in shown  # signed in as the owner (the sidebar names them)


def test_the_login_form_refuses_a_wrong_password(
    native_stack: NativeStack, browser: webdriver.Chrome
) -> None:
    """A wrong password stays on the login page with HA's message."""
    browser.get(native_stack.layout.ha_url)
    wait_for_text(browser, "Username")
    browser.find_element(By.ID, "username").send_keys(native_stack.credentials.ha_username)
    browser.find_element(By.ID, "password").send_keys("welcome", Keys.ENTER)
    wait_for_text(browser, "Invalid username or password")
    assert "/auth/authorize" in browser.current_url


def test_a_plugs_page_shows_the_energy_energy_edge_counts_for_it_and_its_power(
    native_stack: NativeStack,
    owner: webdriver.Chrome,
    pages: dict[str, Page],
    energy_edge_entities: list[dict[str, Any]],
) -> None:
    """The plug without an energy counter: its page lists Energy Edge's `Energy (integrated)`
    with the kWh HA holds (read before and after the page), beside the plug's power in W."""
    states = States(native_stack)
    page = pages["plug-device"]
    (counter,) = [
        entity["entity_id"]
        for entity in energy_edge_entities
        if entity["translation_key"] == "integrated_energy"
        and page.url.endswith(entity["device_id"])
    ]
    before = states.number(counter)
    owner.get(page.url)
    energy = wait_for_number(owner, "Energy (integrated)", "kWh")
    after = states.number(counter)
    power = wait_for_number(owner, "Power", "W")
    assert _is_shown(energy, before, after), f"{energy} kWh shown, HA had {before}..{after}"
    assert power.value >= 0


def test_the_hubs_page_shows_the_homes_power_and_energy(
    native_stack: NativeStack, owner: webdriver.Chrome, pages: dict[str, Page]
) -> None:
    """Energy Edge's hub lists home power and untracked power in W, home energy in kWh (the
    value HA holds) and how many devices are online."""
    states = States(native_stack)
    before = states.number("sensor.energy_edge_home_energy")
    owner.get(pages["hub-device"].url)
    energy = wait_for_number(owner, "Home energy", "kWh")
    after = states.number("sensor.energy_edge_home_energy")
    home = wait_for_number(owner, "Home power", "W")
    untracked = wait_for_number(owner, "Untracked power", "W")
    online = int(states.number("sensor.energy_edge_devices_online"))
    wait_for_text(owner, f"Devices online {online}")
    assert _is_shown(energy, before, after), f"{energy} kWh shown, HA had {before}..{after}"
    assert home.value > 0  # the fridge and the internet box always draw
    assert untracked.value >= 0


def test_the_energy_dashboard_shows_the_grid_and_every_plug(
    native_stack: NativeStack,
    owner: webdriver.Chrome,
    pages: dict[str, Page],
    energy_preferences: dict[str, Any],
) -> None:
    """The Electricity view lists the grid's total and every individual device by its counter's
    name; the Now view shows the home's power usage, from Energy Edge's grid power."""
    states = States(native_stack)
    devices = [states.name(d["stat_consumption"]) for d in energy_preferences["device_consumption"]]
    assert len(devices) >= 2
    owner.get(f"{native_stack.layout.ha_url}/energy/electricity")
    wait_for_text(owner, "Grid total", "Individual devices detail", *devices)
    owner.get(pages["energy-dashboard"].url)
    usage = wait_for_number(owner, "Power usage", "W", "kW")
    assert usage.value > 0  # 0 W when the grid has no power sensor


def test_the_bridges_docs_list_every_endpoint_of_its_api(
    native_stack: NativeStack, owner: webdriver.Chrome
) -> None:
    """Swagger UI renders, from the bridge's own assets, one entry per route of its OpenAPI."""
    bridge = native_stack.layout.bridge_url
    routes = set(httpx.get(f"{bridge}/openapi.json", timeout=10).json()["paths"])
    assert {"/health", "/api/devices", "/api/power"} <= routes
    open_page(owner, f"{bridge}/docs", "Energy Edge bridge")

    def listed(driver: webdriver.Chrome) -> set[str]:
        paths = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        return {str(path.get_attribute("data-path")) for path in paths}

    assert WebDriverWait(owner, 20).until(listed) == routes
