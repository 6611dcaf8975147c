"""Bridge settings, read from the environment or a `.env` file."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MqttSettings(BaseSettings):
    """How to reach the broker Zigbee2MQTT publishes on."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    mqtt_host: str = "localhost"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    z2m_base_topic: str = Field(default="zigbee2mqtt", min_length=1)
