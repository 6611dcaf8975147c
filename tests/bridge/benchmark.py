"""Benchmark of the bridge, run by `scripts/bench-bridge` (not a test: machines are noisy).

Starts Mosquitto, VictoriaMetrics and the bridge; publishes state messages over device topics
(QoS 1, as fast as paho can); waits until every point can be read back from the database; and
prints, measured in the same run on the same messages:

- the bridge's end-to-end rate: messages / (first publish -> last point readable);
- a bare paho subscriber's receive rate: messages / (first publish -> last message received);
- their ratio (goal >= 0.7) and the bridge's peak RSS (goal <= 80 MB).

With `--instances N --homes M`, the homes publish under `homes/<home>/zigbee2mqtt` and bridge
instances share them through one MQTT 5 share group: one instance, then N, each run on a fresh
broker and database. It prints the aggregate end-to-end rate of N instances against one, and
each instance's CPU time per message it received against a bare paho subscriber's (CPU time,
not wall time: the figure holds on a shared machine).

With `--memory-homes N`, one bridge follows N homes of 20 plugs (their device lists, a reading
and an availability message of each plug): its RSS before and after, and its peak after one
`GET /api/devices`.
"""

import argparse
from dataclasses import dataclass
import json
import os
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
MEMORY_PLUGS = 20  # devices per home in the memory run (docs/scale.md's homes)


def bare_subscriber(
    port: int, username: str, password: str, count: int, topic_filter: str = "zigbee2mqtt/#"
) -> None:
    """Receive `count` readings on `topic_filter` (QoS 1, the bridge's receive maximum) and
    print the wall-clock times of the first and the last one, and the CPU time between them,
    as JSON."""
    received = 0
    first = last = cpu_first = cpu_last = 0.0
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal received, first, last, cpu_first, cpu_last
        if "/bridge/" in message.topic:
            return
        received += 1
        if received == 1:
            first, cpu_first = time.time(), time.process_time()
        if received == count:
            last, cpu_last = time.time(), time.process_time()
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    client.on_message = on_message
    client.on_subscribe = lambda *_: print("subscribed", flush=True)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.ReceiveMaximum = DEFAULT_RECEIVE_MAXIMUM
    client.connect("127.0.0.1", port, properties=properties)
    client.subscribe(topic_filter, qos=1)
    client.loop_start()
    done.wait(600)
    client.loop_stop()
    cpu_s = cpu_last - cpu_first
    print(
        json.dumps({"received": received, "first": first, "last": last, "cpu_s": cpu_s}),
        flush=True,
    )


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
        bare = start_bare(broker, messages, "zigbee2mqtt/#")
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


SITE_PATTERN = "homes/+/zigbee2mqtt"


@dataclass
class Instance:
    """One bridge instance of a group run."""

    name: str
    messages: int  # readings it received
    cpu_s: float  # CPU time while the readings went through

    @property
    def cpu_us_per_message(self) -> float:
        """CPU microseconds per message received."""
        return self.cpu_s / self.messages * 1e6


@dataclass
class GroupRun:
    """What one run of a share group measured."""

    messages: int
    publish_s: float  # first publish -> the broker has the last one
    elapsed_s: float  # first publish -> last point readable
    instances: list[Instance]
    bare_cpu_us_per_message: float

    @property
    def rate(self) -> float:
        """Aggregate end-to-end messages per second."""
        return self.messages / self.elapsed_s


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_bare(broker: Broker, count: int, topic_filter: str) -> subprocess.Popen[str]:
    """A bare paho subscriber in its own process, once subscribed."""
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bridge.benchmark",
            "bare-subscriber",
            str(broker.port),
            broker.username,
            broker.password,
            str(count),
            topic_filter,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert bare.stdout is not None
    if bare.stdout.readline().strip() != "subscribed":
        bare.kill()
        raise RuntimeError("the bare subscriber did not subscribe")
    return bare


