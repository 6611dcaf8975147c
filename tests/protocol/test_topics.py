"""Zigbee2MQTT's topics: what each carries, under one base topic or one per home."""

import pytest

from zigbee2mqtt_protocol.topics import TopicKind, Topics

TOPICS = Topics("zigbee2mqtt")
PATTERN = "homes/+/zigbee2mqtt"


@pytest.mark.parametrize(
    ("topic", "kind", "device"),
    [
        ("zigbee2mqtt/kettle", TopicKind.DEVICE_STATE, "kettle"),
        ("zigbee2mqtt/kitchen/kettle", TopicKind.DEVICE_STATE, "kitchen/kettle"),
        ("zigbee2mqtt/kitchen/kettle/availability", TopicKind.AVAILABILITY, "kitchen/kettle"),
        ("zigbee2mqtt/bridge/state", TopicKind.BRIDGE_STATE, ""),
        ("zigbee2mqtt/bridge/event", TopicKind.BRIDGE_EVENT, ""),
        ("zigbee2mqtt/bridge/devices", TopicKind.BRIDGE_DEVICES, ""),
        ("zigbee2mqtt/bridge/info", TopicKind.OTHER, ""),
        ("zigbee2mqtt/bridge/response/device/rename", TopicKind.OTHER, ""),
        ("zigbee2mqtt/kettle/set", TopicKind.OTHER, ""),
        ("zigbee2mqtt/kettle/get", TopicKind.OTHER, ""),
        ("zigbee2mqtt/kettle/set/state", TopicKind.OTHER, ""),
        ("zigbee2mqtt/", TopicKind.OTHER, ""),
        ("zigbee2mqtt/availability", TopicKind.DEVICE_STATE, "availability"),
        ("homeassistant/sensor/0x1/power/config", TopicKind.OTHER, ""),
        ("zigbee2mqtt2/kettle", TopicKind.OTHER, ""),
    ],
)
def test_topics_are_classified_by_zigbee2mqtt_rules(
    topic: str, kind: TopicKind, device: str
) -> None:
    """Readings, availability and bridge topics are told apart; commands are not readings."""
    classified = TOPICS.classify(topic)
    assert (classified.kind, classified.device) == (kind, device)


def test_a_custom_base_topic_is_followed() -> None:
    """Z2M_BASE_TOPIC changes every topic."""
    topics = Topics("home/z2m")
    assert topics.subscription == "home/z2m/#"
    assert topics.classify("home/z2m/plug").kind is TopicKind.DEVICE_STATE
    assert topics.command_topic("salon/plug") == "home/z2m/salon/plug/set"
    assert topics.state_topic("salon/plug") == "home/z2m/salon/plug"


@pytest.mark.parametrize(
    ("topic", "kind", "device", "site"),
    [
        ("homes/h1/zigbee2mqtt/kettle", TopicKind.DEVICE_STATE, "kettle", "h1"),
        ("homes/h 2/zigbee2mqtt/kitchen/kettle", TopicKind.DEVICE_STATE, "kitchen/kettle", "h 2"),
        ("homes/h1/zigbee2mqtt/kettle/availability", TopicKind.AVAILABILITY, "kettle", "h1"),
        ("homes/h1/zigbee2mqtt/bridge/devices", TopicKind.BRIDGE_DEVICES, "", "h1"),
        ("homes/h1/zigbee2mqtt/bridge/event", TopicKind.BRIDGE_EVENT, "", "h1"),
        ("homes/h1/zigbee2mqtt/kettle/set", TopicKind.OTHER, "", ""),
        ("homes/h1/zigbee2mqtt", TopicKind.OTHER, "", ""),
        ("homes/h1/other/kettle", TopicKind.OTHER, "", ""),
        ("homes/h1/zigbee2mqtt2/kettle", TopicKind.OTHER, "", ""),
        ("homes/zigbee2mqtt/kettle", TopicKind.OTHER, "", ""),
        ("zigbee2mqtt/kettle", TopicKind.OTHER, "", ""),
    ],
)
def test_a_base_topic_with_a_home_level_names_the_home(
    topic: str, kind: TopicKind, device: str, site: str
) -> None:
    """`homes/+/zigbee2mqtt`: the level the `+` matches is the home."""
    classified = Topics(PATTERN).classify(topic)
    assert (classified.kind, classified.device, classified.site) == (kind, device, site)


def test_topics_of_many_homes_are_remembered_within_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thousands of homes make many topics: past MAX_TOPICS, what was remembered is dropped,
    and every topic is still read right."""
    monkeypatch.setattr("zigbee2mqtt_protocol.topics.MAX_TOPICS", 2)
    topics = Topics(PATTERN)
    for home in ("h1", "h2", "h3", "h1"):
        assert topics.classify(f"homes/{home}/zigbee2mqtt/kettle").site == home
    assert len(topics._known) <= 2


def test_a_command_goes_to_its_homes_topic_and_never_to_a_wildcard() -> None:
    """`homes/h2/zigbee2mqtt/kettle/set`; without a site, no topic at all."""
    topics = Topics(PATTERN)
    assert topics.command_topic("kettle", "h2") == "homes/h2/zigbee2mqtt/kettle/set"
    assert Topics("+/z2m").command_topic("plug", "h") == "h/z2m/plug/set"
    for site in ("", "+", "a/b", "#"):
        with pytest.raises(ValueError, match="not a site"):
            topics.command_topic("kettle", site)
