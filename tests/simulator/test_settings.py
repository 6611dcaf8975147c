"""The simulator reads the broker's variables itself (the bridge's names, so one `.env` serves
both) and names each invalid one before it connects."""

import os
from pathlib import Path

import pytest

from energy_edge_sim.__main__ import main
from energy_edge_sim.settings import SimulatorSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the machine; the test's folder holds any .env."""
    for name in list(os.environ):
        if name.startswith(("MQTT_", "Z2M_", "HA_", "SIM_", "LOG_LEVEL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_defaults_are_zigbee2mqtt_s_and_home_assistant_s() -> None:
    """Zigbee2MQTT's default base topic and Home Assistant's default discovery prefix, on a
    broker at localhost:1883 (MQTT's registered port), without credentials."""
    settings = SimulatorSettings()
    assert (settings.mqtt_host, settings.mqtt_port) == ("localhost", 1883)
    assert settings.mqtt_username is None
    assert settings.mqtt_password is None
    assert settings.z2m_base_topic == "zigbee2mqtt"
    assert settings.ha_discovery_prefix == "homeassistant"


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    """The stack's `.env` sets the broker for the simulator as for the bridge."""
    (tmp_path / ".env").write_text("MQTT_HOST=mosquitto\nMQTT_PASSWORD=from-dotenv\n")
    settings = SimulatorSettings()
    assert settings.mqtt_host == "mosquitto"
    assert settings.mqtt_password is not None
    assert settings.mqtt_password.get_secret_value() == "from-dotenv"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        # MQTT 3.1.1 section 4.7: wildcards are for subscriptions, never in a published topic.
        ("Z2M_BASE_TOPIC", "zigbee2mqtt/#", "without wildcards"),
        ("Z2M_BASE_TOPIC", "zigbee+2mqtt", "without wildcards"),
        ("Z2M_BASE_TOPIC", "zigbee2mqtt/", "trailing /"),
        ("Z2M_BASE_TOPIC", "", "at least 1 character"),
        ("MQTT_PORT", "65536", "less than or equal to 65535"),
        ("MQTT_CA_FILE", "/nonexistent/ca.pem", "does not point to a file"),
        ("LOG_LEVEL", "LOUD", "DEBUG"),
    ],
)
def test_an_invalid_variable_is_named_and_exits_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    says: str,
) -> None:
    """`energy-edge-sim` stops before connecting, naming the variable and what is wrong."""
    monkeypatch.setenv(variable, value)
    assert main([]) == 2
    error = capsys.readouterr().err
    assert error.startswith("invalid settings:\n")
    assert f"  {variable}: " in error
    assert says in error
