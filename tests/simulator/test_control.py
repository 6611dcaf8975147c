"""The control channel drives end-to-end tests: overloads, faults, pairing; refuses nonsense."""

import json
import time
from typing import Any

import pytest

from energy_edge_sim.control import (
    ClearOverload,
    ControlError,
    ForceOverload,
    HoldHousehold,
    InjectFault,
    Join,
    Leave,
    ReleaseHousehold,
    StartLoad,
    Status,
    StopLoad,
    parse_control,
)
from energy_edge_sim.faults import FaultKind

from .conftest import AFTERNOON, EVENING, Recorder

CONTROL = "energy_edge/simulator/control"


def command(recorder: Recorder, body: object) -> dict[str, Any]:
    """Send a control command and return the simulator's response."""
    mark = recorder.count()
    recorder.publish(CONTROL, body if isinstance(body, bytes | str) else json.dumps(body))
    response = recorder.wait_for(lambda m: m.topic == f"{CONTROL}/response", after=mark).json()
    assert isinstance(response, dict)
    return response


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            b'{"action": "force_overload", "power_w": 4000, "duration_s": 60}',
            ForceOverload(4000, 60),
        ),
        (b'{"action": "force_overload"}', ForceOverload(None, 60)),
        (b'{"action": "force_overload", "device": "oven"}', ForceOverload(device="oven")),
        (b'{"action": "clear_overload"}', ClearOverload()),
        (
            b'{"action": "start_load", "device": "oven", "power_w": 2000}',
            StartLoad("oven", 2000, 60),
        ),
        (b'{"action": "stop_load", "device": "oven"}', StopLoad("oven")),
        (b'{"action": "hold_household", "duration_s": 90}', HoldHousehold(90)),
        (b'{"action": "hold_household"}', HoldHousehold(60)),
        (b'{"action": "release_household"}', ReleaseHousehold()),
        (
            b'{"action": "fault", "kind": "reboot", "device": "tv"}',
            InjectFault(FaultKind.REBOOT, "tv"),
        ),
        (
            b'{"action": "fault", "kind": "bridge_restart", "duration_s": 2}',
            InjectFault(FaultKind.BRIDGE_RESTART, None, 2.0),
        ),
        (b'{"action": "leave", "device": "tv"}', Leave("tv")),
        (b'{"action": "join", "device": "tv"}', Join("tv")),
        (b'{"action": "status", "id": 7}', Status()),
    ],
)
def test_valid_commands_are_understood(payload: bytes, expected: object) -> None:
    """Each documented command parses into its typed form."""
    assert parse_control(payload).command == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"action": "explode"}', "action must be one of"),
        (b'{"action": "force_overload", "power_w": "4000"}', "power_w must be a number"),
        (b'{"action": "force_overload", "power_w": true}', "power_w must be a number"),
        (b'{"action": "force_overload", "duration_s": -5}', "duration_s must be positive"),
        (b'{"action": "start_load", "device": "oven"}', "start_load needs power_w"),
        (b'{"action": "start_load", "power_w": 100}', "device must name a device"),
        (b'{"action": "stop_load"}', "device must name a device"),
        (b'{"action": "hold_household", "duration_s": 0}', "duration_s must be positive"),
        (b'{"action": "fault", "kind": "meteor"}', "kind must be one of"),
        (b'{"action": "fault", "kind": "reboot"}', "device must name a device"),
        (b'{"action": "leave", "device": ""}', "device must name a device"),
        (b'{"action": "status", "id": [1]}', "id must be"),
    ],
)
def test_invalid_commands_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    """Malformed commands raise `ControlError` naming what is wrong."""
    with pytest.raises(ControlError, match=reason):
        parse_control(payload)


