"""Merging Energy Edge's choices into Home Assistant's energy preferences keeps what is there."""

from custom_components.energy_edge.engines.energy_preferences import DeviceChoice, GridChoice, merge

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
