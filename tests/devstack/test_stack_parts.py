"""The native stack's own parts: settings, secrets, processes by pid, HA's restart loop."""

from collections.abc import Callable
import contextlib
from pathlib import Path
import subprocess
import sys
import time

import pytest

from scripts.lib.devstack.credentials import MQTT_USERS, Credentials
from scripts.lib.devstack.layout import REPO, LayoutError, StackLayout
from scripts.lib.devstack.processes import RecordedProcess, ServiceSpec, recorded, start, stop

RESTARTING = REPO / "scripts" / "lib" / "devstack" / "restarting.py"


def test_the_stack_runs_on_the_documented_ports_by_default() -> None:
    """Without variables: HA on 8123, the bridge on 8000, in the repository's .dev folder."""
    layout = StackLayout.from_environment({})
    assert layout.ha_url == "http://127.0.0.1:8123"
    assert layout.bridge_url == "http://127.0.0.1:8000"
    assert (layout.mqtt_port, layout.victoria_port) == (1883, 8428)
    assert layout.root == REPO / ".dev"


def test_every_port_and_the_folder_come_from_the_environment(tmp_path: Path) -> None:
    """Tests run an isolated stack on free ports in a folder of their own."""
    layout = StackLayout.from_environment(
        {
            "DEV_STACK_DIR": str(tmp_path),
            "DEV_STACK_MQTT_PORT": "21883",
            "DEV_STACK_HA_PORT": "28123",
            "DEV_STACK_BRIDGE_PORT": "28000",
            "DEV_STACK_VICTORIA_PORT": "28428",
            "DEV_STACK_SIM_SPEED": "120",
        }
    )
    assert layout.root == tmp_path
    assert layout.ports == {
        "DEV_STACK_MQTT_PORT": 21883,
        "DEV_STACK_HA_PORT": 28123,
        "DEV_STACK_BRIDGE_PORT": 28000,
        "DEV_STACK_VICTORIA_PORT": 28428,
    }
    assert layout.simulator_speed == 120


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEV_STACK_HA_PORT", "http"),
        ("DEV_STACK_MQTT_PORT", "70000"),
        ("DEV_STACK_SIM_SPEED", "-1"),
        ("DEV_STACK_SIM_SPEED", "fast"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    """The message says which variable is wrong."""
    with pytest.raises(LayoutError, match=variable):
        StackLayout.from_environment({variable: value})


def test_credentials_are_random_and_private(tmp_path: Path) -> None:
    """Each secret differs, the file is mode 600, and a second load reads the same ones."""
    path = tmp_path / "stack" / "credentials.json"
    created = Credentials.load_or_create(path)
    secrets = [*created.mqtt_passwords.values(), created.ha_password, created.bridge_api_token]
    assert set(created.mqtt_passwords) == set(MQTT_USERS)
    assert len(set(secrets)) == len(secrets)
    assert all(len(secret) >= 24 for secret in secrets)
    assert path.stat().st_mode & 0o777 == 0o600
    assert Credentials.load_or_create(path) == created
    assert Credentials.load_or_create(tmp_path / "other.json") != created


def test_an_account_added_since_gets_its_password_and_the_others_stay(tmp_path: Path) -> None:
    """Credentials of an older stack are completed, never regenerated."""
    path = tmp_path / "credentials.json"
    older = Credentials.load_or_create(path)
    del older.mqtt_passwords["zigbee2mqtt"]
    older.save(path)
    completed = Credentials.load_or_create(path)
    assert set(completed.mqtt_passwords) == set(MQTT_USERS)
    assert completed.mqtt_passwords["bridge"] == older.mqtt_passwords["bridge"]
    assert completed.ha_password == older.ha_password
    assert Credentials.load(path) == completed


def wait_for(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Poll until the condition holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def living_members(group: int) -> list[str]:
    """Processes of a process group that still run (zombies awaiting their reaper excluded)."""
    listing = subprocess.run(
        ["pgrep", "--pgroup", str(group)], capture_output=True, text=True, check=False
    )
    living = []
    for pid in listing.stdout.split():
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat[stat.rindex(")") + 2] != "Z":
                living.append(pid)
    return living


def spec(tmp_path: Path, *argv: str) -> ServiceSpec:
    """A service running a shell command."""
    return ServiceSpec(name="worker", argv=["bash", "-c", *argv], env={}, cwd=tmp_path)


def test_a_service_is_recorded_and_stopped_by_its_pid(tmp_path: Path) -> None:
    """The pid file names the running process; stopping it ends it and removes the file."""
    record = start(spec(tmp_path, "echo started; exec sleep 60"), tmp_path / "run", tmp_path)
    assert recorded(tmp_path / "run", "worker") == record
    assert record.is_running()
    wait_for(lambda: "started" in (tmp_path / "worker.log").read_text())  # its output is logged
    assert stop(record, tmp_path / "run", timeout=10)
    assert not record.is_running()
    assert recorded(tmp_path / "run", "worker") is None


def test_a_service_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    """After the timeout, the whole process group gets SIGKILL: nothing is left behind."""
    record = start(
        spec(tmp_path, "trap '' TERM; echo trapped; sleep 60 & wait; sleep 60"),
        tmp_path / "run",
        tmp_path,
    )
    wait_for(lambda: "trapped" in (tmp_path / "worker.log").read_text())  # SIGTERM is ignored
    began = time.monotonic()
    assert stop(record, tmp_path / "run", timeout=1)
    assert 1 <= time.monotonic() - began < 8  # SIGTERM did nothing; SIGKILL did, at once
    assert not record.is_running()
    wait_for(lambda: not living_members(record.pid))  # its background child went too


def test_a_reused_pid_is_not_taken_for_ours(tmp_path: Path) -> None:
    """A pid whose start time differs from the recorded one is another program: left alone."""
    other = subprocess.Popen(["sleep", "60"])
    try:
        stranger = RecordedProcess(name="worker", pid=other.pid, start_time=1)
        assert not stranger.is_running()
        assert not stop(stranger, tmp_path, timeout=1)
        assert other.poll() is None  # never signalled
    finally:
        other.kill()
        other.wait()


def test_home_assistant_is_started_again_when_it_asks_for_a_restart(tmp_path: Path) -> None:
    """Exit code 100 (HA's restart) runs the command again; any other code ends the loop."""
    runs = tmp_path / "runs"
    script = f"echo run >> {runs}; [ $(wc -l < {runs}) -lt 3 ] && exit 100; exit 7"
    result = subprocess.run(
        [sys.executable, str(RESTARTING), "bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 7
    assert runs.read_text().count("run") == 3
    assert result.stdout.count("asked for a restart") == 2
