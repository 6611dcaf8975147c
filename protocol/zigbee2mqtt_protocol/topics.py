"""Zigbee2MQTT's topics: what each carries, device names usable in topics, command topics."""

from dataclasses import dataclass
from enum import StrEnum
import re

from .errors import RejectedInputError, Rejection

# Topics repeat: each is classified once, up to this many; past it the memo starts afresh
# (classifying is cheap, and a flood of new topics must not grow memory without bound).
MAX_TOPICS = 10_000

# MQTT wildcards would subscribe to other devices' topics; control characters (NUL among them)
# are refused by MQTT clients. Zigbee2MQTT's own names allow `/`, spaces and accents.
_UNUSABLE_IN_TOPIC = re.compile(r"[+#\x00-\x1f\x7f-\x9f]")


class TopicKind(StrEnum):
    """What a topic under the Zigbee2MQTT base topic carries."""

    DEVICE_STATE = "device_state"
    AVAILABILITY = "availability"
    BRIDGE_STATE = "bridge_state"
    BRIDGE_EVENT = "bridge_event"
    BRIDGE_DEVICES = "bridge_devices"
    OTHER = "other"  # commands (/set, /get), bridge requests and responses, logs...


@dataclass(frozen=True, slots=True)
class Topic:
    """A classified topic; `device` is the friendly name for device topics, `site` the home
    the base topic's `+` level named ("" without one)."""

    kind: TopicKind
    device: str = ""
    site: str = ""


_BRIDGE_TOPICS = {
    "bridge/state": TopicKind.BRIDGE_STATE,
    "bridge/event": TopicKind.BRIDGE_EVENT,
    "bridge/devices": TopicKind.BRIDGE_DEVICES,
}
_OTHER = Topic(TopicKind.OTHER)


class Topics:
    """Classifies the topics under one Zigbee2MQTT base topic, or under a pattern with one
    `+` level naming the home (`homes/+/zigbee2mqtt`: one Zigbee2MQTT per home)."""

    def __init__(self, base_topic: str) -> None:
        """Prepare for `base_topic` (`zigbee2mqtt`, or a pattern with one `+` level)."""
        self.base_topic = base_topic
        self.subscription = f"{base_topic}/#"
        before, wildcard, after = base_topic.partition("+")
        self.has_sites = bool(wildcard)
        # With a site level: `before` ends with "/" (or is empty), `after` starts with "/".
        self._prefix = before if wildcard else f"{base_topic}/"
        self._suffix = f"{after}/"
        self._known: dict[str, Topic] = {}

    def classify(self, topic: str) -> Topic:
        """Say what a topic carries. Friendly names may contain slashes."""
        known = self._known.get(topic)
        if known is None:
            if len(self._known) >= MAX_TOPICS:  # a flood of new topics: start afresh
                self._known.clear()
            known = self._known[topic] = self._classify(topic)
        return known

    def _classify(self, topic: str) -> Topic:
        if not topic.startswith(self._prefix):
            return _OTHER
        rest = topic[len(self._prefix) :]
        if not self.has_sites:
            return _classify_under_base(rest, "")
        site, slash, _ = rest.partition("/")
        rest = rest[len(site) :]
        if not (slash and rest.startswith(self._suffix)):
            return _OTHER
        return _classify_under_base(rest[len(self._suffix) :], site)

    def state_topic(self, device: str, site: str = "") -> str:
        """Where a device publishes its state; with a site level, in the device's home."""
        return f"{self._base_of(site)}{device}"

    def command_topic(self, device: str, site: str = "") -> str:
        """Where a device's commands go; with a site level, in the device's home."""
        return f"{self._base_of(site)}{device}/set"

    def _base_of(self, site: str) -> str:
        if not self.has_sites:
            return self._prefix
        if not site or any(character in site for character in "/+#\0"):
            raise ValueError(f"{site!r} is not a site: one topic level without wildcards")
        return f"{self._prefix}{site}{self._suffix}"


def _classify_under_base(rest: str, site: str) -> Topic:
    """What the part of a topic after the base topic carries."""
    if rest.startswith("bridge/"):
        return Topic(_BRIDGE_TOPICS.get(rest, TopicKind.OTHER), site=site)
    name, _, last = rest.rpartition("/")
    if last == "availability" and name:
        return Topic(TopicKind.AVAILABILITY, name, site)
    # <name>/set, <name>/get and <name>/set/<property> are commands, not readings.
    if last in {"set", "get"} or name.rpartition("/")[2] in {"set", "get"}:
        return _OTHER
    return Topic(TopicKind.DEVICE_STATE, rest, site) if rest else _OTHER


def topic_name(friendly_name: str, ieee: str) -> str:
    """A friendly name that can stand in MQTT topics (`<base>/<name>`), or a rejection.

    A name with a wildcard would subscribe to other devices' messages (`+` to every device's).
    """
    if not friendly_name or _UNUSABLE_IN_TOPIC.search(friendly_name):
        raise RejectedInputError(Rejection.BAD_FRIENDLY_NAME, f"{ieee}: {friendly_name!r:.80}")
    return friendly_name


def parse_discovery_topic(topic: str, discovery_prefix: str) -> tuple[str, str, str] | None:
    """Split `<prefix>/<component>/<node_id>/<object_id>/config`; None for other topics."""
    if not topic.startswith(f"{discovery_prefix}/"):
        return None
    parts = topic.removeprefix(f"{discovery_prefix}/").split("/")
    if len(parts) != 4 or parts[3] != "config":
        return None
    return parts[0], parts[1], parts[2]
