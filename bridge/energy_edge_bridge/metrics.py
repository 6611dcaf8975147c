"""The bridge's own figures: counters, link states, as /metrics and the health point show them."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from zigbee2mqtt_protocol.errors import Rejection

from . import schema
from .spool import Spool

# Why the bridge refused an input: Zigbee2MQTT's library's reasons, and the bridge's own for a
# topic it cannot place (not UTF-8, an empty home level).
BAD_TOPIC = "bad_topic"
REFUSAL_REASONS = (*Rejection, BAD_TOPIC)


def _no_refusals() -> dict[str, int]:
    # Every reason from the start: the API thread reads a dict that never changes size.
    return dict.fromkeys(REFUSAL_REASONS, 0)


@dataclass(slots=True)
class Counters:
    """What the bridge has done since it started. Each counter has a single writing thread."""

    messages_received: int = 0
    malformed_messages: int = 0  # not JSON, not an object, too big...
    rejected_values: int = 0  # NaN, infinities, names InfluxDB reserves
    # Refused messages and `bridge/devices` entries, by reason (the library's `Rejection`).
    refusals: dict[str, int] = field(default_factory=_no_refusals)
    redelivered_messages: int = 0  # sent again by the broker, recorded again at their first time
    points_written: int = 0
    write_errors: int = 0  # failed write requests (the points stay in the spool)
    dead_letters: int = 0  # points the database refused, kept in the dead-letter file
    qos0_messages: int = 0  # received at QoS 0: lost if the bridge dies before spooling them
    dropped_points: int = 0  # of QoS 0 messages, while the spool refused writes for long
    refused_sites: int = 0  # messages of homes beyond BRIDGE_MAX_SITES: their devices unknown


@dataclass(slots=True)
class Links:
    """The state of the bridge's two connections, with the last problem of each."""

    mqtt_connected: bool = False
    mqtt_problem: str | None = "not connected yet"
    database_reachable: bool = False
    database_problem: str | None = "nothing written yet"
    spool_problem: str | None = None  # why the spool refuses writes, while it does


_Kind = Literal["counter", "gauge"]
_METRICS: Mapping[str, tuple[_Kind, str]] = {
    "messages_received": ("counter", "MQTT messages received"),
    "malformed_messages": ("counter", "MQTT messages that could not be parsed"),
    "rejected_values": (
        "counter",
        "Numbers left out of state messages: NaN, infinity, too deep, names InfluxDB reserves",
    ),
    "redelivered_messages": ("counter", "Messages the broker sent again, re-recorded as before"),
    "points_written": ("counter", "Points written to the database"),
    "write_errors": ("counter", "Failed write requests to the database"),
    "dead_letters": ("counter", "Points the database refused, kept in the dead-letter file"),
    "evicted_points": ("counter", "Unsent points evicted from a full spool"),
    "damaged_points": ("counter", "Unsent points lost to damaged frames in the spool"),
    "spool_refusals": ("counter", "Batches the spool could not take (full, disk full)"),
    "qos0_messages": ("counter", "Messages received at QoS 0 (not redelivered after a crash)"),
    "dropped_points": ("counter", "Points of QoS 0 messages dropped while the spool refused"),
    "refused_sites": ("counter", "Messages of homes beyond BRIDGE_MAX_SITES, devices unknown"),
    "loop_failures": ("counter", "Unexpected errors in the ingest, writer or health loop"),
    "spool_bytes": ("gauge", "Bytes in the spool on disk"),
    "spool_backlog_points": ("gauge", "Points in the spool not yet written"),
    "mqtt_connected": ("gauge", "1 when subscribed to the broker"),
    "database_reachable": ("gauge", "1 when the last write to the database succeeded"),
}
PREFIX = "energy_edge_bridge_"
REFUSALS_HELP = (
    "Inputs refused, by reason: whole messages (also in malformed_messages) and bridge/devices "
    "entries left out of the list"
)


def current_values(
    counters: Counters, links: Links, spool: Spool, *, loop_failures: int
) -> dict[str, int]:
    """Every figure, by name (the health point's fields are a subset)."""
    return {
        "messages_received": counters.messages_received,
        "malformed_messages": counters.malformed_messages,
        "rejected_values": counters.rejected_values,
        "redelivered_messages": counters.redelivered_messages,
        "points_written": counters.points_written,
        "write_errors": counters.write_errors,
        "dead_letters": counters.dead_letters,
        "evicted_points": spool.evicted_lines,
        "damaged_points": spool.damaged_lines,
        "spool_refusals": spool.refused_writes,
        "qos0_messages": counters.qos0_messages,
        "dropped_points": counters.dropped_points,
        "refused_sites": counters.refused_sites,
        "loop_failures": loop_failures,
        "spool_bytes": spool.size_bytes,
        "spool_backlog_points": spool.backlog_lines,
        "mqtt_connected": int(links.mqtt_connected),
        "database_reachable": int(links.database_reachable),
    }


def health_fields(values: Mapping[str, int]) -> dict[str, float]:
    """The fields of the health measurement, as floats."""
    return {name: float(values[name]) for name in schema.HEALTH_FIELDS}


def prometheus_text(values: Mapping[str, int], refusals: Mapping[str, int]) -> str:
    """Prometheus' text exposition format (version 0.0.4); `refusals` by reason."""
    lines = []
    for name, (kind, description) in _METRICS.items():
        metric = PREFIX + name + ("_total" if kind == "counter" else "")
        lines += [
            f"# HELP {metric} {description}",
            f"# TYPE {metric} {kind}",
            f"{metric} {values[name]}",
        ]
    metric = f"{PREFIX}refusals_total"
    lines += [f"# HELP {metric} {REFUSALS_HELP}", f"# TYPE {metric} counter"]
    lines += [f'{metric}{{reason="{reason}"}} {refusals[reason]}' for reason in REFUSAL_REASONS]
    return "\n".join(lines) + "\n"
