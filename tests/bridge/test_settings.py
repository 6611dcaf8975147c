"""The bridge reads its settings from the environment and names what is wrong."""

import os
import subprocess
import sys

import pytest

from energy_edge_bridge.__main__ import main
from energy_edge_bridge.settings import MqttSettings


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MQTT_* variables configure the broker connection."""
    monkeypatch.setenv("MQTT_HOST", "broker.lan")
    monkeypatch.setenv("MQTT_PORT", "8883")
    settings = MqttSettings()
    assert (settings.mqtt_host, settings.mqtt_port) == ("broker.lan", 8883)
    assert settings.z2m_base_topic == "zigbee2mqtt"


def test_an_invalid_variable_is_named_and_the_process_fails() -> None:
    """A port that is not a number stops the bridge with a message naming MQTT_PORT."""
    result = subprocess.run(
        [sys.executable, "-m", "energy_edge_bridge"],
        env={**os.environ, "MQTT_PORT": "not-a-port"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "MQTT_PORT" in result.stderr


def test_valid_settings_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """With valid variables the command line does not complain."""
    monkeypatch.setenv("MQTT_PORT", "1883")
    assert main() == 0
