"""The ZLinky and the plugs as Home Assistant reads them: their messages, decoded by Energy Edge.

Each device is paired the way Energy Edge pairs it: its metering plan from its `bridge/devices`
entry (`DeviceCatalog`). Each reading goes the way it goes in Home Assistant: the simulator's
Zigbee2MQTT message as JSON, then `DeviceMeter.read`, whose checked energy increments are what
the cost sensors price (`CostAccumulator.add_energy`).

The home's Linky is in historic mode, its factory default: the ZLinky publishes `apparent_power`
(PAPP, to 10 VA) and `available_power` (ISOUSC, the subscribed current in A); the contract comes
from the options and the meter's reference power (`shedding_settings`).
"""

from dataclasses import dataclass
import json

from custom_components.energy_edge.engines.devices import DeviceCatalog
from custom_components.energy_edge.engines.options import shedding_settings
from custom_components.energy_edge.engines.shedding import SheddingSettings
from energy_edge_sim import Household
from energy_edge_sim.devices import Coordinator, Device, LinkyMode, zlinky
from energy_edge_sim.payloads import LinkyIdentity, bridge_devices, linky_values, plug_values
from energy_edge_sim.runtime import FR_HOUSE_PLUGS, LINKY_NAME
from energy_edge_sim.z2mjson import JsonObject
from zigbee2mqtt_protocol.bridge import parse_bridge_devices
from zigbee2mqtt_protocol.payloads import MAX_STATE_BYTES, decode_object
from zigbee2mqtt_protocol.readings import DeviceMeter, Reading


class Metered:
    """A device paired with Energy Edge: its messages read by the plan `bridge/devices` gives."""

    def __init__(self, device: Device) -> None:
        """Pair it: Energy Edge learns its metering plan from `bridge/devices`."""
        self.device = device
        catalog = DeviceCatalog()
        listed, _ = parse_bridge_devices(json.dumps(bridge_devices(Coordinator(), [device])))
        catalog.apply_bridge_devices(listed)
        known = catalog[device.ieee_address]
        self._meter = DeviceMeter(known.plan, known.known_properties)

    def read(self, values: JsonObject, timestamp: float) -> Reading:
        """One message of the device, received at `timestamp` (seconds)."""
        message = json.dumps(values).encode()  # as it comes over MQTT
        return self._meter.read(decode_object(message, MAX_STATE_BYTES), timestamp)


@dataclass(frozen=True, slots=True)
class LinkyReading:
    """What Home Assistant makes of one ZLinky message."""

    measured_va: float
    settings: SheddingSettings
    """The shedding settings in force after it (the contract from the meter)."""
    imported_kwh: float
    """The energy imported since the previous message, as the home's cost sensor prices it."""


class Linky:
    """The home's ZLinky, read through Energy Edge's own decoding."""

    def __init__(self, mode: LinkyMode = LinkyMode.HISTORIC, *, kwh_decimals: int = 3) -> None:
        """Pair it."""
        self.mode = mode
        self._kwh_decimals = kwh_decimals
        self._metered = Metered(Device.named(LINKY_NAME, zlinky(mode)))
        self._identity = LinkyIdentity.for_device(self._metered.device)
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
        reading = self._metered.read(values, house.timestamp)
        if reading.reference_power_va is not None:
            self._reference_va = reading.reference_power_va
        measured = reading.apparent_power_va
        if measured is None:
            measured = reading.power_w
        if measured is None:
            raise ValueError(f"the ZLinky's message carries no power: {values}")
        return LinkyReading(
            measured, shedding_settings({}, self._reference_va), reading.imported_kwh
        )


class Plug:
    """One of `fr_house`'s metered plugs (its Zigbee model), read through Energy Edge's decoding."""

    def __init__(self, name: str) -> None:
        """Pair it."""
        self.name = name
        self._metered = Metered(Device.named(name, FR_HOUSE_PLUGS[name]))

    def imported_kwh(self, house: Household) -> float:
        """The plug's message now; the energy it drew since the previous one, as its cost
        sensor prices it."""
        values = plug_values(self._metered.device.model, house.plug_reading(self.name))
        return self._metered.read(values, house.timestamp).imported_kwh
