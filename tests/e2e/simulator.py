"""The stack's simulator seen from the tests: its control channel and the Linky's readings
(docs/simulator.md)."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
import json
import queue
import time
from typing import Any
import uuid

import paho.mqtt.client as mqtt

from tests.e2e.mqtt import MqttSession

CONTROL_TOPIC = "energy_edge/simulator/control"


class SimulatorControl:
    """Commands on the control channel, each answered on `<topic>/response` with its id."""

    def __init__(self, session: MqttSession) -> None:
        self._session = session
        session.subscribe(f"{CONTROL_TOPIC}/response")

    def command(self, action: str, *, within: float = 15.0, **fields: Any) -> dict[str, Any]:
        """Send a command; return the simulator's response to it; fail when it refuses."""
        request_id = uuid.uuid4().hex
        body = {"action": action, "id": request_id, **fields}
        self._session.publish(CONTROL_TOPIC, json.dumps(body))
        deadline = time.monotonic() + within
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self._session.next_message(within=max(remaining, 0.0))
            except queue.Empty:
                raise TimeoutError(f"no response to {body} after {within} s") from None
            response = json.loads(message.payload)
            if isinstance(response, dict) and response.get("id") == request_id:
                assert response.get("ok"), f"the simulator refused {body}: {response}"
                return response

    def simulated_time(self) -> datetime:
        """The simulated moment now (everything it did before is in what it publishes next)."""
        return datetime.fromisoformat(self.command("status")["time"])

    def device_names(self) -> set[str]:
        """The friendly names of the devices paired now."""
        devices = self.command("status")["devices"]
        return {name for name, device in devices.items() if device["paired"]}


@dataclass(frozen=True)
class MeterReading:
    """One report of the Linky: when the meter took it, its apparent power (SINSTS), its cut-off
    power (PCOUP, Z2M's `power_threshold` in kVA), and when the test received it (Unix time)."""

    date: datetime
    apparent_power_va: float
    cutoff_va: float | None
    received: float


def _linky_date(stamp: str) -> datetime:
    """The TIC's DATE: H (winter, UTC+1) or E (summer, UTC+2), then local YYMMDDhhmmss."""
    offset = timezone(timedelta(hours=2 if stamp[0] == "E" else 1))
    return datetime.strptime(stamp[1:], "%y%m%d%H%M%S").replace(tzinfo=offset)


class MeterReadings:
    """The Linky's state messages, as they arrive (standard mode: each is dated)."""

    def __init__(self, session: MqttSession, meter: str) -> None:
        self._session = session
        self.topic = f"zigbee2mqtt/{meter}"
        self.received: list[MeterReading] = []
        session.subscribe(self.topic)

    def _keep(self, message: mqtt.MQTTMessage) -> None:
        state = json.loads(message.payload)
        # paho stamps each message with the monotonic clock on receipt.
        received = time.time() - (time.monotonic() - message.timestamp)
        cutoff_kva = state.get("power_threshold")
        self.received.append(
            MeterReading(
                _linky_date(state["current_date"]),
                float(state["apparent_power"]),
                None if cutoff_kva is None else float(cutoff_kva) * 1000,
                received,
            )
        )

    def update(self) -> list[MeterReading]:
        """Every reading so far (those that arrived since the last call added)."""
        while True:
            try:
                message = self._session.messages.get_nowait()
            except queue.Empty:
                return self.received
            if message.topic == self.topic:
                self._keep(message)

    def wait_for(self, count: int, within: float = 30.0) -> list[MeterReading]:
        """Wait until `count` readings have arrived; return them all."""
        deadline = time.monotonic() + within
        while len(self.update()) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.received)} of {count} readings after {within} s")
            try:
                message = self._session.next_message(within=remaining)
            except queue.Empty:
                continue
            if message.topic == self.topic:
                self._keep(message)
        return self.received
