"""Home power now, by the integration's rule (`zigbee2mqtt_protocol.home`): the grid meter
while it speaks and is available, else the sum of the available metered devices, whatever the
age of their last reading (a plug whose power does not change may report once an hour)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from zigbee2mqtt_protocol.errors import RejectedInputError
from zigbee2mqtt_protocol.home import home_power, meter_silent
from zigbee2mqtt_protocol.readings import power_now

from .devices import DeviceView

NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class PowerNow:
    """The home's power and where it comes from."""

    value: float
    unit: Literal["W", "VA"]  # VA: a meter that measures apparent power only (the Linky)
    source: Literal["meter", "devices"]
    devices: tuple[str, ...]  # the devices whose readings make the value
    time_ns: int  # the oldest reading used


def grid_meter(devices: Sequence[DeviceView], named: str | None = None) -> DeviceView | None:
    """The home's grid meter: the metering device named (friendly name or IEEE address),
    else the ZLinky with the lowest IEEE address, else none; a device disabled in Zigbee2MQTT
    is none of them (as in the integration)."""
    metered = [
        device
        for device in devices
        if device.plan is not None and device.plan.is_metered and not device.disabled
    ]
    chosen = next((d for d in metered if named is not None and named in (d.name, d.ieee)), None)
    if chosen is not None:
        return chosen
    return min((d for d in metered if d.zlinky), key=lambda d: d.ieee or "", default=None)


def home_power_now(
    devices: Sequence[DeviceView],
    listening_since_ns: int,
    now_ns: int,
    meter_name: str | None = None,
) -> PowerNow | None:
    """The home's power from one home's devices, or None when nothing gives it.

    The meter counts while it is not offline and not silent (`home.meter_silent`, counted
    from `listening_since_ns` when it has not spoken since); the other devices while they
    are not offline.
    """
    meter = grid_meter(devices, meter_name)
    meter_power = None
    if (
        meter is not None
        and meter.online is not False
        and not meter_silent(
            _seconds(meter.last_seen_ns), listening_since_ns / NS_PER_S, now_ns / NS_PER_S
        )
    ):
        meter_power = _power(meter)
    parts = [
        (device.name, power, device.last_seen_ns or now_ns)
        for device in devices
        if device is not meter and device.online is not False and not device.disabled
        if (power := _power(device)) is not None
    ]
    home = home_power(meter_power, sum(power for _, power, _ in parts) if parts else None)
    if home is None:
        return None
    if home.from_meter and meter is not None:
        unit: Literal["W", "VA"] = "VA" if meter.plan and meter.plan.power_from_apparent else "W"
        return PowerNow(home.power, unit, "meter", (meter.name,), meter.last_seen_ns or now_ns)
    return PowerNow(
        home.power,
        "W",
        "devices",
        tuple(name for name, _, _ in parts),
        min(seen for _, _, seen in parts),
    )


def _power(device: DeviceView) -> float | None:
    """A device's power in its last values, by its metering plan (None: no plan, no power)."""
    if device.plan is None:
        return None
    # A refused value (NaN, LiXee's "no data") only means the device gives no power now.
    notes: list[RejectedInputError] = []
    power, _ = power_now(device.plan, dict(device.last_values), notes)
    return power


def _seconds(time_ns: int | None) -> float | None:
    return None if time_ns is None else time_ns / NS_PER_S
