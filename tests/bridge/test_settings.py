"""The bridge reads its settings from the environment, and names what is wrong."""

import os
from pathlib import Path
import subprocess
import sys

from pydantic import ValidationError
import pytest

from energy_edge_bridge.__main__ import describe_invalid_settings, main
from energy_edge_bridge.settings import BridgeSettings, MqttSettings, read_settings

TOKENS = {"INFLUXDB_TOKEN": "influx-token-123456", "BRIDGE_API_TOKEN": "api-token-1234567890"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the machine, and no .env file is read."""
    for name in list(os.environ):
        if name.startswith(("MQTT_", "INFLUXDB_", "BRIDGE_", "Z2M_", "LOG_LEVEL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def invalid(**environment: str) -> str:
    """The message the bridge gives for these variables."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        with pytest.raises(ValidationError) as error:
            BridgeSettings()
    return describe_invalid_settings(error.value)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variable of the issue maps to its setting; defaults fill the rest."""
    for name, value in {
        **TOKENS,
        "MQTT_HOST": "broker.lan",
        "MQTT_PORT": "8883",
        "MQTT_USERNAME": "bridge",
        "MQTT_PASSWORD": "secret",
        "MQTT_TLS": "true",
        "INFLUXDB_URL": "https://influx.lan:8086/",
        "INFLUXDB_ORG": "home",
        "INFLUXDB_BUCKET": "z2m",
        "BRIDGE_SPOOL_DIR": "/var/spool/bridge",
        "BRIDGE_SPOOL_MAX_MB": "64",
        "BRIDGE_API_PORT": "9000",
        "LOG_LEVEL": "DEBUG",
    }.items():
        monkeypatch.setenv(name, value)
    settings = BridgeSettings()
    assert (settings.mqtt_host, settings.mqtt_port, settings.mqtt_tls) == ("broker.lan", 8883, True)
    assert settings.influxdb_url == "https://influx.lan:8086"
    assert (settings.influxdb_org, settings.influxdb_bucket) == ("home", "z2m")
    assert settings.bridge_spool_dir == Path("/var/spool/bridge")
    assert (settings.bridge_spool_max_mb, settings.bridge_api_port) == (64, 9000)
    assert settings.log_level == "DEBUG"
    assert settings.z2m_base_topic == "zigbee2mqtt"
    assert settings.influxdb_measurement == "zigbee2mqtt"


def test_settings_come_from_a_dotenv_file(tmp_path: Path) -> None:
    """A `.env` file in the working directory works like the environment."""
    (tmp_path / ".env").write_text(
        "INFLUXDB_TOKEN=from-dotenv-token\nBRIDGE_API_TOKEN=from-dotenv-api-token\nMQTT_HOST=mosquitto\n"
    )
    settings = BridgeSettings()
    assert settings.mqtt_host == "mosquitto"
    assert settings.influxdb_token is not None
    assert settings.influxdb_token.get_secret_value() == "from-dotenv-token"


def test_the_simulator_settings_need_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """MQTT settings alone are valid (the simulator shares them)."""
    monkeypatch.setenv("MQTT_HOST", "broker.lan")
    assert MqttSettings().mqtt_host == "broker.lan"


def refusal(capsys: pytest.CaptureFixture[str], **environment: str) -> str:
    """What the bridge says when it refuses to start with these variables."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        with pytest.raises(SystemExit) as stop:
            read_settings()
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_the_influxdb_token_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    """Without INFLUXDB_TOKEN the bridge does not start, and says so."""
    message = refusal(capsys, BRIDGE_API_TOKEN=TOKENS["BRIDGE_API_TOKEN"])
    assert "  INFLUXDB_TOKEN is required" in message


def test_the_api_token_is_required_unless_insecure_is_asked_for(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No BRIDGE_API_TOKEN: refused, and the message names the way out."""
    message = refusal(capsys, INFLUXDB_TOKEN=TOKENS["INFLUXDB_TOKEN"])
    assert "BRIDGE_API_TOKEN is required" in message
    assert "BRIDGE_ALLOW_INSECURE_API" in message
    monkeypatch.setenv("INFLUXDB_TOKEN", TOKENS["INFLUXDB_TOKEN"])
    monkeypatch.setenv("BRIDGE_ALLOW_INSECURE_API", "true")
    assert read_settings().bridge_api_token is None


def test_without_secrets_the_settings_still_give_their_defaults() -> None:
    """Tools (the add-on's checks) read defaults without tokens; only starting needs them."""
    settings = BridgeSettings()
    assert settings.bridge_spool_max_mb == 512
    assert len(settings.missing()) == 2


def test_a_short_api_token_is_refused() -> None:
    """A guessable token is no protection."""
    weak = {"BRIDGE_API_TOKEN": "changeme"}  # what people type when asked for a password
    message = invalid(INFLUXDB_TOKEN=TOKENS["INFLUXDB_TOKEN"], **weak)
    assert "BRIDGE_API_TOKEN: too short: use at least 16 characters" in message


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MQTT_PORT", "not-a-port", "valid integer"),
        ("MQTT_PORT", "70000", "less than or equal to 65535"),
        ("Z2M_BASE_TOPIC", "zigbee2mqtt/#", "without wildcards"),
        ("Z2M_BASE_TOPIC", "zigbee2mqtt/", "trailing /"),
        ("INFLUXDB_URL", "influxdb:8086", "http:// or https://"),
        ("BRIDGE_SPOOL_MAX_MB", "0", "greater than or equal to 1"),
        ("MQTT_CA_FILE", "/nonexistent/ca.pem", "does not point to a file"),
        ("LOG_LEVEL", "LOUD", "DEBUG"),
        ("BRIDGE_HEALTH_INTERVAL_S", "0", "greater than 0"),
        ("INFLUXDB_MEASUREMENT", "#comment", "not starting with #"),
        ("INFLUXDB_MEASUREMENT", "_internal", "not starting with # or _"),
    ],
)
def test_an_invalid_variable_is_named(variable: str, value: str, says: str) -> None:
    """The message names the variable and what is wrong with it."""
    message = invalid(**TOKENS, **{variable: value})
    assert f"{variable}: " in message
    assert says in message


def test_the_process_exits_non_zero_naming_the_variable() -> None:
    """`python -m energy_edge_bridge` with a bad port: exit status 2, MQTT_PORT named."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MQTT_", "BRIDGE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "energy_edge_bridge"],
        env={**env, **TOKENS, "MQTT_PORT": "not-a-port"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "MQTT_PORT: Input should be a valid integer" in result.stderr


def test_main_returns_2_on_invalid_settings(capsys: pytest.CaptureFixture[str]) -> None:
    """The console script's entry point reports and returns 2 (no token set here)."""
    assert main() == 2
    assert "INFLUXDB_TOKEN is required" in capsys.readouterr().err
