"""Headless Chromium (Debian's, with its chromedriver) that logs into Home Assistant like a person.

HA's pages are web components: their text lives in shadow roots, which Selenium's own text
lookups do not enter, so pages are read with a small script that walks them.
"""

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import re
import shutil
import tempfile

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
LOGIN_SECONDS = 20.0  # from the login form to HA's app, on a loaded machine
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


# Clicks the first visible button named so (shadow roots included): a button showing that text,
# or an icon button with that label; says whether there was one.
DEEP_CLICK = """
const wanted = arguments[0];
let found = null;
const named = (node) => (node.getAttribute('aria-label') || '').trim() === wanted
  || (node.localName === 'ha-button' && node.textContent.trim() === wanted);
const walk = (node) => {
  if (found) return;
  if ((node.localName === 'button' || node.localName === 'ha-button') && named(node)
      && node.getClientRects().length) { found = node; return; }
  if (node.shadowRoot) walk(node.shadowRoot);
  for (const child of node.children || []) walk(child);
};
walk(document.body);
if (found) found.click();
return !!found;
"""
PRESS_SECONDS = 5.0  # for a dialog's next step to show after a press


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


def _waiting[T](
    driver: webdriver.Chrome, within: float, shown: Callable[[webdriver.Chrome], T | None]
) -> T | None:
    """What `shown` finds once it finds something, or None after `within` seconds."""
    try:
        return WebDriverWait(driver, within, poll_frequency=0.25).until(lambda d: shown(d) or False)
    except TimeoutException:
        return None


def _excerpt(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


def wait_for_text(driver: webdriver.Chrome, *texts: str, within: float = 20.0) -> str:
    """Wait until the page shows every text; return the page's text."""
    text = ""

    def shows_all(d: webdriver.Chrome) -> str | None:
        nonlocal text
        text = page_text(d)
        return text if all(wanted in text for wanted in texts) else None

    if (found := _waiting(driver, within, shows_all)) is None:
        missing = [wanted for wanted in texts if wanted not in text]
        raise TimeoutError(
            f"{driver.current_url} does not show {missing} after {within} s;"
            f" it shows: {_excerpt(text)}"
        )
    return found


@dataclass(frozen=True)
class ShownNumber:
    """A number as the page shows it, e.g. `1,234.5` (HA groups thousands with commas), and its
    unit."""

    text: str
    unit: str

    @property
    def value(self) -> float:
        """The number."""
        return float(self.text.replace(",", ""))

    @property
    def resolution(self) -> float:
        """What its last digit is worth: the page rounds to it."""
        _, _, decimals = self.text.partition(".")
        return 10.0 ** -len(decimals)


def shown_number(text: str, label: str, *units: str) -> ShownNumber | None:
    """The number a page's text shows right after `label`, in one of the `units` (as HA's rows
    show a sensor's name, then its state and unit), if it shows one."""
    unit = "|".join(re.escape(unit) for unit in units)
    pattern = rf"{re.escape(label)} (-?\d[\d,]*(?:\.\d+)?) ({unit})(?!\w)"
    found = re.search(pattern, text)
    return ShownNumber(found.group(1), found.group(2)) if found else None


def wait_for_number(
    driver: webdriver.Chrome, label: str, *units: str, within: float = 20.0
) -> ShownNumber:
    """Wait until the page shows a number in one of the `units` after `label`; return it."""
    text = ""

    def number(d: webdriver.Chrome) -> ShownNumber | None:
        nonlocal text
        text = page_text(d)
        return shown_number(text, label, *units)

    if (found := _waiting(driver, within, number)) is None:
        raise TimeoutError(
            f"{driver.current_url} shows no number in {'/'.join(units)} after {label!r}"
            f" after {within} s; it shows: {_excerpt(text)}"
        )
    return found


def log_in(driver: webdriver.Chrome, ha_url: str, username: str, password: str) -> None:
    """Fill HA's login form and wait for the app to load."""
    driver.get(ha_url)
    if _waiting(driver, LOGIN_SECONDS, lambda d: d.find_elements(By.ID, "username")) is None:
        raise TimeoutError(f"no login form at {driver.current_url}")
    driver.find_element(By.ID, "username").send_keys(username)
    password_field = driver.find_element(By.ID, "password")
    password_field.send_keys(password)
    password_field.send_keys(Keys.ENTER)

    def app_loaded(d: webdriver.Chrome) -> bool:
        return "/auth/authorize" not in d.current_url and bool(
            d.execute_script("return !!document.querySelector('home-assistant')")
        )

    if not _waiting(driver, LOGIN_SECONDS, app_loaded):
        raise TimeoutError(f"still on {driver.current_url} after logging in")


def open_page(driver: webdriver.Chrome, url: str, *texts: str) -> str:
    """Open a page and wait until it shows the texts; return its text."""
    driver.get(url)
    return wait_for_text(driver, *texts)


def press_until(
    driver: webdriver.Chrome, button: str, *texts: str, presses: int = 1, within: float = 20.0
) -> str:
    """Press a button until the page shows the texts (a form's Submit, step after step, at most
    `presses` times); return the page's text."""
    for _ in range(presses):
        if not _waiting(driver, within, lambda d: d.execute_script(DEEP_CLICK, button)):
            raise TimeoutError(f"{driver.current_url} shows no {button!r} button after {within} s")
        with contextlib.suppress(TimeoutError):
            return wait_for_text(driver, *texts, within=PRESS_SECONDS)
    return wait_for_text(driver, *texts, within=within)
