"""Faults a real Zigbee network shows, injected on demand and at random rates."""

import json
import math
import random
import time
from typing import Any

import pytest

from energy_edge_sim.faults import FaultKind, FaultPlanner, malformed_payload

from .conftest import Recorder
from .test_control import command


def strictly_valid(payload: bytes) -> bool:
    """What a careful consumer accepts: a JSON object with a finite, non-negative power."""
    try:
        data = json.loads(payload.decode(), parse_constant=lambda _c: math.nan)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    power = data.get("power")
    return isinstance(power, int | float) and math.isfinite(power) and power >= 0


def test_every_malformed_variant_is_rejected_by_a_careful_parser() -> None:
    """Truncated JSON, strings for numbers, NaN, negative power, arrays, null, bad UTF-8."""
    state = {"power": 12.5, "energy": 1.25, "state": "ON"}
    variants = {malformed_payload(state, random.Random(seed)) for seed in range(200)}
    assert len(variants) == 7
    assert not any(strictly_valid(variant) for variant in variants)


def test_the_fault_plan_depends_only_on_seed_and_rates() -> None:
    """The same seed and rates give the same faults; rates are per simulated hour."""

    def plan(seed: int) -> list[tuple[str, float, str | None]]:
        planner = FaultPlanner(
            {FaultKind.REBOOT: 2.0, FaultKind.LINKY_SILENT: 1.0, FaultKind.BRIDGE_RESTART: 0.5},
            seed,
            devices=["oven", "tv", "linky"],
            meters=["linky"],
        )
        planner.start(0.0)
        return [(f.kind.value, f.at, f.device) for f in planner.due(100 * 3600.0)]

    first = plan(1)
    assert first == plan(1) != plan(2)
    reboots = [f for f in first if f[0] == "reboot"]
    assert 120 <= len(reboots) <= 280, "about two an hour over 100 hours"
    assert {f[2] for f in first if f[0] == "linky_silent"} == {"linky"}
    assert all(f[2] is None for f in first if f[0] == "bridge_restart")
    assert [f[1] for f in first] == sorted(f[1] for f in first)


def test_a_fault_plan_needs_sane_rates_and_targets() -> None:
    """Negative rates are refused; a kind with no possible target (no Linky) never fires."""
    with pytest.raises(ValueError, match="non-negative"):
        FaultPlanner({FaultKind.REBOOT: -1.0}, 1, devices=["tv"], meters=[]).start(0.0)
    planner = FaultPlanner({FaultKind.LINKY_SILENT: 100.0}, 1, devices=["tv"], meters=[])
    planner.start(0.0)
    assert planner.due(3600.0 * 10) == []


def test_a_rebooted_plug_restarts_its_counter_and_announces_itself(
    simulate: Any, recorder: Recorder
) -> None:
    """`reboot`: device_announce on bridge/event, then the plug reports an energy counter near 0."""
    with simulate():
        before = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/fridge").json()
        mark = recorder.count()
        assert command(recorder, {"action": "fault", "kind": "reboot", "device": "fridge"})["ok"]
        event = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/bridge/event", after=mark
        ).json()
        after = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/fridge", after=mark).json()
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    assert isinstance(event, dict)
    assert event["type"] == "device_announce"
    assert event["data"]["friendly_name"] == "fridge"
    assert before["energy"] > 1
    assert after["energy"] < 0.01


def test_a_dropout_takes_the_device_offline_then_back(simulate: Any, recorder: Recorder) -> None:
    """`dropout`: availability offline (retained), silence, lost commands, then online again."""
    with simulate(availability=True, speed=60):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/oven")
        mark = recorder.count()
        assert command(
            recorder, {"action": "fault", "kind": "dropout", "device": "oven", "duration_s": 1.5}
        )["ok"]
        # QoS 1 messages may overtake or trail QoS 0 ones at the subscriber: match on content.
        offline = recorder.wait_for(
            lambda m: (
                m.topic == "zigbee2mqtt/oven/availability" and m.json() == {"state": "offline"}
            ),
            after=mark,
        )
        recorder.publish("zigbee2mqtt/oven/set", "OFF")
        online = recorder.wait_for(
            lambda m: (
                m.topic == "zigbee2mqtt/oven/availability" and m.json() == {"state": "online"}
            ),
            after=recorder.messages.index(offline),
            timeout=5,
        )
        back = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/oven", after=recorder.messages.index(online)
        )
    assert offline.json() == {"state": "offline"}
    assert offline.retain
    assert offline.qos == 1
    silent = [
        m
        for m in recorder.messages
        if m.topic == "zigbee2mqtt/oven" and offline.received < m.received < online.received
    ]
    assert silent == []
    assert online.received - offline.received == pytest.approx(1.5, abs=0.5)
    assert back.json()["state"] == "ON", "the OFF sent while offline was lost"  # type: ignore[index]


