"""Settings of the simulator, read from the environment or a `.env` file.

Every field maps to the environment variable of the same name in upper case (`mqtt_host` is
`MQTT_HOST`). The broker's variables are the ones the bridge reads, so one `.env` serves both;
the simulator reads them itself, never through the bridge it exists to test.
"""

from typing import Literal

from pydantic import Field, FilePath, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SimulatorSettings(BaseSettings):
    """How to reach the broker, and where the simulated Zigbee2MQTT publishes on it."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    mqtt_host: str = "localhost"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls: bool = False
    mqtt_ca_file: FilePath | None = None
    z2m_base_topic: str = Field(default="zigbee2mqtt", min_length=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    ha_discovery_prefix: str = Field(default="homeassistant", min_length=1)  # HA_DISCOVERY_PREFIX
    sim_client_id: str = Field(default="energy-edge-simulator", min_length=1)  # SIM_CLIENT_ID
    sim_control_topic: str = Field(default="energy_edge/simulator/control", min_length=1)
    # Zigbee2MQTT republishes every state 30 s after Home Assistant says it is online.
    ha_status_delay_s: float = Field(default=30.0, ge=0)  # HA_STATUS_DELAY_S

    @field_validator("z2m_base_topic")
    @classmethod
    def _plain_topic(cls, topic: str) -> str:
        # The simulator publishes under it: a wildcard or a trailing / makes no valid topic.
        if any(character in topic for character in "#+\0") or topic.endswith("/"):
            raise ValueError("a topic without wildcards (# +) and without a trailing /")
        return topic


def describe_invalid_settings(error: ValidationError) -> str:
    """Name every invalid environment variable and say what is wrong with it."""
    problems = (
        f"{'_'.join(str(part) for part in problem['loc']).upper()}: "
        + problem["msg"].removeprefix("Value error, ")
        for problem in error.errors()
    )
    return "\n".join(["invalid settings:", *(f"  {problem}" for problem in problems)])
