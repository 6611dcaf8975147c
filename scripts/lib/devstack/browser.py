"""Headless Chromium (Debian's, with its chromedriver) that logs into Home Assistant like a person.

HA's pages are web components: their text lives in shadow roots, which Selenium's own text
lookups do not enter, so pages are read with a small script that walks them.
"""

from collections.abc import Iterator
import contextlib
from pathlib import Path
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# What works in a container without a display, a GPU or the internet.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

# Text of the page, shadow roots included (the light DOM alone shows little of HA).
DEEP_TEXT = """
const parts = [];
const walk = (node) => {
  if (node.nodeType === Node.TEXT_NODE) { parts.push(node.textContent); return; }
  if (node.nodeName === 'SCRIPT' || node.nodeName === 'STYLE') return;
  if (node.shadowRoot) walk(node.shadowRoot);
  for (const child of node.childNodes) walk(child);
};
walk(document.body);
return parts.join(' ').replace(/\\s+/g, ' ');
"""


def browser_available() -> str | None:
    """None when Chromium and its driver are installed, else what is missing."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    return f"not installed: {', '.join(missing)}" if missing else None


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh, empty profile, closed at the end."""
    profile = tempfile.mkdtemp(prefix="energy-edge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        # The page itself at exactly this size (the window's frame would take some of it).
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page_text(driver: webdriver.Chrome) -> str:
    """Everything the page shows as text, from every shadow root."""
    return str(driver.execute_script(DEEP_TEXT))


def wait_for_text(driver: webdriver.Chrome, *texts: str, within: float = 20.0) -> str:
    """Wait until the page shows every text; return the page's text."""
    deadline = time.monotonic() + within
    while True:
        shown = page_text(driver)
        missing = [text for text in texts if text not in shown]
        if not missing:
            return shown
        if time.monotonic() > deadline:
            raise TimeoutError(f"{driver.current_url} does not show {missing} after {within} s")
        time.sleep(0.25)


def log_in(driver: webdriver.Chrome, ha_url: str, username: str, password: str) -> None:
    """Fill HA's login form and wait for the app to load."""
    driver.get(ha_url)
    deadline = time.monotonic() + 20
    while not driver.find_elements(By.ID, "username"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no login form at {driver.current_url}")
        time.sleep(0.25)
    driver.find_element(By.ID, "username").send_keys(username)
    password_field = driver.find_element(By.ID, "password")
    password_field.send_keys(password)
    password_field.send_keys(Keys.ENTER)
    while "/auth/authorize" in driver.current_url or not driver.execute_script(
        "return !!document.querySelector('home-assistant')"
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still on {driver.current_url} after logging in")
        time.sleep(0.25)


def open_page(driver: webdriver.Chrome, url: str, *texts: str) -> str:
    """Open a page and wait until it shows the texts; return its text."""
    driver.get(url)
    return wait_for_text(driver, *texts)