def test_a_malformed_payload_appears_on_the_device_topic(simulate: Any, recorder: Recorder) -> None:
    """`malformed`: the device's own topic carries a payload a careful parser must refuse."""
    with simulate():
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/dishwasher")
        mark = recorder.count()
        for _ in range(5):
            assert command(
                recorder, {"action": "fault", "kind": "malformed", "device": "dishwasher"}
            )["ok"]
    bad = [
        m
        for m in recorder.messages[mark:]
        if m.topic == "zigbee2mqtt/dishwasher" and not strictly_valid(m.payload)
    ]
    assert len(bad) == 5


def test_a_bridge_restart_goes_offline_and_republishes_everything(
    simulate: Any, recorder: Recorder
) -> None:
    """`bridge_restart`: bridge/state offline; then online, info, devices, discovery, availability
    and every device's cached state again."""
    with simulate(availability=True, speed=30):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        mark = recorder.count()
        assert command(recorder, {"action": "fault", "kind": "bridge_restart", "duration_s": 1})[
            "ok"
        ]
        offline = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/bridge/state" and m.json() == {"state": "offline"},
            after=mark,
        )
        down = recorder.messages.index(offline)
        online = recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/bridge/state" and m.json() == {"state": "online"},
            after=down,
            timeout=5,
        )
        recorder.wait_for(
            lambda m: m.topic == "zigbee2mqtt/tv", after=recorder.messages.index(online)
        )
        time.sleep(0.2)
    # QoS 0 states may overtake QoS 1 messages at the subscriber: judge the silence by time.
    during = [
        m
        for m in recorder.messages[down:]
        if m.topic.count("/") == 1 and offline.received + 0.1 < m.received < offline.received + 0.8
    ]
    assert during == [], "nothing is published while the bridge is down"
    assert online.received - offline.received == pytest.approx(1.0, abs=0.4)
    republished = {m.topic for m in recorder.messages[down:]}
    assert {
        "zigbee2mqtt/bridge/info",
        "zigbee2mqtt/bridge/devices",
        "zigbee2mqtt/linky/availability",
    } <= republished
    assert any(t.startswith("homeassistant/sensor/") for t in republished)
    assert {f"zigbee2mqtt/{name}" for name in ("tv", "linky", "oven")} <= republished


def test_the_linky_can_fall_silent(simulate: Any, recorder: Recorder) -> None:
    """`linky_silent`: no Linky report during the silence, reports again after it."""
    with simulate(speed=120):
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky")
        mark = recorder.count()
        assert command(recorder, {"action": "fault", "kind": "linky_silent", "duration_s": 2})["ok"]
        started = time.monotonic()
        resumed = recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky", after=mark, timeout=5)
    assert resumed.received - started >= 1.8


def test_faults_happen_at_their_rates(simulate: Any, recorder: Recorder) -> None:
    """With rates on the command line, faults of each kind happen by themselves."""
    rates = {FaultKind.REBOOT: 20.0, FaultKind.MALFORMED: 30.0, FaultKind.DROPOUT: 10.0}
    with simulate(speed=600, availability=True, fault_rates_per_hour=rates):
        time.sleep(2.5)  # about 25 simulated minutes
    events = [m.json() for m in recorder.messages if m.topic == "zigbee2mqtt/bridge/event"]
    assert any(e["type"] == "device_announce" for e in events)  # type: ignore[index]
    plug_states = [
        m
        for m in recorder.messages
        if m.topic.count("/") == 1 and m.topic not in {"zigbee2mqtt/linky", "zigbee2mqtt/bridge"}
    ]
    assert any(not strictly_valid(m.payload) for m in plug_states)
    assert any(
        m.topic.endswith("/availability") and m.json() == {"state": "offline"}
        for m in recorder.messages
    )
