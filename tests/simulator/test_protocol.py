"""On a real Mosquitto, the simulator publishes what Zigbee2MQTT 2.x publishes."""

from collections import Counter
import json
import time
from typing import Any

from energy_edge_sim import z2mjson
from energy_edge_sim.devices import LinkyMode

from .conftest import EVENING, Message, Recorder

PLUGS = {
    "water_heater",
    "ev_charger",
    "oven",
    "washing_machine",
    "fridge",
    "dishwasher",
    "internet_box",
    "tv",
}


def canonical(message: Message) -> bool:
    """Compact JSON with sorted keys, as json-stable-stringify writes it."""
    return message.payload.decode() == z2mjson.dumps(json.loads(message.payload))


def states(recorder: Recorder, name: str) -> list[dict[str, Any]]:
    """The state messages of a device, decoded."""
    return [m.json() for m in recorder.on(f"zigbee2mqtt/{name}")]  # type: ignore[misc]


def test_startup_publishes_the_bridge_topics_retained(simulate: Any, recorder: Recorder) -> None:
    """bridge/state (QoS 1), bridge/info and bridge/devices are retained, with definitions."""
    with simulate(availability=True):
        state = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/bridge/state")
        devices_message = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/bridge/devices")
        info = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/bridge/info")
    assert (state.payload, state.retain, state.qos) == (b'{"state":"online"}', True, 1)
    assert info.retain
    assert canonical(info)
    assert info.json()["version"] == "2.12.1"  # type: ignore[index]
    assert info.json()["config"]["availability"] == {"enabled": True}  # type: ignore[index]
    assert devices_message.retain
    assert canonical(devices_message)
    devices = devices_message.json()
    assert isinstance(devices, list)
    coordinator, *paired = devices
    assert coordinator["type"] == "Coordinator"
    assert "definition" not in coordinator
    assert {d["friendly_name"] for d in paired} == PLUGS | {"linky"}
    for device in paired:
        definition = device["definition"]
        assert {"model", "vendor", "description", "exposes"} <= set(definition)
        assert device["ieee_address"].startswith("0x")
        assert len(device["ieee_address"]) == 18
        assert device["interview_completed"]
        assert device["power_source"] == "Mains (single phase)"
    models = Counter(d["definition"]["model"] for d in paired)
    assert models == {
        "TS011F_plug_1": 3,
        "E22xx": 2,
        "SP-EUC01": 2,
        "HS2SK_nxp": 1,
        "ZLinky_TIC": 1,
    }


def test_discovery_configs_are_retained_qos1_and_follow_the_rules(
    simulate: Any, recorder: Recorder
) -> None:
    """Every config: retained, QoS 1, sorted JSON, topics and ids as Zigbee2MQTT makes them."""
    with simulate(availability=True):
        recorder.wait_for(
            lambda m: m.topic.endswith("/linkquality/config") and b'"linky"' in m.payload
        )
        time.sleep(0.3)
    configs = [m for m in recorder.messages if m.topic.startswith("homeassistant/")]
    assert configs
    assert all(m.retain and m.qos == 1 and canonical(m) for m in configs)
    by_device: dict[str, dict[str, dict[str, Any]]] = {}
    for message in configs:
        component, node, object_id, _ = message.topic.split("/")[1:]
        payload = message.json()
        assert isinstance(payload, dict)
        name = payload["device"]["name"]
        by_device.setdefault(name, {})[f"{component}/{object_id}"] = payload
        assert payload["origin"]["name"] == "Zigbee2MQTT"
        if name != "Zigbee2MQTT Bridge":
            assert node == payload["device"]["identifiers"][0].removeprefix("zigbee2mqtt_")
            assert payload["unique_id"] == f"{node}_{object_id}_zigbee2mqtt"
            assert payload["default_entity_id"] == f"{component}.{payload['object_id']}"
            assert payload["availability_mode"] == "all"
            assert payload["availability"][1]["topic"] == f"zigbee2mqtt/{name}/availability"
    assert set(by_device) == PLUGS | {"linky", "Zigbee2MQTT Bridge"}
    for plug in PLUGS:
        entities = by_device[plug]
        assert entities["switch/switch"]["command_topic"] == f"zigbee2mqtt/{plug}/set"
        assert entities["sensor/power"]["device_class"] == "power"
        assert entities["sensor/power"]["unit_of_measurement"] == "W"
        if plug != "tv":  # the Heiman plug reports power but no energy
            assert entities["sensor/energy"]["state_class"] == "total_increasing"
            assert entities["sensor/energy"]["unit_of_measurement"] == "kWh"
    assert "sensor/energy" not in by_device["tv"]
    linky = by_device["linky"]
    assert linky["sensor/EAST"]["device_class"] == "energy"
    assert linky["sensor/SINSTS"]["name"] == "SINSTS"
    assert "device_class" not in linky["sensor/SINSTS"]
    assert linky["sensor/IRMS1"]["device_class"] == "current"


