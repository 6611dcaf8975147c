"""Merging Energy Edge's choices into Home Assistant's energy preferences keeps what is there."""

from custom_components.energy_edge.engines.energy_preferences import (
    DeviceChoice,
    GridChoice,
    makes_a_loop,
    merge,
)

LINKY = GridChoice(
    stat_energy_from="sensor.linky_import",
    entity_energy_price="sensor.energy_edge_current_price",
    stat_rate="sensor.linky_power",
)


def test_a_power_only_grid_of_the_user_keeps_its_power_and_the_linky_comes_without() -> None:
    """Home Assistant refuses one power sensor in two grid connections."""
    users = {"type": "grid", "stat_energy_from": None, "stat_rate": "sensor.linky_power"}
    merged = merge({"energy_sources": [users], "device_consumption": []}, LINKY, [])
    assert merged.update is not None
    kept, added = merged.update["energy_sources"]
    assert kept == users
    assert added["stat_energy_from"] == "sensor.linky_import"
    assert "stat_rate" not in added


def test_nothing_to_add_writes_nothing() -> None:
    plug = DeviceChoice(stat_consumption="sensor.plug_energy", stat_rate=None)
    merged = merge(None, None, [plug, plug])
    assert merged.update == {
        "energy_sources": [],
        "device_consumption": [{"stat_consumption": "sensor.plug_energy"}],
    }
    assert merge(merged.update, None, [plug]).update is None


METER = DeviceChoice(stat_consumption="sensor.workshop_energy", stat_rate=None)


def _behind(stat: str, upstream: str) -> DeviceChoice:
    return DeviceChoice(stat_consumption=stat, stat_rate=None, included_in_stat=upstream)


def test_an_upstream_that_is_not_on_the_dashboard_is_left_out() -> None:
    """Home Assistant's own settings drop an `included_in_stat` naming no listed device."""
    merged = merge(None, None, [_behind("sensor.plug_energy", "sensor.gone_energy")])
    assert merged.update is not None
    assert merged.update["device_consumption"] == [{"stat_consumption": "sensor.plug_energy"}]
    assert merged.upstreams_added == []


def test_a_nesting_that_would_loop_through_the_users_is_left_out() -> None:
    """The user put the meter behind the plug; the plug behind the meter would be a loop,
    which Home Assistant's settings never offer."""
    users = {
        "energy_sources": [],
        "device_consumption": [
            {"stat_consumption": "sensor.plug_energy"},
            {"stat_consumption": METER.stat_consumption, "included_in_stat": "sensor.plug_energy"},
        ],
    }
    merged = merge(users, None, [METER, _behind("sensor.plug_energy", METER.stat_consumption)])
    assert merged.update is None


def test_nested_devices_come_after_a_merge_whatever_their_order() -> None:
    """The plug is listed before its meter: it is nested all the same, once."""
    plug = _behind("sensor.plug_energy", METER.stat_consumption)
    merged = merge(None, None, [plug, METER])
    assert merged.update is not None
    assert merged.update["device_consumption"] == [
        {"stat_consumption": "sensor.plug_energy", "included_in_stat": METER.stat_consumption},
        {"stat_consumption": METER.stat_consumption},
    ]
    assert merged.upstreams_added == ["sensor.plug_energy"]
    assert merge(merged.update, None, [plug, METER]).update is None


def test_a_loop_is_any_chain_that_comes_back() -> None:
    upstream_of = {"b": "c", "c": "d"}
    assert makes_a_loop(upstream_of, "a", "a")
    assert makes_a_loop(upstream_of, "d", "b")  # d -> b -> c -> d
    assert not makes_a_loop(upstream_of, "a", "b")
    # Behind a loop already there (stored damaged): refused, and the walk ends.
    assert makes_a_loop({"b": "c", "c": "b"}, "a", "b")
