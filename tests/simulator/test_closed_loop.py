"""Commands on `<name>/set` switch the simulated loads: the plug and the meter answer."""

import json
import time
from typing import Any

import pytest

from .conftest import NIGHT, Recorder


def plug_state(recorder: Recorder, name: str, after: int, timeout: float = 1.0) -> dict[str, Any]:
    """The next state message of a plug published after index `after`."""
    message = recorder.wait_for(
        lambda m: m.topic == f"zigbee2mqtt/{name}", after=after, timeout=timeout
    )
    state = message.json()
    assert isinstance(state, dict)
    return state


def test_an_off_command_stops_the_load_and_lowers_the_meter(
    simulate: Any, recorder: Recorder
) -> None:
    """At night the water heater draws 2.4 kW; OFF is published within a second with 0 W, and the
    Linky's next reports are lower by that load's power."""
    with simulate(start=NIGHT, speed=30):
        before = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky").json()
        heater = plug_state(recorder, "water_heater", 0, timeout=5)
        assert heater["power"] == 2400
        assert heater["state"] == "ON"
        mark = recorder.count()
        sent = time.monotonic()
        recorder.publish("zigbee2mqtt/water_heater/set", json.dumps({"state": "OFF"}))
        off = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/water_heater", after=mark, timeout=1.0
        )
        latency = off.received - sent
        mark = recorder.count()
        after = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/linky", after=mark, timeout=5
        ).json()
    assert off.json()["state"] == "OFF"
    assert off.json()["power"] == 0
    assert latency < 1.0
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    drop = before["apparent_power"] - after["apparent_power"]
    assert drop == pytest.approx(2400, abs=300), "the meter lost the heater (other loads wobble)"


@pytest.mark.parametrize(
    ("topic", "payload", "expected"),
    [
        ("zigbee2mqtt/oven/set", "OFF", "OFF"),
        ("zigbee2mqtt/oven/set", "off", "OFF"),
        ("zigbee2mqtt/oven/set", "TOGGLE", "OFF"),
        ("zigbee2mqtt/oven/set/state", "OFF", "OFF"),
        ("zigbee2mqtt/oven/set", '{"state": "OFF"}', "OFF"),
    ],
)
def test_every_command_form_zigbee2mqtt_accepts_works(
    simulate: Any, recorder: Recorder, topic: str, payload: str, expected: str
) -> None:
    """JSON objects, bare values, lower case, TOGGLE and `/set/state` all switch the plug."""
    with simulate():
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/oven")
        mark = recorder.count()
        recorder.publish(topic, payload)
        state = plug_state(recorder, "oven", mark)
    assert state["state"] == expected


def test_on_and_toggle_bring_a_load_back(simulate: Any, recorder: Recorder) -> None:
    """After OFF, `{"state": "ON"}` and TOGGLE switch the relay back and forth."""
    with simulate(start=NIGHT, speed=5):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/water_heater")
        results = []
        for payload in ("OFF", '{"state": "ON"}', "TOGGLE", "TOGGLE"):
            mark = recorder.count()
            recorder.publish("zigbee2mqtt/water_heater/set", payload)
            state = plug_state(recorder, "water_heater", mark)
            results.append((state["state"], state["power"]))
    assert results == [("OFF", 0), ("ON", 2400), ("OFF", 0), ("ON", 2400)]


def test_settings_are_validated_and_stored(simulate: Any, recorder: Recorder) -> None:
    """Valid settings land in the state; invalid ones, read-only properties and unknown devices are
    ignored without stopping the simulator."""
    with simulate() as run:
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/washing_machine")
        for topic, payload in [
            ("zigbee2mqtt/washing_machine/set", '{"state": "BLINK"}'),
            ("zigbee2mqtt/washing_machine/set", '{"power": 5}'),
            ("zigbee2mqtt/washing_machine/set", '{"child_lock": "MAYBE"}'),
            ("zigbee2mqtt/washing_machine/set", "[1, 2]"),
            ("zigbee2mqtt/washing_machine/set", b"\xff\xfe"),
            ("zigbee2mqtt/kettle/set", "ON"),
            ("zigbee2mqtt/oven/set/countdown", "99999"),
        ]:
            recorder.publish(topic, payload)
        mark = recorder.count()
        recorder.publish(
            "zigbee2mqtt/washing_machine/set",
            '{"child_lock": "LOCK", "power_on_behavior": "previous"}',
        )
        state = plug_state(recorder, "washing_machine", mark)
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/oven/set/countdown", "600")
        oven = plug_state(recorder, "oven", mark)
        mark = recorder.count()
        recorder.publish(
            "zigbee2mqtt/dishwasher/set",
            '{"overload_protection": 2000, "led_disabled_night": true}',
        )
        dishwasher = plug_state(recorder, "dishwasher", mark)
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/oven/set/identify", "identify")
        identified = plug_state(recorder, "oven", mark)
        assert run.thread.is_alive()
    assert state["child_lock"] == "LOCK"
    assert state["power_on_behavior"] == "previous"
    assert state["state"] == "ON"
    assert oven["countdown"] == 600
    assert dishwasher["overload_protection"] == 2000
    assert dishwasher["led_disabled_night"] is True
    assert identified["identify"] is None


def test_get_publishes_the_current_state(simulate: Any, recorder: Recorder) -> None:
    """`<name>/get` answers with the cached state at once."""
    with simulate(speed=1):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/fridge")
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/fridge/get", '{"state": ""}')
        state = plug_state(recorder, "fridge", mark)
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/fridge/get/power", "")
        again = plug_state(recorder, "fridge", mark)
    assert state["state"] == "ON"
    assert again["power"] == state["power"]
