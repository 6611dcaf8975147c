"""The services of the native stack: how each one starts, with what settings and secrets."""

from collections.abc import Mapping
from dataclasses import dataclass
import importlib.util
import json
import os
from pathlib import Path
import sys

from .credentials import Credentials
from .layout import StackLayout
from .mosquitto import MOSQUITTO, write_broker_config
from .processes import ServiceSpec

# In start order; `down` stops them in reverse.
SERVICES = ("mosquitto", "victoria-metrics", "homeassistant", "bridge", "simulator")

HA_CONFIGURATION = """\
# Written by ./scripts/dev-stack at every start: set the stack through its DEV_STACK_*
# environment variables (docs/native-stack.md) rather than here.
#
# Not `default_config`: its network discovery and hardware integrations (bluetooth, dhcp, ssdp,
# usb, zeroconf, stream, go2rtc, cloud) scan the machine's network and need system libraries,
# for nothing on a development stack. Home Assistant still loads its core integrations
# (frontend, automation, person, ...) by itself; these add what the energy management needs.
config:
energy:
history:
logbook:
  # The Linky's DATE changes with every reading: at the stack's speed, lines by the second.
  exclude:
    entity_globs:
      - sensor.*_current_date
automation: !include automations.yaml
script: !include scripts.yaml
scene: !include scenes.yaml

logger:
  default: warning
  logs:
    custom_components.energy_edge: info
    homeassistant.bootstrap: info
    homeassistant.setup: info
    homeassistant.util.package: info
"""
# HA reads its HTTP settings from YAML once, at its first start, then keeps them in its own
# storage (changed through its API): the block is written for that first start only.
HA_FIRST_START_HTTP = """
http:
  server_host: {host}
  server_port: {port}
"""

# Files the configuration includes, created empty for the UI editors to fill.
INCLUDED_FILES = {"automations.yaml": "[]\n", "scripts.yaml": "", "scenes.yaml": ""}


def build_environment() -> dict[str, str]:
    """CPATH for packages HA would build from source, as ./scripts/setup sets it (see there).

    A Python unpacked into a private prefix keeps its headers where the compiler does not look;
    setup links only them into `<prefix>/python-headers`.
    """
    headers = Path(sys.base_prefix).parent / "python-headers"
    if not headers.is_dir():
        return {}
    return {"CPATH": f"{headers}:{Path(sys.base_prefix) / 'include' / 'python3.14'}"}


def base_environment(layout: StackLayout) -> dict[str, str]:
    """The environment every service inherits: the project's programs first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{layout.venv_bin}:{env.get('PATH', '/usr/bin:/bin')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def mqtt_environment(layout: StackLayout, credentials: Credentials, user: str) -> dict[str, str]:
    """How the bridge and the simulator reach the broker (their settings' variables)."""
    return {
        "MQTT_HOST": layout.host,
        "MQTT_PORT": str(layout.mqtt_port),
        "MQTT_USERNAME": user,
        "MQTT_PASSWORD": credentials.mqtt_passwords[user],
        "Z2M_BASE_TOPIC": "zigbee2mqtt",
        "HA_DISCOVERY_PREFIX": "homeassistant",
    }


@dataclass(frozen=True)
class HttpAddress:
    """Where HA's web server listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The base URL of HA's frontend and APIs."""
        return f"http://{self.host}:{self.port}"


def http_record(layout: StackLayout) -> Path:
    """The address HA's HTTP settings were confirmed with (inside its folder: gone with it)."""
    return layout.ha_config / "dev-stack-http.json"


def confirmed_address(layout: StackLayout) -> HttpAddress | None:
    """The address HA listens on since its HTTP settings were confirmed, if they were."""
    try:
        data = json.loads(http_record(layout).read_text(encoding="utf-8"))
    except OSError, ValueError:
        return None
    return HttpAddress(str(data["host"]), int(data["port"]))


def record_address(layout: StackLayout, address: HttpAddress) -> None:
    """Remember the HTTP settings HA confirmed."""
    http_record(layout).write_text(json.dumps({"host": address.host, "port": address.port}))


def prepare_home_assistant(layout: StackLayout) -> None:
    """HA's configuration folder with Energy Edge linked in as a custom integration."""
    config = layout.ha_config
    (config / "custom_components").mkdir(parents=True, exist_ok=True)
    link = config / "custom_components" / "energy_edge"
    target = layout.repo / "custom_components" / "energy_edge"
    if link.is_symlink() and link.resolve() != target:
        link.unlink()
    if not link.is_symlink():
        link.symlink_to(target, target_is_directory=True)
    configuration = HA_CONFIGURATION
    if confirmed_address(layout) is None:
        configuration += HA_FIRST_START_HTTP.format(host=layout.host, port=layout.ha_port)
    (config / "configuration.yaml").write_text(configuration)
    for included, empty in INCLUDED_FILES.items():
        if not (config / included).exists():
            (config / included).write_text(empty)


def console_script_available(module: str) -> bool:
    """A console script's module can be imported from the project's environment."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def service_specs(layout: StackLayout, credentials: Credentials) -> Mapping[str, ServiceSpec]:
    """Every service's command line, environment and working folder."""
    env = base_environment(layout)
    bin_ = layout.venv_bin
    root = layout.root
    return {
        "mosquitto": ServiceSpec(
            name="mosquitto",
            argv=[MOSQUITTO, "-c", str(write_broker_config(layout, credentials))],
            env=env,
            cwd=root / "mosquitto",
        ),
        "victoria-metrics": ServiceSpec(
            name="victoria-metrics",
            argv=[
                str(bin_ / "victoria-metrics"),
                f"-storageDataPath={root / 'victoria-metrics'}",
                f"-httpListenAddr={layout.host}:{layout.victoria_port}",
                "-loggerLevel=WARN",
            ],
            env=env,
            cwd=root / "victoria-metrics",
        ),
        "homeassistant": ServiceSpec(
            name="homeassistant",
            argv=[
                sys.executable,
                str(Path(__file__).with_name("restarting.py")),
                str(bin_ / "hass"),
                "-c",
                str(layout.ha_config),
                "--log-no-color",
            ],
            env=env | build_environment(),
            cwd=layout.ha_config,
        ),
        "bridge": ServiceSpec(
            name="bridge",
            argv=[str(bin_ / "energy-edge-bridge")],
            env=env
            | mqtt_environment(layout, credentials, "bridge")
            | {
                "INFLUXDB_URL": layout.victoria_url,
                "INFLUXDB_TOKEN": credentials.influxdb_token,
                "INFLUXDB_ORG": "energy-edge",
                "INFLUXDB_BUCKET": "energy",
                "BRIDGE_SPOOL_DIR": str(root / "bridge" / "spool"),
                "BRIDGE_API_TOKEN": credentials.bridge_api_token,
                "BRIDGE_API_PORT": str(layout.bridge_port),
                # A development stack: its Swagger UI opens in a browser (pages, screenshots),
                # which cannot send the token.
                "BRIDGE_PUBLIC_DOCS": "true",
            },
            cwd=root / "bridge",
        ),
        "simulator": ServiceSpec(
            name="simulator",
            argv=[
                str(bin_ / "energy-edge-sim"),
                "--speed",
                f"{layout.simulator_speed:g}",
                *(("--seed", layout.simulator_seed) if layout.simulator_seed else ()),
                *(("--start", layout.simulator_start) if layout.simulator_start else ()),
            ],
            env=env | mqtt_environment(layout, credentials, "simulator"),
            cwd=root / "simulator",
        ),
    }