def run_group(instances: int, homes: int, messages: int, devices: int, workdir: Path) -> GroupRun:
    """`instances` bridges in one share group, `homes` homes of `devices // homes` plugs each;
    readings carry `last_seen` (one point whichever instance records them)."""
    broker = Broker(workdir / "mosquitto")
    victoria = VictoriaMetrics(workdir / "victoria-metrics")
    broker.start()
    victoria.start()
    names = [chr(ord("a") + n) for n in range(instances)]
    bridges = [
        BridgeProcess(
            bridge_env(
                broker,
                victoria.url,
                workdir / f"spool-{name}",
                LOG_LEVEL="WARNING",
                Z2M_BASE_TOPIC=SITE_PATTERN,
                MQTT_SHARE_GROUP="bench",
                BRIDGE_INSTANCE_ID=name,
            ),
            workdir / f"bridge-{name}.log",
        )
        for name in names
    ]
    bare: subprocess.Popen[str] | None = None
    try:
        publisher = Publisher(broker, "bench-publisher")
        per_home = max(1, devices // homes)
        for home in range(homes):
            entries = [
                device_entry(f"plug_{n:03d}", f"0xa4c138{home:04x}{n:06x}") for n in range(per_home)
            ]
            publisher.publish(
                f"homes/h{home}/zigbee2mqtt/bridge/devices", devices_payload(*entries), retain=True
            )
        publisher.flush()
        for bridge in bridges:
            bridge.start()
        bare = start_bare(broker, messages, "homes/+/zigbee2mqtt/#")
        # `last_seen` (the payload's last key) is spliced in: one time per reading of a plug.
        heads = [
            plug_state(100.0 + (n * 7 + k) % 2000, round(k * 0.001, 3), last_seen=0).removesuffix(
                b"0}"
            )
            for n in range(per_home)
            for k in range(4)
        ]
        topics = [
            f"homes/h{home}/zigbee2mqtt/plug_{n:03d}"
            for n in range(per_home)
            for home in range(homes)
        ]
        start_ms = int(time.time() * 1000) - messages
        cpu_before = [cpu_seconds(b.process.pid) for b in bridges if b.process]
        began = time.time()
        for k in range(messages):
            device = k % len(topics)
            head = heads[(device // homes) * 4 + k // len(topics) % 4]
            publisher.publish(topics[device], b"%s%d}" % (head, start_ms + k))
        publisher.flush(timeout=600)
        published = time.time()

        def written() -> float:
            return sum(b.metrics()["energy_edge_bridge_points_written_total"] for b in bridges)

        wait_until(lambda: written() >= messages, 600, "not every point written", interval=0.1)
        wait_until(
            lambda: victoria.count('{__name__="zigbee2mqtt_power"}') >= messages,
            120,
            "the database does not hold every point",
            interval=0.1,
        )
        readable = time.time()
        cpu_after = [cpu_seconds(b.process.pid) for b in bridges if b.process]
        received = [int(b.metrics()["energy_edge_bridge_messages_received_total"]) for b in bridges]
        bare_out, _ = bare.communicate(timeout=600)
        bare_times = json.loads(bare_out.strip().splitlines()[-1])
        if bare_times["received"] != messages:
            raise RuntimeError(f"the bare subscriber got {bare_times['received']} messages")
        publisher.close()
        return GroupRun(
            messages=messages,
            publish_s=published - began,
            elapsed_s=readable - began,
            instances=[
                Instance(name, count, after - before)
                for name, count, before, after in zip(
                    names, received, cpu_before, cpu_after, strict=True
                )
            ],
            bare_cpu_us_per_message=bare_times["cpu_s"] / messages * 1e6,
        )
    finally:
        if bare is not None and bare.poll() is None:
            bare.kill()
        for bridge in bridges:
            bridge.kill()
        victoria.stop()
        broker.stop()


def group_report(one: GroupRun, many: GroupRun, homes: int, devices: int) -> str:
    """The figures of one instance and of N, one per line."""
    rows = [
        ("homes", f"{homes} ({devices // homes} plugs each, {SITE_PATTERN})"),
        ("messages published", f"{one.messages} (QoS 1, with last_seen)"),
    ]
    for run in (one, many):
        label = f"{len(run.instances)} instance" + ("s" if len(run.instances) > 1 else "")
        rows.append((label, f"{run.rate:,.0f} msg/s end to end ({run.elapsed_s:.2f} s)"))
        rows.append(("  publisher", f"{run.messages / run.publish_s:,.0f} msg/s"))
        rows.append(("  bare paho subscriber", f"{run.bare_cpu_us_per_message:.1f} µs CPU/msg"))
        rows.extend(
            (
                f"  instance {instance.name}",
                (
                    f"{instance.messages / run.messages:.0%} of the messages, "
                    f"{instance.cpu_us_per_message:.1f} µs CPU/msg, "
                    f"{instance.cpu_us_per_message / run.bare_cpu_us_per_message:.2f} x bare"
                ),
            )
            for instance in run.instances
        )
    rows.append((f"ratio {len(many.instances)} / 1 instance", f"{many.rate / one.rate:.2f}"))
    return "\n".join(f"{name + ':':32}{value}" for name, value in rows)


def rss_mb(pid: int) -> float:
    """The process's resident set size now (VmRSS)."""
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def run_memory(homes: int, workdir: Path) -> str:
    """One bridge following `homes` homes of MEMORY_PLUGS plugs (homes/+/zigbee2mqtt): each
    home's `bridge/devices`, then a reading and an availability message of every plug; the
    bridge's RSS before and after, with BRIDGE_MAX_SITES set to `homes`."""
    broker = Broker(workdir / "mosquitto")
    victoria = VictoriaMetrics(workdir / "victoria-metrics")
    broker.start()
    victoria.start()
    bridge = BridgeProcess(
        bridge_env(
            broker,
            victoria.url,
            workdir / "spool",
            LOG_LEVEL="WARNING",
            Z2M_BASE_TOPIC=SITE_PATTERN,
            BRIDGE_MAX_SITES=str(homes),
        ),
        workdir / "bridge.log",
    )
    try:
        bridge.start()
        assert bridge.process is not None
        time.sleep(2)  # the first health point and write are done
        before = rss_mb(bridge.process.pid)
        publisher = Publisher(broker, "bench-publisher")
        names = [f"plug_{n:02d}" for n in range(MEMORY_PLUGS)]
        for home in range(homes):
            entries = [
                device_entry(name, f"0xa4c138{home:04x}{n:06x}") for n, name in enumerate(names)
            ]
            publisher.publish(
                f"homes/h{home}/zigbee2mqtt/bridge/devices", devices_payload(*entries)
            )
            for n, name in enumerate(names):
                base = f"homes/h{home}/zigbee2mqtt/{name}"
                publisher.publish(base, plug_state(100.0 + n, 1.0 + home, last_seen=1))
                publisher.publish(f"{base}/availability", b'{"state":"online"}')
        publisher.flush(timeout=600)
        publisher.close()
        expected = homes * (1 + 2 * MEMORY_PLUGS)
        wait_until(
            lambda: bridge.metrics()["energy_edge_bridge_messages_received_total"] >= expected,
            600,
            "the bridge did not receive every message",
            interval=0.5,
        )
        after = rss_mb(bridge.process.pid)
        peak = peak_rss_mb(bridge.process.pid)
        known = len(bridge.get("/api/devices"))  # every home at once: one big answer
        if known != homes * MEMORY_PLUGS:
            raise RuntimeError(f"the bridge knows {known} devices")
        listed = peak_rss_mb(bridge.process.pid)
    finally:
        bridge.kill()
        victoria.stop()
        broker.stop()
    rows = [
        ("homes", f"{homes} ({MEMORY_PLUGS} plugs each, {SITE_PATTERN})"),
        ("messages", f"{expected} (device lists, readings, availability)"),
        ("bridge RSS at start", f"{before:.1f} MB"),
        ("bridge RSS with the homes", f"{after:.1f} MB (peak {peak:.1f} MB)"),
        ("per 1,000 homes", f"{(after - before) / homes * 1000:.1f} MB"),
        ("peak after /api/devices", f"{listed:.1f} MB (every home's devices in one answer)"),
        ("goal (peaks)", f"<= {GOAL_RSS_MB:g} MB: {'met' if listed <= GOAL_RSS_MB else 'MISSED'}"),
    ]
    return "\n".join(f"{name + ':':28}{value}" for name, value in rows)


def main() -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--instances", type=int, help="bridges sharing the homes (one group)")
    parser.add_argument("--homes", type=int, default=1, help="with --instances: homes")
    parser.add_argument(
        "--memory-homes", type=int, help=f"the bridge's RSS with N homes of {MEMORY_PLUGS} plugs"
    )
    sub = parser.add_subparsers(dest="command")
    bare = sub.add_parser("bare-subscriber")
    bare.add_argument("port", type=int)
    bare.add_argument("username")
    bare.add_argument("password")
    bare.add_argument("count", type=int)
    bare.add_argument("topic_filter", nargs="?", default="zigbee2mqtt/#")
    arguments = parser.parse_args()
    if arguments.command == "bare-subscriber":
        bare_subscriber(
            arguments.port,
            arguments.username,
            arguments.password,
            arguments.count,
            arguments.topic_filter,
        )
        return 0
    if arguments.memory_homes is not None:
        if arguments.memory_homes < 1:
            parser.error("--memory-homes >= 1")
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as workdir:
            print(run_memory(arguments.memory_homes, Path(workdir)))
        return 0
    if arguments.instances is not None:
        if arguments.instances < 1 or not 1 <= arguments.homes <= arguments.devices:
            parser.error("--instances >= 1, 1 <= --homes <= --devices")
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as workdir:
            runs = [
                run_group(
                    n, arguments.homes, arguments.messages, arguments.devices, Path(workdir, str(n))
                )
                for n in (1, arguments.instances)
            ]
        print(group_report(runs[0], runs[1], arguments.homes, arguments.devices))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as workdir:
        figures = run(arguments.messages, arguments.devices, Path(workdir))
    print(figures.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
