"""Properties of the Z2M parser that hold for any input hypothesis can think of: nothing but
`RejectedInputError` escapes, no device name can widen a subscription, and no excerpt of a refused
payload carries the meter's identity."""

from collections.abc import Callable
import json
import string

from hypothesis import given, settings, strategies as st

from tests.helpers import z2m
from zigbee2mqtt_protocol.bridge import parse_bridge_devices, parse_bridge_event
from zigbee2mqtt_protocol.discovery import DiscoveredProperty, parse_discovery_config
from zigbee2mqtt_protocol.errors import RejectedInputError, Rejection
from zigbee2mqtt_protocol.payloads import decode_object, parse_online

# Fixed seed and a bounded count, so that CI runs the same examples in seconds.
BOUNDED = settings(max_examples=200, derandomize=True, deadline=None)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
PAYLOADS = (
    st.binary(max_size=200)
    | st.text(max_size=200)
    | JSON.map(json.dumps)
    | st.sampled_from(["NaN", "[Infinity]", '{"state": -Infinity}'])
)
# What the MQTT spec and HA's MQTT client refuse in a topic name, or let match other topics.
UNUSABLE_IN_TOPIC = "+#\x00\x1f\x7f\x9f"
NAMES = st.text(
    alphabet=st.sampled_from([*string.ascii_letters, *"/ -_éèçà€", *UNUSABLE_IN_TOPIC]),
    max_size=24,
)


def _rejection(parse: Callable[..., object], *args: object) -> RejectedInputError | None:
    """What a reader refused (None if it read the input); any other exception escapes."""
    try:
        parse(*args)
    except RejectedInputError as err:
        return err
    return None


@BOUNDED
@given(PAYLOADS)
def test_any_payload_is_read_or_refused_with_a_reason(payload: str | bytes) -> None:
    """Whatever a broker delivers, each reader returns a value or a counted rejection."""
    rejections = [
        _rejection(reader, payload)
        for reader in (decode_object, parse_online, parse_bridge_event, parse_bridge_devices)
    ]
    rejections += [
        _rejection(parse_discovery_config, topic, payload, "homeassistant", "zigbee2mqtt")
        for topic in ("homeassistant/sensor/0x00158d0001a2b3c4/power/config", "homeassistant/x")
    ]
    assert all(err is None or err.reason in set(Rejection) for err in rejections)


@BOUNDED
@given(st.lists(JSON, max_size=5))
def test_any_device_list_yields_devices_or_rejections(entries: list[object]) -> None:
    """A list of anything: unreadable entries become rejections, never exceptions."""
    devices, rejections = parse_bridge_devices(json.dumps(entries))
    assert all(isinstance(rejection, RejectedInputError) for rejection in rejections)
    assert len(devices) + len(rejections) <= len(entries)


@BOUNDED
@given(NAMES)
def test_a_device_is_known_by_its_name_only_when_the_name_is_a_topic_level_path(
    name: str,
) -> None:
    """Z2M names may hold `/`, spaces and accents; a wildcard or control character is refused,
    from the device list and from discovery alike."""
    usable = bool(name) and not set(name) & set(UNUSABLE_IN_TOPIC)
    device = z2m.plug("0x8c65a3fffe300001", name)
    configs = z2m.discovery_configs(device)
    topic = f"homeassistant/sensor/{device.ieee}/power/config"
    devices, rejections = parse_bridge_devices(z2m.bridge_devices([device]))
    if usable:
        found_property = parse_discovery_config(
            topic, configs[topic], "homeassistant", "zigbee2mqtt"
        )
        assert [listed.friendly_name for listed in devices] == [name]
        assert getattr(found_property, "friendly_name", None) == name
    else:
        refused = _rejection(
            parse_discovery_config, topic, configs[topic], "homeassistant", "zigbee2mqtt"
        )
        assert not devices
        assert [rejection.reason for rejection in rejections] == [Rejection.BAD_FRIENDLY_NAME]
        assert refused is not None
        assert refused.reason is Rejection.BAD_FRIENDLY_NAME


