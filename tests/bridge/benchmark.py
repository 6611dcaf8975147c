"""Benchmark of the bridge, run by `scripts/bench-bridge` (not a test: machines are noisy).

Starts Mosquitto, VictoriaMetrics and the bridge; publishes state messages over device topics
(QoS 1, as fast as paho can); waits until every point can be read back from the database; and
prints, measured in the same run on the same messages:

- the bridge's end-to-end rate: messages / (first publish -> last point readable);
- a bare paho subscriber's receive rate: messages / (first publish -> last message received);
- their ratio (goal >= 0.7) and the bridge's peak RSS (goal <= 80 MB).
"""

import argparse
from dataclasses import dataclass
import json
from pathlib import Path
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from energy_edge_bridge.settings import DEFAULT_RECEIVE_MAXIMUM
from tests.bridge.support import (
    BridgeProcess,
    Publisher,
    VictoriaMetrics,
    bridge_env,
    device_entry,
    devices_payload,
    plug_state,
    wait_until,
)
from tests.helpers.mosquitto import Broker

GOAL_RATIO = 0.7
GOAL_RSS_MB = 80.0


def bare_subscriber(port: int, username: str, password: str, count: int) -> None:
    """Receive `count` messages under zigbee2mqtt/# (QoS 1, the bridge's receive maximum) and
    print the wall-clock times of the first and the last one as JSON."""
    received = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal received, first, last
        if message.topic.startswith("zigbee2mqtt/bridge/"):
            return
        received += 1
        if received == 1:
            first = time.time()
        if received == count:
            last = time.time()
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    client.on_message = on_message
    client.on_subscribe = lambda *_: print("subscribed", flush=True)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.ReceiveMaximum = DEFAULT_RECEIVE_MAXIMUM
    client.connect("127.0.0.1", port, properties=properties)
    client.subscribe("zigbee2mqtt/#", qos=1)
    client.loop_start()
    done.wait(600)
    client.loop_stop()
    print(json.dumps({"received": received, "first": first, "last": last}), flush=True)


@dataclass
class Figures:
    """What one run measured."""

    messages: int
    publish_s: float
    bridge_s: float
    bare_s: float
    peak_rss_mb: float

    def report(self) -> str:
        """The figures, one per line, and whether the goals are met."""
        bridge_rate = self.messages / self.bridge_s
        bare_rate = self.messages / self.bare_s
        ratio = bridge_rate / bare_rate
        ratio_goal = "met" if ratio >= GOAL_RATIO else "MISSED"
        rss_goal = "met" if self.peak_rss_mb <= GOAL_RSS_MB else "MISSED"
        rows = [
            ("messages published", f"{self.messages} (QoS 1)"),
            ("publisher rate", f"{self.messages / self.publish_s:,.0f} msg/s"),
            (
                "bridge end to end",
                f"{bridge_rate:,.0f} msg/s ({self.bridge_s:.2f} s to the last point readable)",
            ),
            ("bare paho subscriber", f"{bare_rate:,.0f} msg/s ({self.bare_s:.2f} s)"),
            ("ratio bridge / bare", f"{ratio:.2f} (goal >= {GOAL_RATIO}: {ratio_goal})"),
            (
                "bridge peak RSS",
                f"{self.peak_rss_mb:.1f} MB (goal <= {GOAL_RSS_MB:g} MB: {rss_goal})",
            ),
        ]
        return "\n".join(f"{name + ':':24}{value}" for name, value in rows)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM)."""
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def run(messages: int, devices: int, workdir: Path) -> Figures:
    """One benchmark run."""
    broker = Broker(workdir / "mosquitto")
    victoria = VictoriaMetrics(workdir / "victoria-metrics")
    broker.start()
    victoria.start()
    bridge = BridgeProcess(
        bridge_env(broker, victoria.url, workdir / "spool", LOG_LEVEL="WARNING"),
        workdir / "bridge.log",
    )
    bare: subprocess.Popen[str] | None = None
    try:
        bridge.start()
        names = [f"bench/plug_{n:03d}" for n in range(devices)]
        publisher = Publisher(broker, "bench-publisher")
        entries = [device_entry(name, f"0xa4c13800{n:08x}") for n, name in enumerate(names)]
        publisher.publish("zigbee2mqtt/bridge/devices", devices_payload(*entries), retain=True)
        publisher.flush()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bridge.benchmark",
                "bare-subscriber",
                str(broker.port),
                broker.username,
                broker.password,
                str(messages),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert bare.stdout is not None
        if bare.stdout.readline().strip() != "subscribed":
            raise RuntimeError("the bare subscriber did not subscribe")
        payloads = [
            [plug_state(100.0 + (n * 7 + k) % 2000, round(k * 0.001, 3)) for k in range(4)]
            for n in range(devices)
        ]
        began = time.time()
        for k in range(messages):
            device = k % devices
            publisher.publish(f"zigbee2mqtt/{names[device]}", payloads[device][k // devices % 4])
        publisher.flush(timeout=600)
        published = time.time()
        wait_until(
            lambda: bridge.metrics()["energy_edge_bridge_points_written_total"] >= messages,
            600,
            "the bridge did not write every point",
            interval=0.1,
        )
        wait_until(
            lambda: victoria.count('{__name__="zigbee2mqtt_power"}') >= messages,
            120,
            "the database does not hold every point",
            interval=0.1,
        )
        readable = time.time()
        rss = peak_rss_mb(bridge.process.pid) if bridge.process else float("nan")
        bare_out, _ = bare.communicate(timeout=600)
        bare_times = json.loads(bare_out.strip().splitlines()[-1])
        if bare_times["received"] != messages:
            raise RuntimeError(f"the bare subscriber got {bare_times['received']} messages")
        publisher.close()
        return Figures(
            messages=messages,
            publish_s=published - began,
            bridge_s=readable - began,
            bare_s=bare_times["last"] - began,
            peak_rss_mb=rss,
        )
    finally:
        if bare is not None and bare.poll() is None:
            bare.kill()
        bridge.kill()
        victoria.stop()
        broker.stop()


def main() -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=500)
    sub = parser.add_subparsers(dest="command")
    bare = sub.add_parser("bare-subscriber")
    bare.add_argument("port", type=int)
    bare.add_argument("username")
    bare.add_argument("password")
    bare.add_argument("count", type=int)
    arguments = parser.parse_args()
    if arguments.command == "bare-subscriber":
        bare_subscriber(arguments.port, arguments.username, arguments.password, arguments.count)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as workdir:
        figures = run(arguments.messages, arguments.devices, Path(workdir))
    print(figures.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
