"""A lost broker, Home Assistant restarting, leftovers of older runs, requests to the bridge."""

import json
import time
from typing import Any

import pytest

from tests.helpers.mosquitto import Broker

from .conftest import Recorder, settings_for


def test_a_lost_broker_is_rejoined_and_retained_topics_republished(
    simulate: Any, broker: Broker, recorder: Recorder
) -> None:
    """The broker restarts without its saved state: the simulator reconnects by itself and
    republishes bridge/state, bridge/info, bridge/devices, discovery and availability."""
    with simulate(availability=True) as run:
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        recorder.stop()
        broker.stop()
        for stored in broker.workdir.glob("*.db"):
            stored.unlink()  # the broker forgets every retained message
        broker.start()
        fresh = Recorder(broker).start(("zigbee2mqtt/#", "homeassistant/#"))
        try:
            fresh.wait_for(lambda m: m.topic == "zigbee2mqtt/bridge/info", timeout=15)
            fresh.wait_for(lambda m: m.topic == "zigbee2mqtt/linky", timeout=5)
            time.sleep(0.3)
        finally:
            fresh.stop()
        assert run.thread.is_alive()
    topics = {m.topic for m in fresh.messages}
    assert {
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/bridge/info",
        "zigbee2mqtt/bridge/devices",
        "zigbee2mqtt/oven/availability",
        "homeassistant/switch/" + _switch_node(fresh, "oven") + "/switch/config",
    } <= topics
    state = [m for m in fresh.messages if m.topic == "zigbee2mqtt/bridge/state"]
    assert state[0].json() == {"state": "online"}
    assert state[0].retain


def _switch_node(recorder: Recorder, name: str) -> str:
    devices = next(m for m in recorder.messages if m.topic == "zigbee2mqtt/bridge/devices").json()
    assert isinstance(devices, list)
    return next(d["ieee_address"] for d in devices if d["friendly_name"] == name)


@pytest.mark.parametrize(
    ("prefix", "status_topic"),
    [
        ("homeassistant", "homeassistant/status"),
        ("ha", "ha/status"),
        ("ha", "homeassistant/status"),
    ],
)
def test_home_assistant_online_republishes_states_after_the_delay(
    simulate: Any, broker: Broker, recorder: Recorder, prefix: str, status_topic: str
) -> None:
    """`online` on Home Assistant's status topic (its prefix's, or the default one: Zigbee2MQTT
    listens to both) republishes every device's state after the configured delay."""
    settings = settings_for(broker, ha_discovery_prefix=prefix)
    with simulate(settings, speed=1, ha_status_delay_s=0.6):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        recorder.settle(quiet=0.1)
        mark = recorder.count()
        sent = time.monotonic()
        recorder.publish(status_topic, "online")
        republished = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/linky", after=mark, timeout=3
        )
        time.sleep(0.2)
        recorder.publish(status_topic, "offline")
    assert republished.received - sent >= 0.6
    names = {m.topic for m in recorder.messages[mark:] if m.received - sent >= 0.6}
    assert {
        "zigbee2mqtt/oven",
        "zigbee2mqtt/tv",
        "zigbee2mqtt/linky",
        "zigbee2mqtt/fridge",
    } <= names


def test_configs_left_by_an_older_run_are_cleared(simulate: Any, recorder: Recorder) -> None:
    """A retained config of this base topic for a device that no longer exists is emptied;
    configs of other integrations are left alone."""
    stale = "homeassistant/sensor/0xdeadbeef00000000/power/config"
    foreign = "homeassistant/sensor/other_thing/power/config"
    recorder.publish(
        stale, json.dumps({"availability": [{"topic": "zigbee2mqtt/bridge/state"}]}), retain=True
    )
    recorder.publish(
        foreign, json.dumps({"availability": [{"topic": "other/bridge/state"}]}), retain=True
    )
    with simulate():
        cleared = recorder.wait_for(lambda m: m.topic == stale and m.payload == b"")
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
    assert cleared.retain
    assert not [m for m in recorder.messages if m.topic == foreign and m.payload == b""]


def test_bridge_requests_get_zigbee2mqtt_responses(simulate: Any, recorder: Recorder) -> None:
    """health_check and permit_join answer ok (with the transaction); restart restarts the bridge;
    what the simulator cannot do is answered with an error."""

    def request(name: str, body: object) -> dict[str, Any]:
        mark = recorder.count()
        recorder.publish(
            f"zigbee2mqtt/bridge/request/{name}", json.dumps(body) if body != "" else ""
        )
        response = recorder.wait_for(
            lambda m: m.topic == f"zigbee2mqtt/bridge/response/{name}", after=mark
        )
        answer = response.json()
        assert isinstance(answer, dict)
        assert not response.retain
        return answer

    with simulate(speed=10):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        health = request("health_check", "")
        permit = request("permit_join", {"time": 254, "transaction": "t-1"})
        info = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/bridge/info" and b'"permit_join":true' in m.payload
        )
        closed = request("permit_join", {"value": False})
        odd = request("permit_join", ["x"])
        broken = request("permit_join", "{not json")
        endless = request("permit_join", '{"time": 1e400}')
        unsupported = request("device/remove", {"id": "tv"})
        mark = recorder.count()
        restart = request("restart", "")
        offline = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/bridge/state" and m.json() == {"state": "offline"},
            after=mark,
        )
    assert health == {"data": {"healthy": True}, "status": "ok"}
    assert permit == {"data": {"time": 254}, "status": "ok", "transaction": "t-1"}
    assert info.retain
    assert closed["data"] == {"time": 0}
    assert odd == broken == endless == {"data": {"time": 0}, "status": "ok"}
    assert unsupported["status"] == "error"
    assert "not supported" in unsupported["error"]
    assert restart["status"] == "ok"
    assert offline.retain
