"""What the bridge knows about each device, as the API shows it."""

import pytest

from energy_edge_bridge import devices
from energy_edge_bridge.devices import DeviceRegistry, Zigbee2MqttView
from tests.bridge.support import device_entry, listed


def test_devices_seen_only_by_their_messages_stay_after_a_device_list() -> None:
    """Groups and devices not (yet) in bridge/devices keep their entry; listed ones get their
    identity; devices that left the list are forgotten."""
    registry = DeviceRegistry()
    assert (
        registry.record_state("living room lights", {"state": "ON"}, 1)
        == ",device=living\\ room\\ lights"
    )
    registry.record_state("old plug", {"power": 1}, 1)
    registry.replace_devices(listed(device_entry("old plug", "0x1")))
    assert (
        registry.record_availability("old plug", True)
        == ",device=old\\ plug,ieee=0x1,model=TS011F_plug_1"
    )
    registry.replace_devices([])
    assert [view.name for view in registry.views()] == ["living room lights"]
    assert registry.view("old plug") is None
    assert registry.device("old plug") is None
    assert registry.device("living room lights") is None


def test_a_flood_of_topics_cannot_exhaust_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past BRIDGE_MAX_SITES x MAX_DEVICES_PER_SITE devices, new names are still tagged but
    not remembered."""
    monkeypatch.setattr("energy_edge_bridge.devices.MAX_DEVICES_PER_SITE", 3)
    registry = DeviceRegistry(max_sites=1)
    for n in range(3):
        registry.record_state(f"d{n}", {}, 1)
    assert registry.record_state("d3", {"power": 1}, 2) == ",device=d3"
    assert registry.record_availability("d4", False) == ",device=d4"
    assert [view.name for view in registry.views()] == ["d0", "d1", "d2"]


def test_views_are_snapshots() -> None:
    """What the API holds does not change under it."""
    registry = DeviceRegistry()
    registry.record_state("plug", {"power": 1}, 1)
    view = registry.view("plug")
    registry.record_state("plug", {"power": 2}, 2)
    assert view is not None
    assert dict(view.last_values) == {"power": 1}
    with pytest.raises(TypeError):
        view.last_values["power"] = 3  # type: ignore[index]


def test_zigbee2mqtts_state_is_kept_for_a_bounded_number_of_homes() -> None:
    """`bridge/state` of BRIDGE_MAX_SITES homes at most: a flood of homes cannot grow memory;
    a home beyond is taken as online. Back online, the meter's delay counts from the return."""
    registry = DeviceRegistry(max_sites=1)
    registry.start_listening(100)
    assert registry.zigbee2mqtt("h1") == Zigbee2MqttView(None, 100)
    registry.record_bridge_state(False, 150, "h1")
    registry.record_bridge_state(False, 160, "h2")
    assert registry.zigbee2mqtt("h1") == Zigbee2MqttView(False, 100)
    assert registry.zigbee2mqtt("h2") == Zigbee2MqttView(None, 100)
    registry.record_bridge_state(True, 200, "h1")
    registry.record_bridge_state(True, 300, "h1")  # online again without going offline
    assert registry.zigbee2mqtt("h1") == Zigbee2MqttView(True, 200)


def test_homes_with_the_same_models_share_their_metering_plans() -> None:
    """Two homes' TS011F plugs have one plan between them (memory grows with models, not
    devices), and a flood of distinct definitions cannot grow the plans kept without bound."""
    registry = DeviceRegistry(max_sites=2)
    registry.replace_devices(listed(device_entry("kettle", "0xa4c1380000000001")), "home_a")
    registry.replace_devices(listed(device_entry("fridge", "0xa4c1380000000002")), "home_b")
    kettle, fridge = registry.view("kettle", "home_a"), registry.view("fridge", "home_b")
    assert kettle is not None
    assert fridge is not None
    assert kettle.plan is not None
    assert kettle.plan is fridge.plan
    assert kettle.plan.power  # the plug's power, read by /api/power
    odd = [
        device_entry(
            f"odd_{index}",
            f"0xa4c13800001{index:05x}",
            exposes=[{"type": "numeric", "property": f"power_{index}", "access": 1, "unit": "W"}],
        )
        for index in range(devices.MAX_PLANS + 10)
    ]
    for chunk in range(0, len(odd), 20):
        registry.replace_devices(listed(*odd[chunk : chunk + 20]), "home_a")
    assert len(devices._PLANS) <= devices.MAX_PLANS
