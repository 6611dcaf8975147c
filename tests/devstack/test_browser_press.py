"""Pressing buttons inside shadow roots, as HA's dialogs need: an icon button by its label, a
button by its text, pressed step after step until the page shows what is wanted."""

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from selenium import webdriver

from scripts.lib.devstack.browser import browser_available, chromium, press_until

pytestmark = pytest.mark.browser

# A dialog as HA draws one: its buttons inside a shadow root; each Submit shows the next step.
DIALOG = """<!doctype html><body><flow-dialog></flow-dialog><script>
customElements.define('flow-dialog', class extends HTMLElement {
  connectedCallback() {
    const root = this.attachShadow({mode: 'open'});
    const steps = ['Meter and tariff', 'Contract power and load shedding', 'Managed loads'];
    let step = -1;
    root.innerHTML = '<button aria-label="Configure">⚙</button><p></p>'
      + '<ha-button hidden>Submit</ha-button><button aria-label="Hidden" hidden>x</button>';
    const [configure, text, submit] = [root.querySelector('button'), root.querySelector('p'),
      root.querySelector('ha-button')];
    const show = () => { text.textContent = steps[step]; submit.hidden = false; };
    configure.addEventListener('click', () => { step = 0; show(); });
    submit.addEventListener('click', () => { step = Math.min(step + 1, 2); show(); });
  }
});
</script></body>"""


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    if missing := browser_available():
        pytest.skip(f"Chromium is {missing}: run ./scripts/setup")
    with chromium() as opened:
        yield opened


@pytest.fixture
def dialog(driver: webdriver.Chrome) -> webdriver.Chrome:
    driver.get("data:text/html;charset=utf-8," + quote(DIALOG))
    return driver


def test_an_icon_button_by_its_label_then_submit_until_the_step_shows(
    dialog: webdriver.Chrome,
) -> None:
    assert "Meter and tariff" in press_until(dialog, "Configure", "Meter and tariff")
    assert "Managed loads" in press_until(dialog, "Submit", "Managed loads", presses=3)


def test_a_step_that_never_shows_fails_saying_what_the_page_shows(
    dialog: webdriver.Chrome,
) -> None:
    press_until(dialog, "Configure", "Meter and tariff")
    with pytest.raises(TimeoutError, match=r"does not show \['Prices'\].*Managed loads"):
        press_until(dialog, "Submit", "Prices", presses=2, within=2)


def test_a_hidden_or_absent_button_is_not_pressed(dialog: webdriver.Chrome) -> None:
    for absent in ("Hidden", "Submit", "Cancel"):  # Submit shows only once the dialog is open
        with pytest.raises(TimeoutError, match=f"no '{absent}' button"):
            press_until(dialog, absent, "Meter and tariff", within=1)
