"""Settings of the bridge and the simulator, read from the environment or a `.env` file.

Every field maps to the environment variable of the same name in upper case (`mqtt_host` is
`MQTT_HOST`); the Compose stack and the Home Assistant add-on set exactly these.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MqttSettings(BaseSettings):
    """How to reach the broker Zigbee2MQTT publishes on (shared by the bridge and the simulator)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    mqtt_host: str = "localhost"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls: bool = False
    mqtt_ca_file: Path | None = None
    z2m_base_topic: str = Field(default="zigbee2mqtt", min_length=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class BridgeSettings(MqttSettings):
    """Everything the recorder and its API need."""

    mqtt_client_id: str = Field(default="energy-edge-bridge", min_length=1)
    influxdb_url: str = "http://localhost:8086"
    influxdb_token: SecretStr | None = None
    influxdb_org: str = Field(default="energy-edge", min_length=1)
    influxdb_bucket: str = Field(default="energy", min_length=1)
    influxdb_measurement: str = Field(default="zigbee2mqtt", min_length=1)
    bridge_spool_dir: Path = Path("/data/spool")
    bridge_spool_max_mb: int = Field(default=512, ge=1)
    bridge_api_token: SecretStr | None = None
    bridge_api_port: int = Field(default=8000, ge=1, le=65535)
    # Serving /api without a token must be asked for by name.
    bridge_allow_insecure_api: bool = False
