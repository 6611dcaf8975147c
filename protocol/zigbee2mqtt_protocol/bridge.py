"""The bridge's own topics: `bridge/devices` (every device with its definition) and
`bridge/event` (devices joining, leaving, being interviewed)."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import RejectedInputError, Rejection
from .exposes import ExposedProperty, Setting, collect_settings, flatten_exposes
from .payloads import MAX_DEVICE_LIST_BYTES, Payload, decode_json, decode_object, excerpt
from .topics import topic_name


@dataclass(frozen=True, slots=True)
class DeviceDescription:
    """What Zigbee2MQTT says about a device's hardware, as its HA discovery configs say it:
    `model` is the definition's description, `model_id` its model."""

    name: str
    model: str | None = None
    model_id: str | None = None
    manufacturer: str | None = None


@dataclass(frozen=True, slots=True)
class BridgeDevice:
    """One device of Zigbee2MQTT's retained `bridge/devices` list (not the coordinator)."""

    ieee: str
    friendly_name: str
    model: str | None = None  # the definition's model, e.g. `ZLinky_TIC`, `TS011F_plug_1`
    vendor: str | None = None
    description: str | None = None
    model_id: str | None = None  # the model the device itself reports, when Z2M lists it
    properties: tuple[ExposedProperty, ...] = ()
    settings: Mapping[str, Setting] = field(default_factory=dict)
    disabled: bool = False
    supported: bool = True
    """Zigbee2MQTT's own `supported`: a native or external definition. False for a device it
    has no definition for (no exposes) and for a generated definition (exposes guessed from its
    clusters)."""

    @property
    def device(self) -> DeviceDescription:
        """The device's hardware as discovery configs describe it."""
        return DeviceDescription(
            name=self.friendly_name,
            model=self.description,
            model_id=self.model_id or self.model,
            manufacturer=self.vendor,
        )

    def command_problems(self, command: Mapping[str, object]) -> list[str]:
        """Everything wrong with a command for this device (empty when it is valid)."""
        if not command:
            return ["the command sets no property"]
        problems = []
        for name, value in command.items():
            setting = self.settings.get(name)
            if setting is None:
                settable = ", ".join(sorted(self.settings)) or "none"
                problems.append(
                    f"{name}: not settable on {self.friendly_name} (settable: {settable})"
                )
            elif (problem := setting.problem(value)) is not None:
                problems.append(f"{name}: {problem}")
        return problems


def parse_bridge_devices(payload: Payload) -> tuple[list[BridgeDevice], list[RejectedInputError]]:
    """Read `bridge/devices`; entries that cannot be read come back as rejections to count."""
    return bridge_devices_of(decode_json(payload, MAX_DEVICE_LIST_BYTES))


def bridge_devices_of(entries: object) -> tuple[list[BridgeDevice], list[RejectedInputError]]:
    """The devices of `bridge/devices` once decoded (see `parse_bridge_devices`)."""
    if not isinstance(entries, list):
        raise RejectedInputError(
            Rejection.NOT_AN_OBJECT, f"bridge/devices is not a list: {excerpt(repr(entries))}"
        )
    devices: list[BridgeDevice] = []
    rejections: list[RejectedInputError] = []
    for entry in entries:
        try:
            device = _bridge_device(entry)
        except RejectedInputError as err:
            rejections.append(err)
            continue
        if device is not None:
            devices.append(device)
    return devices, rejections


def _bridge_device(entry: object) -> BridgeDevice | None:
    if not isinstance(entry, dict):
        raise RejectedInputError(
            Rejection.BAD_BRIDGE_DEVICE, f"entry is not an object: {entry!r:.80}"
        )
    if entry.get("type") == "Coordinator":
        return None
    ieee, friendly_name = entry.get("ieee_address"), entry.get("friendly_name")
    if not isinstance(ieee, str) or not ieee or not isinstance(friendly_name, str):
        raise RejectedInputError(Rejection.BAD_BRIDGE_DEVICE, f"no address or name: {entry!r:.80}")
    topic_name(friendly_name, ieee)
    definition = entry.get("definition")
    model_id = _text(entry.get("model_id"))
    if definition is None:  # a device Zigbee2MQTT does not support (yet): no exposes
        return BridgeDevice(
            ieee, friendly_name, model_id=model_id, disabled=_disabled(entry), supported=False
        )
    if not isinstance(definition, dict) or not isinstance(definition.get("exposes"), list):
        raise RejectedInputError(Rejection.BAD_BRIDGE_DEVICE, f"{ieee}: definition without exposes")
    settings: dict[str, Setting] = {}
    collect_settings(definition["exposes"], settings)
    return BridgeDevice(
        ieee=ieee,
        friendly_name=friendly_name,
        model=_text(definition.get("model")),
        vendor=_text(definition.get("vendor")),
        description=_text(definition.get("description")),
        model_id=model_id,
        properties=tuple(flatten_exposes(definition["exposes"])),
        settings=settings,
        disabled=_disabled(entry),
        supported=entry.get("supported") is not False,  # absent before Zigbee2MQTT 1.17
    )


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    """A `bridge/event` message: `device_joined`, `device_leave`, `device_interview`, ...

    Zigbee2MQTT names the device by IEEE address in every event it publishes."""

    type: str
    ieee: str
    friendly_name: str | None


def parse_bridge_event(payload: Payload) -> BridgeEvent:
    """Read `{"type": ..., "data": {"ieee_address": ..., "friendly_name": ...}}`."""
    event = decode_object(payload)
    data = event.get("data")
    kind = event.get("type")
    if not isinstance(data, dict) or not isinstance(kind, str) or not kind:
        raise RejectedInputError(Rejection.BAD_EVENT, excerpt(payload))
    ieee, name = data.get("ieee_address"), data.get("friendly_name")
    if not isinstance(ieee, str) or not ieee:
        raise RejectedInputError(Rejection.BAD_EVENT, excerpt(payload))
    return BridgeEvent(kind, ieee, name if isinstance(name, str) and name else None)


def _disabled(entry: Mapping[str, object]) -> bool:
    return entry.get("disabled") is True


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
