"""Commands on `<name>/set` switch the simulated loads: the plug and the meter answer.

The simulator brings simulated time up to the moment a command arrives before acting on it, so a
report that fell due meanwhile is published first: the next message of a plug after a command is
its answer only while no report can fall due. Tests of the answer therefore run the household
almost frozen (FROZEN), where a plug publishes only at start and when asked; the test of the
meter, which needs time to pass, waits for the answer by its content instead.
"""

from datetime import datetime
import json
from typing import Any

import pytest

from energy_edge_sim import PARIS, fr_house

from .conftest import NIGHT, Recorder

# A simulated second lasts about 17 minutes: after the reports at start, nothing falls due.
FROZEN = 0.001
# Bounds, not expectations: answers take milliseconds, but the machine is shared.
ANSWER_TIMEOUT = 10.0
# After midnight the car charges (3.7 kW) and, for this seed, the rest of the house stays within
# a few fridge cycles for half an hour: the meter's drop is the car's.
CAR_CHARGING = datetime(2025, 1, 16, 0, 30, tzinfo=PARIS)
SEED = 7  # the fixture's


def plug_state(recorder: Recorder, name: str, after: int) -> dict[str, Any]:
    """The next state message of a plug published after index `after`."""
    message = recorder.wait_for(
        lambda m: m.topic == f"zigbee2mqtt/{name}", after=after, timeout=ANSWER_TIMEOUT
    )
    state = message.json()
    assert isinstance(state, dict)
    return state


def test_the_quiet_half_hour_is_quiet() -> None:
    """The premise of the meter's test, from the household model the simulator runs: the car
    charges throughout and the rest of the house moves by less than 200 VA."""
    house = fr_house(SEED, CAR_CHARGING)
    car, meter = [], []
    for _ in range(30 * 4):
        snapshot = house.step(15)
        car.append(snapshot.loads["ev_charger"].power_w)
        meter.append(snapshot.meter.apparent_power_va)
    assert set(car) == {3700.0}, "pick another moment where the car charges"
    assert max(meter) - min(meter) < 200, "pick a quieter moment"


def test_an_off_command_stops_the_load_and_lowers_the_meter(
    simulate: Any, recorder: Recorder
) -> None:
    """The charging car draws 3.7 kW; after OFF the plug reports OFF and 0 W, and the Linky's
    report after it is lower than its report before it by the car's power."""
    with simulate(start=CAR_CHARGING, speed=30):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky", timeout=ANSWER_TIMEOUT)
        car = plug_state(recorder, "ev_charger", 0)
        assert (car["state"], car["power"]) == ("ON", 3700)
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/ev_charger/set", json.dumps({"state": "OFF"}))
        # Reports due before the simulator read the command may come first: skip them.
        off = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/ev_charger" and m.value("state") == "OFF",
            after=mark,
            timeout=ANSWER_TIMEOUT,
        )
        switched = recorder.position(off)
        after = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/linky", after=switched, timeout=ANSWER_TIMEOUT
        ).json()
        # The meter's last report before the switch: the two reports are a simulated minute apart.
        before = [m for m in recorder.on("zigbee2mqtt/linky") if recorder.position(m) < switched][
            -1
        ].json()
    state = off.json()
    assert isinstance(state, dict)
    assert (state["state"], state["power"]) == ("OFF", 0)
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    drop = before["apparent_power"] - after["apparent_power"]
    assert drop == pytest.approx(3700, abs=200), "the meter lost the car (the fridge cycles)"


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
    with simulate(speed=FROZEN):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/oven")
        mark = recorder.count()
        recorder.publish(topic, payload)
        state = plug_state(recorder, "oven", mark)
    assert state["state"] == expected


def test_on_and_toggle_bring_a_load_back(simulate: Any, recorder: Recorder) -> None:
    """After OFF, `{"state": "ON"}` and TOGGLE switch the relay back and forth."""
    with simulate(start=NIGHT, speed=FROZEN):
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
    with simulate(speed=FROZEN) as run:
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
    """`<name>/get` answers with the cached state (frozen: nothing else makes the plug report)."""
    with simulate(speed=FROZEN):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/fridge")
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/fridge/get", '{"state": ""}')
        state = plug_state(recorder, "fridge", mark)
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/fridge/get/power", "")
        again = plug_state(recorder, "fridge", mark)
    assert state["state"] == "ON"
    assert again["power"] == state["power"]
