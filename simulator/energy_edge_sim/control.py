"""The control channel: JSON commands on `energy_edge/simulator/control` for end-to-end tests.

    {"action": "force_overload", "power_w": 4000, "duration_s": 60, "device": "oven"}
        (power_w defaults to what takes the home 20 % over its contract; duration_s to 60)
    {"action": "clear_overload"}
    {"action": "start_load", "device": "water_heater", "power_w": 2000, "duration_s": 60}
        (a load behind the plug, as an appliance switched on; duration_s defaults to 60)
    {"action": "stop_load", "device": "water_heater"}
    {"action": "hold_household", "duration_s": 120}    {"action": "release_household"}
        (the home's own appliances keep their present draw meanwhile; duration_s defaults to 60)
    {"action": "fault", "kind": "reboot" | "dropout" | "malformed" | "bridge_restart"
                        | "linky_silent", "device": "dishwasher", "duration_s": 30}
    {"action": "leave", "device": "tv"}      {"action": "join", "device": "tv"}
    {"action": "status"}

Durations are wall-clock seconds (the simulator converts them with its speed). An optional "id" is
echoed in the response on `<control topic>/response`. Anything else is refused with a reason.
"""

from dataclasses import dataclass
import json
import math

from .faults import FaultKind


class ControlError(ValueError):
    """A control command that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class ForceOverload:
    """An extra load so the meter exceeds the contract: unmetered, or behind `device`'s plug.

    Without `power_w`, the load is whatever takes the home 20 % over its contract right now.
    """

    power_w: float | None = None
    duration_s: float = 60.0
    device: str | None = None


@dataclass(frozen=True)
class ClearOverload:
    """Remove a forced overload."""


@dataclass(frozen=True)
class StartLoad:
    """A resistive load behind `device`'s plug, drawing while the plug is on."""

    device: str
    power_w: float
    duration_s: float = 60.0


@dataclass(frozen=True)
class StopLoad:
    """Stop the load started behind `device`'s plug."""

    device: str


@dataclass(frozen=True)
class HoldHousehold:
    """The home's own appliances keep what they draw now, so a test can size loads on it."""

    duration_s: float = 60.0


@dataclass(frozen=True)
class ReleaseHousehold:
    """End a hold: the appliances follow their programmes again."""


@dataclass(frozen=True)
class InjectFault:
    """Inject one fault now."""

    kind: FaultKind
    device: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class Leave:
    """A device leaves the network."""

    device: str


@dataclass(frozen=True)
class Join:
    """A device (that left) joins again."""

    device: str


@dataclass(frozen=True)
class Status:
    """Report the simulated time, the meter and every load."""


type ControlCommand = (
    ForceOverload
    | ClearOverload
    | StartLoad
    | StopLoad
    | HoldHousehold
    | ReleaseHousehold
    | InjectFault
    | Leave
    | Join
    | Status
)


@dataclass(frozen=True)
class ControlRequest:
    """A parsed command and the caller's correlation id."""

    command: ControlCommand
    request_id: str | None = None


def _positive(data: dict[str, object], key: str, default: float | None) -> float | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{key} must be a number")
    if not (math.isfinite(value) and value > 0):
        raise ControlError(f"{key} must be positive")
    return float(value)


def _device(data: dict[str, object], *, required: bool) -> str | None:
    device = data.get("device")
    if device is None and not required:
        return None
    if not isinstance(device, str) or not device:
        raise ControlError("device must name a device")
    return device


def parse_control(payload: bytes) -> ControlRequest:
    """Read one control message; raise `ControlError` with a reason when it is not valid."""
    try:
        data = json.loads(payload.decode())
    except (UnicodeDecodeError, ValueError) as error:
        raise ControlError(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ControlError("a command is a JSON object")
    request_id = data.get("id")
    if request_id is not None and not isinstance(request_id, str | int):
        raise ControlError("id must be a string or a number")
    action = data.get("action")
    command: ControlCommand
    match action:
        case "force_overload":
            command = ForceOverload(
                power_w=_positive(data, "power_w", None),
                duration_s=_positive(data, "duration_s", 60.0) or 60.0,
                device=_device(data, required=False),
            )
        case "clear_overload":
            command = ClearOverload()
        case "start_load":
            if "power_w" not in data:
                raise ControlError("start_load needs power_w")
            command = StartLoad(
                device=_device(data, required=True) or "",
                power_w=_positive(data, "power_w", None) or 0.0,
                duration_s=_positive(data, "duration_s", 60.0) or 60.0,
            )
        case "stop_load":
            command = StopLoad(_device(data, required=True) or "")
        case "hold_household":
            command = HoldHousehold(_positive(data, "duration_s", 60.0) or 60.0)
        case "release_household":
            command = ReleaseHousehold()
        case "fault":
            try:
                kind = FaultKind(str(data.get("kind")))
            except ValueError:
                kinds = ", ".join(kind.value for kind in FaultKind)
                raise ControlError(f"kind must be one of {kinds}") from None
            device = _device(
                data, required=kind in {FaultKind.REBOOT, FaultKind.DROPOUT, FaultKind.MALFORMED}
            )
            command = InjectFault(kind, device, _positive(data, "duration_s", None))
        case "leave":
            command = Leave(_device(data, required=True) or "")
        case "join":
            command = Join(_device(data, required=True) or "")
        case "status":
            command = Status()
        case _:
            raise ControlError(
                "action must be one of force_overload, clear_overload, start_load, stop_load,"
                " hold_household, release_household, fault, leave, join, status"
            )
    return ControlRequest(command, None if request_id is None else str(request_id))
