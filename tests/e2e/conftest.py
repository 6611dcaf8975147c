"""One native stack for the end-to-end tests: `./scripts/dev-stack up` on free ports in a
temporary folder, `down` after the last of them (not at the end of the whole pytest session: the
tests that follow get the machine to themselves), and a check that no process is left behind."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import subprocess

import pytest

from scripts.lib.devstack.credentials import Credentials
from scripts.lib.devstack.homeassistant_api import HomeAssistantClient
from scripts.lib.devstack.layout import REPO, StackLayout
from scripts.lib.devstack.mosquitto import MOSQUITTO, MOSQUITTO_PASSWD
from scripts.lib.devstack.processes import RecordedProcess
from scripts.lib.devstack.stack import recorded_services
from scripts.lib.devstack.zigbee2mqtt import ZigbeeDevice, announced_devices
from tests.e2e.mqtt import MqttSession, mqtt_session
from tests.e2e.simulator import SimulatorControl
from tests.helpers.mosquitto import free_port

DEV_STACK = REPO / "scripts" / "dev-stack"
STACK_TIMEOUT = 300  # the whole `up`, HA's first start included; it takes well under a minute


@dataclass(frozen=True)
class NativeStack:
    """A running stack: where it is, its secrets, and how to call its command line."""

    layout: StackLayout
    env: dict[str, str]
    up_output: str
    processes: dict[str, RecordedProcess]

    @property
    def credentials(self) -> Credentials:
        """The secrets `up` generated (read again: a token may have been added)."""
        return Credentials.load(self.layout.credentials_file)

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `./scripts/dev-stack` against this stack."""
        return subprocess.run(
            [str(DEV_STACK), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STACK_TIMEOUT,
            check=False,
        )

    def home_assistant(self) -> HomeAssistantClient:
        """A client of HA's APIs with the owner's saved long-lived token."""
        return self.client(self.credentials.ha_token)

    def client(self, token: str | None) -> HomeAssistantClient:
        """A client of HA's APIs with another token, or none."""
        return HomeAssistantClient(self.layout.ha_url, token)

    def ha_log(self) -> str:
        """What Home Assistant printed."""
        return (self.layout.logs / "homeassistant.log").read_text(errors="replace")


def missing_programs() -> list[str]:
    """Programs the stack needs that this machine lacks (./scripts/setup installs them)."""
    needed = [
        Path(MOSQUITTO),
        Path(MOSQUITTO_PASSWD),
        REPO / ".venv/bin/victoria-metrics",
        REPO / ".venv/bin/hass",
    ]
    return [str(program) for program in needed if not program.exists()]


def stack_processes(root: Path) -> str:
    """Every process whose command line names the stack's folder, children of ours included."""
    found = subprocess.run(
        ["pgrep", "-a", "-f", str(root)], capture_output=True, text=True, check=False
    )
    return found.stdout.strip()


@pytest.fixture(scope="package")
def native_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeStack]:
    """`up` once for tests/e2e; `down` after its last test, leaving no process behind."""
    if missing := missing_programs():
        pytest.skip(f"the native stack needs {', '.join(missing)}: run ./scripts/setup")
    root = tmp_path_factory.mktemp("native-stack")
    env = {
        **os.environ,
        "DEV_STACK_DIR": str(root),
        "DEV_STACK_MQTT_PORT": str(free_port()),
        "DEV_STACK_HA_PORT": str(free_port()),
        "DEV_STACK_BRIDGE_PORT": str(free_port()),
        "DEV_STACK_VICTORIA_PORT": str(free_port()),
        # One home at one hour, whatever the hour the tests run: fr_house with seed 42 draws
        # under 700 VA from 03:30 to 14:45 in Paris on 4 December 2026, eleven simulated hours
        # (eleven minutes at the stack's 60x), so the tests that size loads on the meter find
        # room (at the simulated evening the home drew 4 to 7 kVA for three hours).
        "DEV_STACK_SIM_SEED": "42",
        "DEV_STACK_SIM_START": "2026-12-04T03:30:00+01:00",
    }
    layout = StackLayout.from_environment(env)
    starting = NativeStack(layout=layout, env=env, up_output="", processes={})
    try:
        up = starting.command("up")
        if up.returncode != 0:
            pytest.fail(f"./scripts/dev-stack up failed:\n{up.stdout}{up.stderr}")
        stack = NativeStack(
            layout=layout, env=env, up_output=up.stdout, processes=recorded_services(layout)
        )
        yield stack
    finally:
        # Also after a failed or interrupted `up`: its pid files are written at each start.
        processes = recorded_services(layout)
        down = starting.command("down")
        left = stack_processes(root)
        assert down.returncode == 0, down.stdout + down.stderr
        assert not left, f"processes left after down:\n{left}"
        assert not any(process.is_running() for process in processes.values())
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def home_assistant(native_stack: NativeStack) -> AsyncIterator[HomeAssistantClient]:
    """HA's REST API with the owner's long-lived token."""
    async with native_stack.home_assistant() as client:
        yield client


@pytest.fixture
def developer(native_stack: NativeStack) -> Iterator[MqttSession]:
    """A client of the stack's broker with the developer's account (it may do everything)."""
    password = native_stack.credentials.mqtt_passwords["developer"]
    with mqtt_session(native_stack.layout, "developer", password) as session:
        yield session


@pytest.fixture
def simulator(native_stack: NativeStack) -> Iterator[SimulatorControl]:
    """The simulator's control channel."""
    assert "simulator" in native_stack.processes, f"no simulator:\n{native_stack.up_output}"
    password = native_stack.credentials.mqtt_passwords["developer"]
    with mqtt_session(native_stack.layout, "developer", password) as session:
        yield SimulatorControl(session)


@pytest.fixture(scope="package")
def simulated_devices(native_stack: NativeStack) -> dict[str, ZigbeeDevice]:
    """Every device the simulator has paired, as Zigbee2MQTT's `bridge/devices` describes it."""
    assert "simulator" in native_stack.processes, f"no simulator:\n{native_stack.up_output}"
    password = native_stack.credentials.mqtt_passwords["developer"]
    with mqtt_session(native_stack.layout, "developer", password) as session:
        names = SimulatorControl(session).device_names()
    announced = announced_devices(native_stack.layout, native_stack.credentials, timeout=10)
    devices = {device.name: device for device in announced if device.name in names}
    assert devices.keys() == names, "a paired device is missing from bridge/devices"
    assert any(device.is_grid_meter for device in devices.values()), "no Linky"
    return devices
