"""Reading numbers off a page's text the way HA's rows show them: a name, a value, a unit."""

import pytest

from scripts.lib.devstack.browser import shown_number

DEVICE_PAGE = (
    "Sensors Current 0.00 A Energy (integrated) 0.125 kWh Power 1,234 W Voltage 235 V"
    " Add to dashboard"
)


@pytest.mark.parametrize(
    ("label", "unit", "text", "value", "resolution"),
    [
        ("Energy (integrated)", "kWh", "0.125", 0.125, 0.001),
        ("Power", "W", "1,234", 1234.0, 1.0),
        ("Current", "A", "0.00", 0.0, 0.01),
    ],
)
def test_a_sensors_value_is_read_after_its_name(
    label: str, unit: str, text: str, value: float, resolution: float
) -> None:
    """The number right after the name, thousands separators dropped, precise to its last digit."""
    shown = shown_number(DEVICE_PAGE, label, unit)
    assert shown is not None
    assert (shown.text, shown.unit) == (text, unit)
    assert shown.value == value
    assert shown.resolution == pytest.approx(resolution)


def test_the_unit_is_one_of_those_asked_for() -> None:
    """HA's power badge switches from W to kW past 1000 W."""
    shown = shown_number("Power usage 1.52 kW", "Power usage", "W", "kW")
    assert shown is not None
    assert (shown.value, shown.unit) == (1.52, "kW")


@pytest.mark.parametrize(
    ("label", "unit"),
    [
        ("Energy (integrated)", "W"),  # kWh is not W
        ("Voltage", "VA"),
        ("Home power", "W"),  # not on the page
        ("Power", "kW"),
    ],
)
def test_no_number_when_the_page_does_not_show_it(label: str, unit: str) -> None:
    """A name with another unit, or absent, gives nothing (the wait goes on, then fails)."""
    assert shown_number(DEVICE_PAGE, label, unit) is None


def test_a_state_that_is_not_a_number_is_not_read() -> None:
    """`Unavailable` or `Unknown` in place of the value is no number."""
    assert shown_number("Home power Unavailable", "Home power", "W") is None
