"""The stack's secrets: random at the first start, kept in one file only its owner can read."""

from dataclasses import asdict, dataclass, field
import json
import os
from pathlib import Path
import secrets

# One broker account per client, each allowed only the topics it needs (see mosquitto.py);
# `zigbee2mqtt` for a real Zigbee2MQTT pointed at the stack.
MQTT_USERS = ("homeassistant", "bridge", "simulator", "zigbee2mqtt", "developer")


def _token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(kw_only=True)
class Credentials:
    """Passwords and tokens of every part of the stack."""

    mqtt_passwords: dict[str, str] = field(
        default_factory=lambda: {user: _token() for user in MQTT_USERS}
    )
    ha_username: str = "owner"
    ha_password: str = field(default_factory=_token)
    ha_token: str | None = None
    bridge_api_token: str = field(default_factory=_token)
    influxdb_token: str = field(default_factory=_token)

    @classmethod
    def load(cls, path: Path) -> Credentials:
        """Read the file written by `save`."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**data)

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        """The saved credentials (completed with accounts added since), or new random ones."""
        if not path.exists():
            created = cls()
            created.save(path)
            return created
        saved = cls.load(path)
        if missing := set(MQTT_USERS) - set(saved.mqtt_passwords):
            saved.mqtt_passwords |= {user: _token() for user in sorted(missing)}
            saved.save(path)
        return saved

    def save(self, path: Path) -> None:
        """Write atomically, readable by the owner only (mode 600)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(asdict(self), file, indent=2, sort_keys=True)
            file.write("\n")
        partial.replace(path)
