"""The Linky as Home Assistant reads it: the ZLinky's messages, decoded by Energy Edge.

The home's Linky is in historic mode, its factory default: the ZLinky publishes `apparent_power`
(PAPP, to 10 VA) and `available_power` (ISOUSC, the subscribed current in A). Each reading goes
the way it goes in Home Assistant: the simulator's Zigbee2MQTT message as JSON, the device's
metering plan from its `bridge/devices` entry (`DeviceCatalog`), `DeviceMeter.read`, and the
contract from the options and the meter's reference power (`shedding_settings`).
"""

from dataclasses import dataclass
import json

from custom_components.energy_edge.devices import DeviceCatalog
from custom_components.energy_edge.energy import DeviceMeter
from custom_components.energy_edge.options import shedding_settings
from custom_components.energy_edge.shedding import SheddingSettings
from custom_components.energy_edge.z2m import loads_object, parse_bridge_devices
from energy_edge_sim import Household
from energy_edge_sim.devices import Coordinator, Device, LinkyMode, zlinky
from energy_edge_sim.payloads import LinkyIdentity, bridge_devices, linky_values
from energy_edge_sim.runtime import LINKY_NAME


@dataclass(frozen=True, slots=True)
class LinkyReading:
    """What Home Assistant makes of one ZLinky message."""

    measured_va: float
    settings: SheddingSettings
    """The shedding settings in force after it (the contract from the meter)."""


class Linky:
    """The home's ZLinky, read through Energy Edge's own decoding."""

    def __init__(self, mode: LinkyMode = LinkyMode.HISTORIC, *, kwh_decimals: int = 3) -> None:
        """Pair it: Energy Edge learns its metering plan from `bridge/devices`."""
        self.mode = mode
        self._kwh_decimals = kwh_decimals
        self._device = Device.named(LINKY_NAME, zlinky(mode))
        self._identity = LinkyIdentity.for_device(self._device)
        catalog = DeviceCatalog()
        listed, _ = parse_bridge_devices(json.dumps(bridge_devices(Coordinator(), [self._device])))
        catalog.apply_bridge_devices(listed)
        device = catalog[self._device.ieee_address]
        self._meter = DeviceMeter(device.plan, device.known_properties)
        self._reference_va: float | None = None

    def read(self, house: Household) -> LinkyReading:
        """The ZLinky's message now, as Home Assistant reads it."""
        values = linky_values(
            self.mode,
            house.meter_reading(),
            self._identity,
            house.time,
            kwh_decimals=self._kwh_decimals,
        )
        message = json.dumps(values).encode()  # as it comes over MQTT
        reading = self._meter.read(loads_object(message), house.timestamp)
        if reading.reference_power_va is not None:
            self._reference_va = reading.reference_power_va
        measured = reading.apparent_power_va
        if measured is None:
            measured = reading.power_w
        if measured is None:
            raise ValueError(f"the ZLinky's message carries no power: {values}")
        return LinkyReading(measured, shedding_settings({}, self._reference_va))
