"""`energy-edge-sim`: clear errors and non-zero exits; a clean start and stop otherwise."""

import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import pytest

from energy_edge_sim.__main__ import main, options_from, parser
from energy_edge_sim.faults import FaultKind
from tests.helpers.mosquitto import Broker, free_port

from .conftest import Recorder


def broker_environment(broker: Broker, password: str | None = None) -> dict[str, str]:
    """The environment variables that point the simulator at a broker."""
    return {
        **os.environ,
        "MQTT_HOST": "127.0.0.1",
        "MQTT_PORT": str(broker.port),
        "MQTT_USERNAME": broker.username,
        "MQTT_PASSWORD": password or broker.password,
    }


def simulator(
    *arguments: str, env: dict[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run `python -m energy_edge_sim` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "energy_edge_sim", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=Path(__file__).parents[2],
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--speed", "0"], "argument --speed: must be above 0"),
        (["--speed", "fast"], "argument --speed: 'fast' is not a number"),
        (["--speed", "inf"], "argument --speed: must be above 0"),
        (["--duration", "5x"], "argument --duration: '5x' is not a positive duration"),
        (["--duration", "0"], "argument --duration"),
        (["--devices", "0"], "argument --devices: must be between 1 and 5000"),
        (["--devices", "many"], "argument --devices: 'many' is not a whole number"),
        (["--start", "2025-01-15T18:00:00"], "argument --start: give a time zone"),
        (["--start", "yesterday"], "argument --start: 'yesterday' is not an ISO 8601"),
        (["--household", "villa"], "argument --household: invalid choice"),
        (["--reboot-rate", "-1"], "argument --reboot-rate: must be zero or more"),
        (["--pv-kwp", "lots"], "argument --pv-kwp: 'lots' is not a number"),
        (["--linky-kwh-decimals", "7"], "argument --linky-kwh-decimals: must be 0, 1, 2 or 3"),
        (["--linky-mode", "legacy"], "argument --linky-mode: invalid choice"),
    ],
)
def test_invalid_options_are_named_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each invalid option stops the simulator before it connects, saying which and why."""
    with pytest.raises(SystemExit) as stopped:
        main(arguments)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_an_invalid_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port that is not a number names MQTT_PORT; a negative delay names HA_STATUS_DELAY_S."""
    monkeypatch.setenv("MQTT_PORT", "not-a-port")
    monkeypatch.setenv("HA_STATUS_DELAY_S", "-1")
    assert main([]) == 2
    error = capsys.readouterr().err
    assert "MQTT_PORT" in error
    assert "HA_STATUS_DELAY_S" in error


def test_an_unreachable_broker_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listens on the port: exit 1 with the address and the reason."""
    port = free_port()
    monkeypatch.setenv("MQTT_HOST", "127.0.0.1")
    monkeypatch.setenv("MQTT_PORT", str(port))
    assert main(["--duration", "1m"]) == 1
    assert f"cannot reach the MQTT broker at 127.0.0.1:{port}" in capsys.readouterr().err


def test_wrong_credentials_are_a_clear_error(broker: Broker) -> None:
    """The broker refuses a wrong password: exit 1, the broker's reason on stderr."""
    result = simulator("--duration", "1m", env=broker_environment(broker, password="wrong"))  # noqa: S106
    assert result.returncode == 1
    assert f"the MQTT broker at 127.0.0.1:{broker.port} refused the connection" in result.stderr
    assert "authori" in result.stderr.lower()


def test_a_run_ends_after_its_duration_and_says_goodbye(broker: Broker, recorder: Recorder) -> None:
    """Two simulated minutes at speed 120 take a second; the bridge goes offline, exit code 0."""
    started = time.monotonic()
    result = simulator(
        "--seed",
        "3",
        "--speed",
        "120",
        "--duration",
        "2m",
        "--start",
        "2025-01-15T19:00:00+01:00",
        env=broker_environment(broker),
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 15
    assert (
        "simulating fr-house with 9 devices from 2025-01-15T19:00:00+01:00 at speed 120 (seed 3)"
        in result.stderr
    )
    recorder.settle()
    states = recorder.on("zigbee2mqtt/bridge/state")
    assert states[-1].json() == {"state": "offline"}
    assert states[-1].retain
    assert len(recorder.on("zigbee2mqtt/linky")) == 3  # at 19:00, 19:01 and 19:02


def test_sigterm_stops_gracefully(broker: Broker, recorder: Recorder) -> None:
    """Docker's SIGTERM ends the run cleanly: bridge offline, exit code 0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "energy_edge_sim", "--speed", "10"],
        env=broker_environment(broker),
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        recorder.wait_for(lambda m: m.topic == "zigbee2mqtt/linky", timeout=15)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    recorder.settle()
    assert recorder.on("zigbee2mqtt/bridge/state")[-1].json() == {"state": "offline"}


def test_options_come_from_the_flags() -> None:
    """Flags become simulation options; without --seed a random seed is drawn."""
    arguments = parser().parse_args(
        [
            "--speed",
            "60",
            "--duration",
            "2h",
            "--devices",
            "40",
            "--no-ha-discovery",
            "--availability",
            "--linky-mode",
            "historic",
            "--pv-kwp",
            "3",
            "--dropout-rate",
            "0.5",
            "--linky-silent-rate",
            "1",
            "--ha-status-delay",
            "5",
            "--last-seen",
        ]
    )
    options = options_from(arguments)
    assert (options.speed, options.duration_s, options.scale_plugs) == (60, 7200, 40)
    assert not options.ha_discovery
    assert options.availability
    assert options.last_seen
    assert options.pv_peak_w == 3000
    assert options.ha_status_delay_s == 5
    assert options.fault_rates_per_hour == {FaultKind.DROPOUT: 0.5, FaultKind.LINKY_SILENT: 1.0}
    assert 0 <= options.seed < 2**31
    assert options_from(parser().parse_args(["--seed", "9", "--duration", "90"])).duration_s == 90