@BOUNDED
@given(
    serial=st.text(string.digits, min_size=12, max_size=12),
    prm=st.text(string.digits, min_size=14, max_size=14),
    power=st.integers(0, 99),
    cut=st.integers(0, 200),
    quote=st.sampled_from(['"', "'"]),
)
def test_an_excerpt_never_carries_the_meter_identity(
    serial: str, prm: str, power: int, cut: int, quote: str
) -> None:
    """A ZLinky message cut anywhere (or in Python's quotes) is refused without its serial
    number (ADSC/ADCO) or delivery point (PRM), not even a part of them."""
    full = json.dumps(
        {"apparent_power": power, "meter_serial_number": serial, "site_id": prm},
        separators=(",", ":"),
    ).replace('"', quote)
    refused = _rejection(decode_object, full[:cut])
    for identity in (serial, prm):
        start = full.index(identity)
        kept = full[start : min(cut, start + len(identity))]  # what the cut left of it
        assert refused is None or len(kept) < 3 or kept not in str(refused)


PLUG = z2m.plug("0x8c65a3fffe300002", "cuisine/bouilloire")
SWITCH_TOPIC = f"homeassistant/switch/{PLUG.ieee}/switch/config"


def _mutated(document: dict[str, object], changes: dict[str, object]) -> dict[str, object]:
    """A document with some fields replaced (or removed when the new value is `...`)."""
    mutated = {**document, **changes}
    return {key: value for key, value in mutated.items() if value is not Ellipsis}


@BOUNDED
@given(st.data())
def test_a_discovery_config_with_any_field_changed_is_read_or_refused(data: st.DataObject) -> None:
    """Zigbee2MQTT's switch config with fields replaced by anything: a refusal with a reason, or
    a property whose name, payloads and friendly name are text, the name usable in a topic."""
    config = json.loads(z2m.discovery_configs(PLUG)[SWITCH_TOPIC])
    keys = st.sampled_from(sorted(config))
    topics = NAMES.map(lambda name: f"zigbee2mqtt/{name}")  # a state topic naming any device
    changes = data.draw(st.dictionaries(keys, topics | JSON | st.just(...), max_size=3))
    payload = json.dumps(_mutated(config, changes))
    refused = _rejection(
        parse_discovery_config, SWITCH_TOPIC, payload, "homeassistant", "zigbee2mqtt"
    )
    if refused is not None:
        return
    found = parse_discovery_config(SWITCH_TOPIC, payload, "homeassistant", "zigbee2mqtt")
    if found is None:
        return  # not this Zigbee2MQTT's (another publisher, base topic, or no state)
    assert isinstance(found, DiscoveredProperty)
    assert found.friendly_name
    assert not set(found.friendly_name) & set(UNUSABLE_IN_TOPIC)
    assert all(isinstance(v, str | None) for v in (found.value_on, found.value_off))


@BOUNDED
@given(st.data())
def test_a_device_list_entry_with_any_field_changed_is_read_or_refused(
    data: st.DataObject,
) -> None:
    """Zigbee2MQTT's device list with one entry's fields replaced by anything: that entry is read
    or refused with a reason, and the coordinator is never taken for a device."""
    entries = json.loads(z2m.bridge_devices([PLUG]))
    device = entries[-1]
    keys = st.sampled_from(sorted(device))
    entries[-1] = _mutated(
        device, data.draw(st.dictionaries(keys, JSON | st.just(...), max_size=3))
    )
    devices, rejections = parse_bridge_devices(json.dumps(entries))
    assert len(devices) + len(rejections) <= 1
    assert all(listed.ieee != z2m.COORDINATOR_IEEE for listed in devices)
    assert all(not set(listed.friendly_name) & set(UNUSABLE_IN_TOPIC) for listed in devices)
