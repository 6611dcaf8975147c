"""The one rule for a home's power, as both the integration and the bridge apply it."""

import pytest

from zigbee2mqtt_protocol.home import METER_SILENCE_S, HomePower, home_power, meter_silent


def test_the_meter_wins_while_it_speaks_and_explains_the_untracked_power() -> None:
    """Linky 3,000 VA, plugs 1,200 W: 1,800 VA that no plug explains."""
    assert home_power(3000.0, 1200.0) == HomePower(3000.0, 1800.0, from_meter=True)
    assert home_power(3000.0, None) == HomePower(3000.0, 3000.0, from_meter=True)
    assert home_power(1000.0, 1200.0) == HomePower(1000.0, 0.0, from_meter=True)


def test_without_the_meter_the_devices_make_the_home() -> None:
    """No meter (or a silent one): the sum of the devices, nothing untracked to say."""
    assert home_power(None, 1200.0) == HomePower(1200.0, None, from_meter=False)
    assert home_power(None, None) is None


@pytest.mark.parametrize(
    ("last_heard", "since", "now", "silent"),
    [
        (1000.0, 0.0, 1000.0 + 9 * 60, False),  # a Linky reports about once a minute
        (1000.0, 0.0, 1000.0 + 10 * 60, True),  # ten minutes without a word
        (None, 5000.0, 5000.0 + 9 * 60, False),  # just started: the meter has its full delay
        (None, 5000.0, 5000.0 + 10 * 60, True),
        (1000.0, 5000.0, 5000.0 + 60, False),  # Zigbee2MQTT came back: the delay starts again
    ],
)
def test_the_meter_is_silent_after_ten_minutes(
    last_heard: float | None, since: float, now: float, silent: bool
) -> None:
    """Ten minutes: ten of the Linky's reports missed."""
    assert METER_SILENCE_S == 600
    assert meter_silent(last_heard, since, now) is silent
