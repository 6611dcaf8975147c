"""Where the native stack keeps its files and where its services listen, from the environment."""

from collections.abc import Mapping
from dataclasses import dataclass
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


class LayoutError(ValueError):
    """An environment variable of the stack has a value it cannot use."""


def _port(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise LayoutError(f"{variable}={raw!r}: expected a TCP port number (1-65535)")
    return int(raw)


def _positive(environ: Mapping[str, str], variable: str, default: float) -> float:
    raw = environ.get(variable, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise LayoutError(f"{variable}={raw!r}: expected a positive number")
    return value


@dataclass(frozen=True, kw_only=True)
class StackLayout:
    """The stack's folder, addresses and ports (each port has its own environment variable)."""

    repo: Path
    root: Path
    host: str
    mqtt_port: int
    ha_port: int
    bridge_port: int
    victoria_port: int
    simulator_speed: float
    # The simulated home's seed and start (ISO 8601 with a zone); unset: a random home, now.
    simulator_seed: str | None = None
    simulator_start: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> StackLayout:
        """Read DEV_STACK_* variables; every one has a default."""
        root = Path(environ.get("DEV_STACK_DIR", REPO / ".dev")).absolute()
        return cls(
            repo=REPO,
            root=root,
            host=environ.get("DEV_STACK_HOST", "127.0.0.1"),
            mqtt_port=_port(environ, "DEV_STACK_MQTT_PORT", 1883),
            ha_port=_port(environ, "DEV_STACK_HA_PORT", 8123),
            bridge_port=_port(environ, "DEV_STACK_BRIDGE_PORT", 8000),
            victoria_port=_port(environ, "DEV_STACK_VICTORIA_PORT", 8428),
            simulator_speed=_positive(environ, "DEV_STACK_SIM_SPEED", 60.0),
            simulator_seed=environ.get("DEV_STACK_SIM_SEED") or None,
            simulator_start=environ.get("DEV_STACK_SIM_START") or None,
        )

    @property
    def venv_bin(self) -> Path:
        """The project's virtual environment, where every program of the stack comes from."""
        return self.repo / ".venv" / "bin"

    @property
    def credentials_file(self) -> Path:
        """Every generated secret of the stack (mode 600)."""
        return self.root / "credentials.json"

    @property
    def logs(self) -> Path:
        """One log file per service."""
        return self.root / "logs"

    @property
    def run(self) -> Path:
        """One pid file per running service."""
        return self.root / "run"

    @property
    def ha_config(self) -> Path:
        """Home Assistant's configuration folder."""
        return self.root / "ha"

    @property
    def ha_url(self) -> str:
        """Home Assistant's web interface and APIs."""
        return f"http://{self.host}:{self.ha_port}"

    @property
    def bridge_url(self) -> str:
        """The bridge's REST API (Swagger UI at /docs)."""
        return f"http://{self.host}:{self.bridge_port}"

    @property
    def victoria_url(self) -> str:
        """VictoriaMetrics, the stand-in for InfluxDB 2 (v2 write API at /api/v2/write)."""
        return f"http://{self.host}:{self.victoria_port}"

    @property
    def ports(self) -> dict[str, int]:
        """Each port with the variable that sets it, for clear messages when one is taken."""
        return {
            "DEV_STACK_MQTT_PORT": self.mqtt_port,
            "DEV_STACK_HA_PORT": self.ha_port,
            "DEV_STACK_BRIDGE_PORT": self.bridge_port,
            "DEV_STACK_VICTORIA_PORT": self.victoria_port,
        }
