"""Settings of the bridge, read from the environment or a `.env` file.

Every field maps to the environment variable of the same name in upper case (`mqtt_host` is
`MQTT_HOST`); the Compose stack and the Home Assistant add-on set exactly these.
"""

from collections.abc import Iterable
from pathlib import Path
import socket
import sys
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

# Long enough that guessing is hopeless; `openssl rand -hex 32` gives 64 characters.
MIN_API_TOKEN_LENGTH = 16
# Unacknowledged QoS 1 messages the broker may send ahead of the bridge's acknowledgements.
DEFAULT_RECEIVE_MAXIMUM = 10_000
# Homes whose devices one bridge remembers (Z2M_BASE_TOPIC=homes/+/zigbee2mqtt); docs/scale.md
# gives the memory they take.
DEFAULT_MAX_SITES = 50


class MqttSettings(BaseSettings):
    """How to reach the broker Zigbee2MQTT publishes on."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    mqtt_host: str = "localhost"
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls: bool = False
    mqtt_ca_file: FilePath | None = None
    z2m_base_topic: str = Field(default="zigbee2mqtt", min_length=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("z2m_base_topic")
    @classmethod
    def _plain_topic(cls, topic: str) -> str:
        if topic.startswith("$share/"):
            # The base topic also names the topics messages arrive on, which never start so.
            raise ValueError("not a $share/ filter: set MQTT_SHARE_GROUP to share the load")
        if "#" in topic or "\0" in topic or topic.endswith("/"):
            raise ValueError("a topic without wildcards (#) and without a trailing /")
        # One `+` level may name the home (homes/+/zigbee2mqtt): its value tags every point.
        wildcards = [level for level in topic.split("/") if "+" in level]
        if wildcards not in ([], ["+"]) or topic.endswith("+"):
            raise ValueError(
                "at most one +, a whole level before the last, naming the home "
                "(such as homes/+/zigbee2mqtt)"
            )
        return topic


class BridgeSettings(MqttSettings):
    """Everything the recorder and its API need."""

    # Unset: "energy-edge-bridge", or "energy-edge-bridge-<instance id>" in a share group.
    mqtt_client_id: str = ""
    # Instances in one group share the state topics (`$share/<group>/...`); see docs/scale.md.
    mqtt_share_group: str | None = Field(default=None, min_length=1)
    # How long the broker keeps the session, and queues QoS 1 messages, without the bridge.
    mqtt_session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0, le=0xFFFFFFFF)
    mqtt_receive_maximum: int = Field(default=DEFAULT_RECEIVE_MAXIMUM, ge=1, le=65535)
    # Names this bridge in the health measurement and in its client id in a share group.
    bridge_instance_id: str = Field(default_factory=socket.gethostname, min_length=1)
    # A batch is committed (one fsync) after this many messages or this delay, whichever first.
    bridge_commit_max_messages: int = Field(default=2000, ge=1)
    bridge_commit_max_delay_s: float = Field(default=0.05, gt=0, le=10)
    # Beyond this many homes, a new home's readings are recorded without its device list.
    bridge_max_sites: int = Field(default=DEFAULT_MAX_SITES, ge=1)
    influxdb_url: str = "http://localhost:8086"
    influxdb_token: SecretStr | None = None
    influxdb_org: str = Field(default="energy-edge", min_length=1)
    influxdb_bucket: str = Field(default="energy", min_length=1)
    influxdb_measurement: str = Field(default="zigbee2mqtt", min_length=1)
    bridge_spool_dir: Path = Path("/data/spool")
    bridge_spool_max_mb: int = Field(default=512, ge=1)
    # A full spool (its limit, or a full disk) drops the oldest points, or takes no more.
    bridge_spool_full: Literal["evict", "refuse"] = "evict"  # spool.SpoolFull
    bridge_api_token: SecretStr | None = None
    # The container publishes the port; outside a container, 127.0.0.1 keeps the API local.
    bridge_api_host: str = "0.0.0.0"  # noqa: S104
    bridge_api_port: int = Field(default=8000, ge=1, le=65535)
    # Serving /api without a token must be asked for by name.
    bridge_allow_insecure_api: bool = False
    # Routes that answer without the token when asked for by name (/health always does).
    bridge_public_metrics: bool = False
    bridge_public_docs: bool = False
    # How often the bridge records its own health measurement.
    bridge_health_interval_s: float = Field(default=10.0, gt=0, le=3600)
    # The home's main meter (friendly name or IEEE address); by default a ZLinky (Linky meter).
    bridge_grid_meter: str | None = None

    @field_validator("influxdb_token", "bridge_api_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `BRIDGE_API_TOKEN=` in a .env file means no token, not an empty one.
        return None if value == "" else value

    @field_validator("mqtt_share_group")
    @classmethod
    def _group_name(cls, group: str | None) -> str | None:
        if group is not None and any(character in group for character in "/#+\0"):
            raise ValueError("a name without / # +")
        return group

    @model_validator(mode="after")
    def _own_client_id(self) -> Self:
        # Each instance of a share group needs its own session, hence its own client id.
        if not self.mqtt_client_id:
            self.mqtt_client_id = "energy-edge-bridge" + (
                f"-{self.bridge_instance_id}" if self.mqtt_share_group else ""
            )
        return self

    @field_validator("influxdb_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("an http:// or https:// URL, such as http://influxdb:8086")
        return url.rstrip("/")

    @field_validator("influxdb_measurement")
    @classmethod
    def _measurement_name(cls, name: str) -> str:
        # A line starting with # is a comment; names starting with _ are InfluxDB's own.
        if name[0] in "#_" or any(character in name for character in "\n\r"):
            raise ValueError("a name not starting with # or _, on one line")
        return name

    @field_validator("bridge_api_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_API_TOKEN_LENGTH:
            raise ValueError(f"too short: use at least {MIN_API_TOKEN_LENGTH} characters")
        return token

    def missing(self) -> list[str]:
        """What must be set before the bridge runs (the settings alone stay valid without it,
        so that tools can read the defaults)."""
        problems = []
        if self.influxdb_token is None:
            problems.append("INFLUXDB_TOKEN is required: an InfluxDB 2 API token with write access")
        if self.bridge_api_token is None and not self.bridge_allow_insecure_api:
            problems.append(
                "BRIDGE_API_TOKEN is required to protect /api "
                "(or set BRIDGE_ALLOW_INSECURE_API=true to serve it without authentication)"
            )
        return problems


def describe_invalid_settings(error: ValidationError) -> str:
    """Name every invalid environment variable and say what is wrong with it."""
    return describe_problems(
        f"{'_'.join(str(part) for part in problem['loc']).upper()}: "
        + problem["msg"].removeprefix("Value error, ")
        for problem in error.errors()
    )


def describe_problems(problems: Iterable[str]) -> str:
    """The message the bridge stops with."""
    return "\n".join(["invalid settings:", *(f"  {problem}" for problem in problems)])


def read_settings() -> BridgeSettings:
    """The bridge's settings from the environment; SystemExit(2) naming what is wrong."""
    try:
        settings = BridgeSettings()
    except ValidationError as error:
        sys.stderr.write(describe_invalid_settings(error) + "\n")
        raise SystemExit(2) from None
    if missing := settings.missing():
        sys.stderr.write(describe_problems(missing) + "\n")
        raise SystemExit(2)
    return settings