def test_a_forced_overload_pushes_the_linky_over_the_contract(
    simulate: Any, recorder: Recorder
) -> None:
    """`force_overload` makes SINSTS exceed 6 kVA (and the Linky's status says so) until cleared."""
    with simulate(start=AFTERNOON, speed=60):
        quiet = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky").json()
        response = command(recorder, {"action": "force_overload", "duration_s": 60, "id": "a1"})
        mark = recorder.count()
        loaded = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky", after=mark).json()
        status = command(recorder, {"action": "status"})
        assert command(recorder, {"action": "clear_overload"})["ok"]
        mark = recorder.count()
        cleared = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky", after=mark).json()
    assert response["ok"]
    assert response["id"] == "a1"
    assert response["action"] == "force_overload"
    assert isinstance(quiet, dict)
    assert isinstance(loaded, dict)
    assert isinstance(cleared, dict)
    assert quiet["apparent_power"] < 6000 < loaded["apparent_power"]
    assert loaded["status_register_breakout"]["depassement_ref_pow"] == 1
    assert status["meter"]["overloaded"] is True
    assert status["loads"]["forced_overload"]["power_w"] == response["power_w"]
    assert response["apparent_power_va"] == pytest.approx(7200, abs=2)
    assert cleared["apparent_power"] < 6000


def test_a_metered_overload_goes_through_its_plug(simulate: Any, recorder: Recorder) -> None:
    """With a device, the extra load shows on that plug, and switching the plug off removes it."""
    with simulate(start=AFTERNOON, speed=30):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/tv")
        assert command(recorder, {"action": "force_overload", "power_w": 4000, "device": "tv"})[
            "ok"
        ]
        # Counted from the response: the simulator published it once the load was on.
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/tv/get", "")
        tv = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/tv", after=mark).json()
        mark = recorder.count()
        recorder.publish("zigbee2mqtt/tv/set", "OFF")
        # A report that fell due before the simulator read the command may come first.
        shed = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/tv" and m.value("state") == "OFF", after=mark
        ).json()
        status = command(recorder, {"action": "status"})
    assert isinstance(tv, dict)
    assert isinstance(shed, dict)
    assert tv["power"] >= 4000
    assert shed["power"] == 0
    assert status["loads"]["forced_overload"] == {"plug": "tv", "power_w": 0.0}
    assert status["meter"]["overloaded"] is False


def test_a_started_load_draws_through_its_plug_until_stopped(
    simulate: Any, recorder: Recorder
) -> None:
    """`start_load` makes a plug draw as an appliance switched on; `stop_load` ends it; a plug
    that is not metered is refused."""
    with simulate(start=AFTERNOON, speed=30):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/fridge")
        before = command(recorder, {"action": "status"})["plugs"]["fridge"]["power_w"]
        started = command(recorder, {"action": "start_load", "device": "fridge", "power_w": 1500})
        running = command(recorder, {"action": "status"})
        stopped = command(recorder, {"action": "stop_load", "device": "fridge"})
        after = command(recorder, {"action": "status"})
        refused = command(recorder, {"action": "start_load", "device": "linky", "power_w": 10})
    assert started["ok"]
    assert stopped["ok"]
    assert running["plugs"]["fridge"]["power_w"] >= before + 1500 - 150  # the compressor cycles
    assert running["loads"]["started_load_fridge"] == {"plug": "fridge", "power_w": 1500.0}
    assert after["loads"]["started_load_fridge"]["power_w"] == 0
    assert not refused["ok"]
    assert "not a metered plug" in refused["error"]


def test_a_held_household_keeps_its_draw_until_released(simulate: Any, recorder: Recorder) -> None:
    """`hold_household` keeps the home's own appliances at their present draw through two
    simulated hours of a winter evening (they change many times in that while without a hold);
    `release_household` lets them go."""

    def own_loads(status: dict[str, Any]) -> dict[str, float]:
        return {
            name: load["power_w"]
            for name, load in status["loads"].items()
            if not name.startswith(("forced_overload", "started_load"))
        }

    with simulate(start=EVENING, speed=3600):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        held = command(recorder, {"action": "hold_household", "duration_s": 60})
        first = command(recorder, {"action": "status"})
        time.sleep(2)  # two simulated hours
        second = command(recorder, {"action": "status"})
        released = command(recorder, {"action": "release_household"})
    assert held["ok"]
    assert released["ok"]
    assert second["time"] != first["time"]
    assert own_loads(second) == own_loads(first)