def test_states_are_full_sorted_json_at_each_device_cadence(
    simulate: Any, recorder: Recorder
) -> None:
    """Each device publishes its whole cached state (nulls included), QoS 0, not retained: plugs at
    least every simulated minute, the Linky about once a minute."""
    with simulate(speed=120, availability=True):
        time.sleep(3.2)  # about six simulated minutes
    for name in PLUGS | {"linky"}:
        messages = recorder.on(f"zigbee2mqtt/{name}")
        assert all(not m.retain and m.qos == 0 and canonical(m) for m in messages)
        availability = recorder.on(f"zigbee2mqtt/{name}/availability")
        assert availability
        assert availability[0].retain
        assert availability[0].qos == 1
        assert availability[0].json() == {"state": "online"}
    linky = states(recorder, "linky")
    assert 5 <= len(linky) <= 8
    assert all(
        isinstance(s["apparent_power"], int) and isinstance(s["current_summ_delivered"], float)
        for s in linky
    )
    assert linky[0]["current_tarif"] == "H PLEINE/CREUSE"
    assert linky[0]["available_power"] == 6
    assert linky[-1]["current_summ_delivered"] > linky[0]["current_summ_delivered"]
    tuya = states(recorder, "ev_charger")
    assert len(tuya) >= 6
    first = tuya[0]
    assert first["state"] == "ON"
    assert first["child_lock"] is None
    assert first["identify"] is None
    assert first["update"] == {"installed_version": -1, "latest_version": -1, "state": None}
    assert isinstance(first["power"], int | float)
    assert isinstance(first["linkquality"], int)
    assert set(first) >= {"power", "current", "voltage", "energy", "linkquality", "countdown"}
    assert "energy" not in states(recorder, "tv")[0]


def test_without_discovery_there_are_no_configs_and_no_nulls(
    simulate: Any, recorder: Recorder
) -> None:
    """`--no-ha-discovery`: nothing under homeassistant/, and states carry only known values."""
    with simulate(ha_discovery=False):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        state = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/oven").json()
    assert not [m for m in recorder.messages if m.topic.startswith("homeassistant/")]
    assert isinstance(state, dict)
    assert None not in state.values()
    assert "update" not in state
    assert not [m for m in recorder.messages if m.topic.endswith("/availability")]


def test_the_historic_linky_reports_historic_labels(simulate: Any, recorder: Recorder) -> None:
    """In historic mode the ZLinky publishes HCHC/HCHP, PAPP, IINST, ISOUSC (A) and PTEC."""
    with simulate(linky_mode=LinkyMode.HISTORIC):
        state = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky").json()
        recorder.wait_for(lambda m: m.topic.endswith("/PAPP/config"))
    assert isinstance(state, dict)
    assert state["active_register_tier_delivered"] == "HP.."
    assert state["available_power"] == 30
    assert state["apparent_power"] % 10 == 0
    assert state["current_summ_delivered"] == round(
        state["current_tier1_summ_delivered"] + state["current_tier2_summ_delivered"], 3
    )
    assert "rms_voltage" not in state


def test_the_scale_mode_publishes_n_plugs(simulate: Any, recorder: Recorder) -> None:
    """`--devices 60`: sixty plugs of the four models, no Linky."""
    with simulate(scale_plugs=60):
        devices = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/bridge/devices").json()
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/plug_0060")
    assert isinstance(devices, list)
    assert len(devices) == 61
    assert {d["friendly_name"] for d in devices[1:]} == {f"plug_{i:04d}" for i in range(1, 61)}
    assert not recorder.on("zigbee2mqtt/linky")


def test_addresses_are_stable_across_runs_and_seeds(simulate: Any, recorder: Recorder) -> None:
    """Home Assistant keeps its devices between runs: addresses do not depend on the seed."""
    addresses = []
    for seed in (1, 2):
        with simulate(seed=seed):
            message = recorder.wait_for(
                lambda m: m.topic == "zigbee2mqtt/bridge/devices", after=recorder.count()
            )
        devices = message.json()
        assert isinstance(devices, list)
        addresses.append({d["friendly_name"]: d["ieee_address"] for d in devices})
    assert addresses[0] == addresses[1]


def test_a_start_in_the_evening_is_the_simulated_time(simulate: Any, recorder: Recorder) -> None:
    """The Linky's DATE follows the simulated clock, not the wall clock."""
    with simulate(start=EVENING):
        state = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky").json()
    assert isinstance(state, dict)
    assert state["current_date"] == "H250115190000"


def test_a_short_scale_run_still_delivers_every_config(simulate: Any, broker: Any) -> None:
    """Even when the run ends at once, queued QoS 1 configs reach the broker before the simulator
    disconnects: 300 plugs of four models (13, 11, 14 and 5 entities) and the bridge (8)."""
    with simulate(scale_plugs=300, speed=600, duration_s=5) as run:
        run.join()
    expected = 75 * (13 + 11 + 14 + 5) + 8
    retained = Recorder(broker).start(("homeassistant/#",))
    try:
        retained.wait_until(lambda messages: len(messages) >= expected)
        retained.settle(quiet=0.3)
    finally:
        retained.stop()
    configs = [m for m in retained.messages if m.payload]
    assert all(m.retain for m in configs)
    assert len(configs) == expected
