"""A person's view: headless Chromium logs into the stack's Home Assistant and finds Energy Edge."""

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from scripts.lib.devstack.browser import (
    browser_available,
    chromium,
    log_in,
    open_page,
    wait_for_text,
)
from tests.e2e.conftest import NativeStack


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile."""
    if missing := browser_available():
        pytest.skip(f"Chromium for the browser tests is {missing}: run ./scripts/setup")
    with chromium() as driver:
        yield driver


def test_the_owner_logs_in_and_finds_energy_edge_among_the_integrations(
    native_stack: NativeStack, browser: webdriver.Chrome
) -> None:
    """The login form takes the saved password; Energy Edge's page lists its Zigbee2MQTT entry."""
    credentials = native_stack.credentials
    url = native_stack.layout.ha_url
    log_in(browser, url, credentials.ha_username, credentials.ha_password)
    page = f"{url}/config/integrations/integration/energy_edge"
    shown = open_page(browser, page, "Custom integration", "zigbee2mqtt")
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
