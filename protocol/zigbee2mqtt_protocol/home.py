"""The one rule for a home's power: the grid meter while it speaks, else its metered devices.

Both of Energy Edge's consumers (the integration's hub and the bridge's `/api/power`) give the
same home the same figure through these functions.
"""

from typing import NamedTuple

# A grid meter silent this long no longer gives the home's power (a Linky's ZLinky reports
# about once a minute; Zigbee2MQTT's longest default reporting interval is an hour, for plugs
# whose power does not change, which is why devices count while available, whatever their age).
METER_SILENCE_S = 600.0


class HomePower(NamedTuple):
    """The home's power and where it comes from (a tuple: it is made at every home update)."""

    power: float  # W; VA when the meter measures apparent power only (the Linky)
    untracked: float | None  # what the meter sees that no device explains; None without meter
    from_meter: bool


def meter_silent(last_heard: float | None, listening_since: float, now: float) -> bool:
    """The meter has said nothing for METER_SILENCE_S seconds (counted from `listening_since`
    when it has not spoken since: a restart gives it its full delay)."""
    return now - max(last_heard or 0.0, listening_since) >= METER_SILENCE_S


def home_power(meter: float | None, devices: float | None) -> HomePower | None:
    """The home's power from the meter's power (None: no meter, or silent, or unavailable) and
    the sum of the available devices' power (None: no device reports a power)."""
    if meter is not None:
        return HomePower(meter, max(meter - (devices or 0.0), 0.0), True)
    if devices is not None:
        return HomePower(devices, None, False)
    return None
