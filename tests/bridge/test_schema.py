"""The measurements the bridge writes stay apart, so dashboards never mix kinds of points."""

from energy_edge_bridge import schema


def test_each_kind_of_point_has_its_own_measurement() -> None:
    """State, availability, bridge events and health never share a measurement."""
    measurements = {
        schema.STATE_MEASUREMENT,
        schema.AVAILABILITY_MEASUREMENT,
        schema.BRIDGE_EVENT_MEASUREMENT,
        schema.HEALTH_MEASUREMENT,
    }
    assert len(measurements) == 4