def test_bad_control_commands_are_answered_and_ignored(simulate: Any, recorder: Recorder) -> None:
    """Garbage, unknown devices and impossible requests get an error response; the run goes on."""
    with simulate() as run:
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        answers = [
            command(recorder, b"\x00garbage"),
            command(recorder, {"action": "force_overload", "device": "linky"}),
            command(recorder, {"action": "fault", "kind": "reboot", "device": "kettle", "id": 3}),
            command(recorder, {"action": "fault", "kind": "linky_silent", "device": "tv"}),
            command(recorder, {"action": "join", "device": "tv"}),
            command(recorder, {"action": "launch", "id": "x"}),
        ]
        alive = command(recorder, {"action": "status"})
        assert run.thread.is_alive()
    assert [a["ok"] for a in answers] == [False] * 6
    assert "not a metered plug" in answers[1]["error"]
    assert "no device named 'kettle'" in answers[2]["error"]
    assert answers[2]["id"] == "3"
    assert "not the Linky" in answers[3]["error"]
    assert "already paired" in answers[4]["error"]
    assert answers[5]["id"] == "x"
    assert alive["ok"]
    assert set(alive["plugs"]) >= {"tv", "oven"}


def test_leave_and_join_announce_and_rediscover(simulate: Any, recorder: Recorder) -> None:
    """A device that leaves: event, empty configs, gone from bridge/devices; back on join."""
    with simulate(availability=True):
        recorder.wait_for(
            lambda m: m.topic == "homeassistant/switch/" + _ieee(recorder, "tv") + "/switch/config"
        )
        mark = recorder.count()
        assert command(recorder, {"action": "leave", "device": "tv"})["ok"]
        leave = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/bridge/event", after=mark
        ).json()
        devices = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/bridge/devices", after=mark
        ).json()
        cleared = [
            m
            for m in recorder.messages[mark:]
            if m.topic.startswith("homeassistant/") and not m.payload
        ]
        gone = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/tv/availability" and not m.payload, after=mark
        )
        again = command(recorder, {"action": "leave", "device": "tv"})
        mark = recorder.count()
        assert command(recorder, {"action": "join", "device": "tv"})["ok"]
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/tv", after=mark)
        events = [
            m.json() for m in recorder.messages[mark:] if m.topic == "zigbee2mqtt/bridge/event"
        ]
        rediscovered = [
            m
            for m in recorder.messages[mark:]
            if m.topic.startswith("homeassistant/") and m.payload
        ]
    assert leave == {
        "data": {"friendly_name": "tv", "ieee_address": _ieee(recorder, "tv")},
        "type": "device_leave",
    }
    assert isinstance(devices, list)
    assert "tv" not in {d["friendly_name"] for d in devices}
    assert len(cleared) == 5
    assert all(m.retain for m in cleared)
    assert gone.payload == b""
    assert gone.retain
    assert not again["ok"]
    assert [e["type"] for e in events] == ["device_joined", "device_interview", "device_interview"]  # type: ignore[index]
    assert events[2]["data"]["status"] == "successful"  # type: ignore[index]
    assert events[2]["data"]["definition"]["model"] == "HS2SK_nxp"  # type: ignore[index]
    assert len(rediscovered) == 5


def _ieee(recorder: Recorder, name: str) -> str:
    devices = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/bridge/devices").json()
    assert isinstance(devices, list)
    return next(d["ieee_address"] for d in devices if d["friendly_name"] == name)


def test_a_home_without_a_linky_cannot_silence_it(simulate: Any, recorder: Recorder) -> None:
    """In the scale mode there is no meter: `linky_silent` is refused with a reason."""
    with simulate(scale_plugs=3):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/plug_0003")
        answer = command(recorder, {"action": "fault", "kind": "linky_silent"})
    assert answer == {"error": "this home has no Linky", "ok": False}
