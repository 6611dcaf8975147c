"""Merging Energy Edge's choices into Home Assistant's energy preferences keeps what is there."""

from typing import Any

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
    """As Home Assistant's frontend does (its backend schema, `energy/data.py`, accepts any
    entity id): its upstream picker offers only devices on the dashboard, and saving the device
    list deletes an `included_in_stat` naming no listed device (home-assistant-frontend
    20260930.5: `dialog-energy-device-settings`' `_computePossibleParents`,
    `ha-energy-device-settings`' `_sanitizeParents`)."""
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


PLUG = "sensor.plug_energy"
CELLAR = DeviceChoice(stat_consumption="sensor.cellar_energy", stat_rate=None)


def _dashboard(*consumers: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"energy_sources": [], "device_consumption": [dict(c) for c in consumers]}


def _consumers(update: dict[str, list[dict[str, Any]]] | None) -> dict[str, dict[str, Any]]:
    assert update is not None
    return {c["stat_consumption"]: c for c in update["device_consumption"]}


NESTED_BY_US = _dashboard(
    {"stat_consumption": PLUG, "included_in_stat": METER.stat_consumption},
    {"stat_consumption": METER.stat_consumption},
    {"stat_consumption": CELLAR.stat_consumption},
)
OURS = {PLUG: METER.stat_consumption}


def test_an_upstream_energy_edge_set_follows_a_new_choice_once() -> None:
    """The plug moved from the workshop's circuit to the cellar's: the dashboard follows."""
    moved = [METER, CELLAR, _behind(PLUG, CELLAR.stat_consumption)]
    merged = merge(NESTED_BY_US, None, moved, OURS)
    assert _consumers(merged.update)[PLUG]["included_in_stat"] == CELLAR.stat_consumption
    assert (merged.upstreams_added, merged.upstreams_changed) == ([], [PLUG])
    assert merged.upstreams_set == {PLUG: CELLAR.stat_consumption}
    # Nothing changed since: nothing is written.
    again = merge(merged.update, None, moved, merged.upstreams_set)
    assert again.update is None
    assert again.upstreams_set == merged.upstreams_set


def test_an_upstream_energy_edge_set_goes_when_none_is_chosen() -> None:
    plug = DeviceChoice(stat_consumption=PLUG, stat_rate=None)
    merged = merge(NESTED_BY_US, None, [METER, CELLAR, plug], OURS)
    assert "included_in_stat" not in _consumers(merged.update)[PLUG]
    assert merged.upstreams_removed == [PLUG]
    assert merged.upstreams_set == {}
    assert merge(merged.update, None, [METER, CELLAR, plug], merged.upstreams_set).update is None


def test_an_upstream_the_user_set_in_home_assistant_never_follows_the_choice() -> None:
    """Energy Edge set the workshop; the user then picked the cellar in the dashboard's
    settings: the cellar stays whatever is chosen in Energy Edge, and is never Energy Edge's."""
    users = _dashboard(
        {"stat_consumption": PLUG, "included_in_stat": CELLAR.stat_consumption},
        {"stat_consumption": METER.stat_consumption},
        {"stat_consumption": CELLAR.stat_consumption},
    )
    for choice in (DeviceChoice(stat_consumption=PLUG, stat_rate=None), _behind(PLUG, "x")):
        merged = merge(users, None, [METER, CELLAR, choice], OURS)
        assert merged.update is None
        assert merged.upstreams_set == {}


def test_an_upstream_the_user_removed_stays_removed_until_the_choice_changes() -> None:
    removed = _dashboard(
        {"stat_consumption": PLUG},
        {"stat_consumption": METER.stat_consumption},
        {"stat_consumption": CELLAR.stat_consumption},
    )
    same = merge(removed, None, [METER, CELLAR, _behind(PLUG, METER.stat_consumption)], OURS)
    assert same.update is None
    moved = merge(removed, None, [METER, CELLAR, _behind(PLUG, CELLAR.stat_consumption)], OURS)
    assert _consumers(moved.update)[PLUG]["included_in_stat"] == CELLAR.stat_consumption
    assert moved.upstreams_added == [PLUG]


def test_two_devices_swapped_are_swapped_in_one_merge() -> None:
    """The plug was behind the meter; now the meter is behind the plug."""
    choices = [
        DeviceChoice(stat_consumption=PLUG, stat_rate=None),
        _behind(METER.stat_consumption, PLUG),
    ]
    merged = merge(NESTED_BY_US, None, choices, OURS)
    consumers = _consumers(merged.update)
    assert "included_in_stat" not in consumers[PLUG]
    assert consumers[METER.stat_consumption]["included_in_stat"] == PLUG
    assert merge(merged.update, None, choices, merged.upstreams_set).update is None


def test_an_upstream_not_known_now_leaves_the_dashboard_as_it_is() -> None:
    """The chosen upstream's counter cannot be found (the device is offline)."""
    unknown = DeviceChoice(stat_consumption=PLUG, stat_rate=None, upstream_unknown=True)
    merged = merge(NESTED_BY_US, None, [METER, CELLAR, unknown], OURS)
    assert merged.update is None
    assert merged.upstreams_set == OURS
