"""The stack's bridge records the simulated household: its API lists every device and says the
home's power, and the time-series store holds every reading of every device."""

from collections.abc import Iterator
import json
import time
from typing import Any

import httpx
import pytest

from scripts.lib.devstack.zigbee2mqtt import ZigbeeDevice
from tests.e2e.conftest import NativeStack
from tests.e2e.mqtt import MqttSession
from tests.e2e.simulator import MeterReadings

SETTLE = 30.0  # readings reach the store within about a second (the writer's batches)


@pytest.fixture
def bridge(native_stack: NativeStack) -> Iterator[httpx.Client]:
    """The bridge's API with the stack's token."""
    assert "bridge" in native_stack.processes, f"no bridge:\n{native_stack.up_output}"
    token = native_stack.credentials.bridge_api_token
    with httpx.Client(
        base_url=native_stack.layout.bridge_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def victoria(native_stack: NativeStack) -> Iterator[httpx.Client]:
    """VictoriaMetrics, where the bridge writes (InfluxDB's v2 write API)."""
    with httpx.Client(base_url=native_stack.layout.victoria_url, timeout=10) as client:
        yield client


def test_the_bridge_is_healthy_and_its_api_needs_the_token(
    native_stack: NativeStack, bridge: httpx.Client
) -> None:
    """`/health` is 200 with the broker and the store reachable; `/api` refuses other tokens."""
    health = bridge.get("/health")
    assert health.status_code == 200
    assert health.json()["mqtt"]["ok"]
    assert health.json()["database"]["ok"]
    url = f"{native_stack.layout.bridge_url}/api/devices"
    for headers in ({}, {"Authorization": "Bearer welcome"}):
        assert httpx.get(url, headers=headers, timeout=10).status_code == 401


def test_the_bridge_lists_every_simulated_device_with_its_readings(
    bridge: httpx.Client, simulated_devices: dict[str, ZigbeeDevice]
) -> None:
    """Name, IEEE address and model as Zigbee2MQTT announces them, and a power reading."""
    listed = {device["name"]: device for device in bridge.get("/api/devices").json()}
    for name, device in simulated_devices.items():
        entry = listed[name]
        assert (entry["ieee"], entry["model"]) == (device.ieee, device.model)
        power = "apparent_power" if device.is_grid_meter else "power"
        assert isinstance(entry["last_values"][power], int | float), entry
        assert entry["last_seen"] is not None


def test_bridge_power_is_the_meters_reading(
    bridge: httpx.Client, developer: MqttSession, simulated_devices: dict[str, ZigbeeDevice]
) -> None:
    """`/api/power` answers with the Linky's apparent power, one of its latest readings."""
    linky = next(device for device in simulated_devices.values() if device.is_grid_meter)
    meter = MeterReadings(developer, linky.name)
    first = meter.wait_for(1)[0]
    deadline = time.monotonic() + SETTLE
    while True:
        power = bridge.get("/api/power").json()
        readings = [r.apparent_power_va for r in meter.update() if r.date >= first.date]
        if power["power"] in readings or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (power["source"], power["unit"], power["devices"]) == ("meter", "VA", [linky.name])
    assert power["power"] in readings


def _exported(victoria: httpx.Client, series: str, **params: Any) -> list[dict[str, Any]]:
    victoria.get("/internal/force_flush")  # make the latest points searchable
    answer = victoria.get("/api/v1/export", params={"match[]": series, **params})
    answer.raise_for_status()
    return [json.loads(line) for line in answer.text.splitlines()]


def test_the_time_series_store_holds_points_for_every_simulated_device(
    victoria: httpx.Client, simulated_devices: dict[str, ZigbeeDevice]
) -> None:
    """The bridge's points reached VictoriaMetrics: a power series for every simulated device,
    tagged with its IEEE address and model."""
    deadline = time.monotonic() + SETTLE
    while True:
        series = _exported(victoria, '{__name__=~"zigbee2mqtt_(power|apparent_power)"}')
        points = {s["metric"].get("device"): s for s in series if len(s["values"]) >= 2}
        if set(simulated_devices) <= set(points) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert set(simulated_devices) <= set(points), f"none for {set(simulated_devices) - set(points)}"
    for name, device in simulated_devices.items():
        metric = points[name]["metric"]
        field = "apparent_power" if device.is_grid_meter else "power"
        assert metric == {
            "__name__": f"zigbee2mqtt_{field}",
            "device": name,
            "ieee": device.ieee,
            "model": device.model,
        }


def _contains_run(values: list[float], run: list[float]) -> bool:
    return any(values[i : i + len(run)] == run for i in range(len(values) - len(run) + 1))


def test_every_reading_of_the_meter_is_recorded_once_in_order(
    victoria: httpx.Client, developer: MqttSession, simulated_devices: dict[str, ZigbeeDevice]
) -> None:
    """The Linky's readings, as the test received them, are consecutive points of the store: all,
    in order, none twice."""
    linky = next(device for device in simulated_devices.values() if device.is_grid_meter)
    readings = MeterReadings(developer, linky.name).wait_for(5)
    received = [reading.apparent_power_va for reading in readings]
    # The bridge stamps each point with the moment it received the reading, about when the test
    # did: a window wide enough for a loaded machine, with the readings a run inside it.
    window = {"start": f"{readings[0].received - 5:.3f}", "end": f"{readings[-1].received + 5:.3f}"}
    series = f'{{__name__="zigbee2mqtt_apparent_power",device="{linky.name}"}}'
    deadline = time.monotonic() + SETTLE
    while True:
        stored = [value for s in _exported(victoria, series, **window) for value in s["values"]]
        if _contains_run(stored, received) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert _contains_run(stored, received), f"{received} not a run of {stored}"
