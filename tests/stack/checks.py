"""Static checks of the Docker stack in `compose/`; there is no Docker engine where tests run.

Each check reads a compose folder (the real one, or a broken copy made by a test) and returns
the problems it finds, in words a reader can act on; an empty list means the check passes.
"""

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
from functools import cached_property
import importlib.util
import json
import os
from pathlib import Path, PurePosixPath
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from types import ModuleType
from typing import Any

import yaml

from energy_edge_bridge import schema
from energy_edge_bridge.settings import BridgeSettings
from energy_edge_sim.settings import SimulatorSettings

REPO = Path(__file__).resolve().parents[2]
FLUX_CHECKER = Path(__file__).with_name("flux") / "check.mjs"
FLUX_PARSER_INSTALLER = REPO / "scripts/lib/provision-flux-parser"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
YAMLLINT = Path(sys.executable).with_name("yamllint")

CORE_SERVICES = frozenset({"mosquitto", "influxdb", "grafana", "homeassistant", "bridge"})
PROFILES = {
    "simulation": CORE_SERVICES | {"simulator"},
    "hardware": CORE_SERVICES | {"zigbee2mqtt"},
}
# Where each service keeps what must survive an upgrade: always on a named volume.
STATEFUL_PATHS = {
    "mosquitto": "/mosquitto/data",
    "influxdb": "/var/lib/influxdb2",
    "grafana": "/var/lib/grafana",
    "homeassistant": "/config",
    "bridge": "/data",
    "zigbee2mqtt": "/app/data",
}
# A 4 GB Raspberry Pi 4 keeps at least 1 GiB for the OS and the page cache.
MEMORY_BUDGET_BYTES = 3 * 1024**3
MINIMUM_HOME_ASSISTANT = (2026, 10)
DATASOURCE_UID = "energy-edge-influxdb"
# Panels name their data source through a variable, so a dashboard imported into another Grafana
# (Home Assistant OS users, docs/grafana.md) asks for its InfluxDB instead of a missing uid.
DATASOURCE_VARIABLE = "datasource"
DATASOURCE_REF = {"type": "influxdb", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
CUSTOM_COMPONENT_TARGET = "/config/custom_components/energy_edge"
PROTOCOL_LIBRARY_TARGET = "/energy-edge/protocol"

# Energy Edge's entities that Home Assistant exports to InfluxDB (the integration's contract).
ENERGY_EDGE_ENTITIES = frozenset(
    {
        "sensor.energy_edge_home_power",
        "sensor.energy_edge_untracked_power",
        "sensor.energy_edge_home_energy",
        "sensor.energy_edge_devices_online",
        "sensor.energy_edge_home_cost",
        "sensor.energy_edge_current_price",
        "sensor.energy_edge_power_headroom",
        "sensor.energy_edge_shed_loads",
        "binary_sensor.energy_edge_overload",
    }
)
# With `measurement_attr: entity_id`, HA writes an entity's numeric state as the field `value`.
HA_VALUE_FIELD = "value"
# Each metered device's cost sensor (named after its device: `sensor.<device>_cost`) goes to one
# measurement, a series per entity, through the export's `component_config_glob`.
DEVICE_COST_MEASUREMENT = "energy_edge_device_cost"
A_DEVICE_COST = "sensor.water_heater_cost"
# The cost HA's Energy dashboard makes for the Linky's counter priced by Energy Edge: the grid's.
ENERGY_DASHBOARD_COST = "sensor.linky_grid_import_energy_cost"

# Numeric properties that Zigbee2MQTT 2.x exposes for the devices the project knows, each a
# float field of the bridge's state measurement (exposes in /work/shared/reference/zigbee2mqtt/).
Z2M_NUMERIC_PROPERTIES = frozenset(
    {
        # Metered plugs: TuYa TS011F, IKEA INSPELNING, Aqara SP-EUC01.
        "power",
        "energy",
        "current",
        "voltage",
        "linkquality",
        "device_temperature",
        # LiXee ZLinky_TIC, standard and historic modes (zigbee-herdsman-converters' lixee.ts).
        "apparent_power",  # SINSTS (phase 1 in three-phase) or PAPP, VA
        "total_apparent_power",  # SINSTS of a three-phase standard meter, VA
        "available_power",  # PREF, kVA; ISOUSC, A
        "current_summ_delivered",  # EAST or BASE, kWh
        # EASF01-EASF10; HCHC, HCHP; Tempo's BBRHCJB ... BBRHPJR (historic), kWh
        *(f"current_tier{index}_summ_delivered" for index in range(1, 11)),
        "current_index_tarif",  # NTARF
        "rms_current",  # IRMS1, A
        "rms_voltage",  # URMS1, V
        "active_power",
        "power_threshold",
    }
)

INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
VERSION_TAG = re.compile(r"^v?\d+(\.\d+)+$")
MEMORY = re.compile(r"^(\d+)([kmg]?)b?$", re.IGNORECASE)
GRAFANA_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")
ADD_USER = re.compile(r'^add_user (\S+) "\$\{(\w+):-\}"$', re.MULTILINE)


def is_secret(name: str) -> bool:
    """Whether a variable holds a secret that ./scripts/stack generates."""
    return name.endswith(("_PASSWORD", "_TOKEN"))


def strings_in(node: Any) -> Iterator[str]:
    """Every string value in a parsed YAML or JSON tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


def as_mapping(environment: Any) -> dict[str, str]:
    """A service's `environment`, in either of Compose's two forms."""
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {key: str(value) for key, value in (environment or {}).items()}


def memory_bytes(text: str) -> int:
    """Compose's memory notation (`128M`, `1g`, `512mb`) in bytes."""
    match = MEMORY.match(text.strip())
    if match is None:
        raise ValueError(f"not a memory size: {text!r}")
    return int(match[1]) * 1024 ** " kmg".index(match[2].lower() or " ")


@dataclass(frozen=True)
class Mount:
    """One entry of a service's `volumes`, in short syntax."""

    source: str
    target: str
    read_only: bool

    @property
    def is_named_volume(self) -> bool:
        """Named volumes are names; bind mounts are paths."""
        return not self.source.startswith(("/", ".", "~"))

    @classmethod
    def parse(cls, entry: str) -> Mount:
        """Parse `source:target[:mode]`."""
        source, target, *mode = entry.split(":")
        return cls(source, target, "ro" in mode)


class Stack:
    """A compose folder: the stack's files, parsed on demand."""

    def __init__(self, root: Path) -> None:
        """Read the stack in `root` (a `compose/` folder beside the repository's other parts)."""
        self.root = root

    @cached_property
    def compose(self) -> dict[str, Any]:
        """docker-compose.yml, with YAML anchors resolved."""
        data = yaml.safe_load((self.root / "docker-compose.yml").read_text())
        assert isinstance(data, dict)
        return data

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        """The services by name."""
        return self.compose["services"]  # type: ignore[no-any-return]

    def environment(self, service: str) -> dict[str, str]:
        """A service's environment."""
        return as_mapping(self.services[service].get("environment"))

    def mounts(self, service: str) -> list[Mount]:
        """A service's volumes."""
        return [Mount.parse(entry) for entry in self.services[service].get("volumes", [])]

    def host_path(self, source: str) -> Path:
        """Where a bind mount's relative source is, seen from the compose folder."""
        return (self.root / source).resolve()

    @cached_property
    def env_example(self) -> dict[str, str]:
        """The variables of .env.example with their default values."""
        entries = {}
        for line in (self.root / ".env.example").read_text().splitlines():
            if match := ENV_LINE.match(line):
                entries[match[1]] = match[2]
        return entries

    def compose_files(self) -> list[Path]:
        """Every Compose file of the folder (the stack and its overrides)."""
        return sorted(self.root.glob("docker-compose*.yml"))

    def dashboards(self) -> dict[str, Any]:
        """The provisioned dashboards by file name (invalid JSON raises)."""
        return {
            path.name: json.loads(path.read_text())
            for path in sorted((self.root / "grafana/dashboards").glob("*.json"))
        }


# --- Compose ------------------------------------------------------------------------------


def compose_schema_problems(stack: Stack) -> list[str]:
    """Every Compose file against the Compose specification's JSON schema."""
    problems = []
    for path in stack.compose_files():
        result = subprocess.run(
            [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            problems.append(f"{path.name}: {(result.stdout + result.stderr).strip()}")
    return problems


def yaml_lint_problems(stack: Stack) -> list[str]:
    """yamllint over every YAML file of the stack, with compose/.yamllint."""
    result = subprocess.run(
        [
            str(YAMLLINT),
            "--format",
            "parsable",
            "--config-file",
            str(stack.root / ".yamllint"),
            str(stack.root),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return [line.replace(f"{stack.root}/", "") for line in result.stdout.splitlines() if line]


def interpolated_variables(stack: Stack) -> dict[str, set[str]]:
    """Each variable the Compose files interpolate, with the default or check it comes with."""
    variables: dict[str, set[str]] = {}
    for path in stack.compose_files():
        for text in strings_in(yaml.safe_load(path.read_text())):
            for match in INTERPOLATION.finditer(text):
                name = match[1] or match[3]
                if name:
                    variables.setdefault(name, set()).add(match[2] or "")
    return variables


def interpolation_problems(stack: Stack) -> list[str]:
    """Every ${VAR} of the Compose files is in .env.example, and every entry there is used."""
    used = interpolated_variables(stack)
    declared = stack.env_example
    return [
        f"${{{name}}} is used in a Compose file but missing from .env.example"
        for name in sorted(used.keys() - declared.keys())
    ] + [
        f"{name} is in .env.example but no Compose file uses it"
        for name in sorted(declared.keys() - used.keys())
    ]


def secret_problems(stack: Stack) -> list[str]:
    """No default password anywhere: secrets are empty in .env.example and come from .env."""
    problems = [
        f".env.example gives {name} a default value: secrets must be left empty (generated)"
        for name, value in stack.env_example.items()
        if is_secret(name) and value
    ]
    for name, suffixes in interpolated_variables(stack).items():
        if is_secret(name) and any(suffixes):
            problems.append(f"${{{name}}} has a default or fallback in a Compose file")
    for service in stack.services:
        for key, value in stack.environment(service).items():
            if re.search(r"PASSWORD|TOKEN", key) and not INTERPOLATION.fullmatch(value):
                problems.append(f"{service}: {key} is written in the Compose file, not from .env")
    return problems


def profile_problems(stack: Stack) -> list[str]:
    """Each profile starts exactly its services; the simulator and Zigbee2MQTT never together."""
    problems = []
    for profile, expected in PROFILES.items():
        active = {
            name
            for name, service in stack.services.items()
            if not service.get("profiles") or profile in service["profiles"]
        }
        if active != expected:
            problems.append(
                f"profile {profile} starts {sorted(active)}, expected {sorted(expected)}"
            )
    return problems


def healthcheck_problems(stack: Stack) -> list[str]:
    """Every service has a healthcheck and restarts unless stopped."""
    problems = []
    for name, service in stack.services.items():
        test = service.get("healthcheck", {}).get("test")
        if not test or test == ["NONE"] or service["healthcheck"].get("disable"):
            problems.append(f"{name} has no healthcheck")
        if service.get("restart") != "unless-stopped":
            problems.append(f"{name} does not have restart: unless-stopped")
    return problems


def image_tag(image: str) -> str | None:
    """The tag of an image reference (`registry:5000/name:tag`), None without one."""
    last = image.split("@", maxsplit=1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def image_problems(stack: Stack) -> list[str]:
    """Every image pinned to a version; built ones tagged with the project's version."""
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    problems = []
    for name, service in stack.services.items():
        image = service.get("image")
        if image is None:
            problems.append(f"{name} has no image")
            continue
        tag = image_tag(image)
        if tag is None or not VERSION_TAG.match(tag):
            problems.append(f"{name}: image {image} is not pinned to a version")
        elif "build" in service and tag != version:
            problems.append(f"{name}: built image {image} is not tagged {version}")
        elif "home-assistant" in image:
            release = tuple(int(part) for part in tag.split(".")[:2])
            if release < MINIMUM_HOME_ASSISTANT:
                problems.append(f"{name}: Home Assistant {tag} is older than 2026.10")
    return problems


def dependency_problems(stack: Stack) -> list[str]:
    """Services wait for their dependencies to be healthy, never merely started."""
    problems = []
    for name, service in stack.services.items():
        depends_on = service.get("depends_on", {})
        if isinstance(depends_on, list):
            problems.append(f"{name}: depends_on must wait with condition: service_healthy")
            continue
        for dependency, options in depends_on.items():
            if dependency not in stack.services:
                problems.append(f"{name} depends on {dependency}, which is not a service")
            elif options.get("condition") != "service_healthy":
                problems.append(f"{name} does not wait for {dependency} to be healthy")
            elif stack.services[dependency].get("profiles"):
                problems.append(f"{name} depends on {dependency}, which only runs in a profile")
    return problems


def resource_problems(stack: Stack) -> list[str]:
    """Rotated logs and a memory limit everywhere; each profile fits a 4 GB Raspberry Pi."""
    problems = []
    limits = {}
    for name, service in stack.services.items():
        if not service.get("logging", {}).get("options", {}).get("max-size"):
            problems.append(f"{name} has no log rotation (logging.options.max-size)")
        limit = service.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory")
        if limit is None:
            problems.append(f"{name} has no memory limit")
        else:
            limits[name] = memory_bytes(str(limit))
    for profile, services in PROFILES.items():
        total = sum(limits.get(service, 0) for service in services)
        if total > MEMORY_BUDGET_BYTES:
            problems.append(f"profile {profile} may use {total / 1024**3:.2f} GiB, over 3 GiB")
    return problems


def volume_problems(stack: Stack) -> list[str]:
    """Data lives on declared named volumes; bind-mounted sources exist."""
    declared = set(stack.compose.get("volumes") or {})
    problems = []
    for name in stack.services:
        mounts = stack.mounts(name)
        for mount in mounts:
            if mount.is_named_volume and mount.source not in declared:
                problems.append(f"{name} mounts volume {mount.source}, which is not declared")
            if (
                not mount.is_named_volume
                and mount.source.startswith(".")
                and not (stack.host_path(mount.source).exists())
            ):
                problems.append(f"{name} mounts {mount.source}, which does not exist")
        if name in STATEFUL_PATHS and not any(
            mount.target == STATEFUL_PATHS[name] and mount.is_named_volume for mount in mounts
        ):
            problems.append(f"{name} keeps {STATEFUL_PATHS[name]} outside a named volume")
    return problems


def settings_problems(stack: Stack) -> list[str]:
    """The bridge and the simulator get only variables their settings know."""
    known_bridge = {field.upper() for field in BridgeSettings.model_fields}
    known_simulator = {field.upper() for field in SimulatorSettings.model_fields}
    problems = [
        f"{service}: {key} is not a setting of the {service}"
        for service, known in (("bridge", known_bridge), ("simulator", known_simulator))
        for key in stack.environment(service)
        if key not in known
    ]
    measurement = stack.environment("bridge").get("INFLUXDB_MEASUREMENT")
    if measurement != schema.STATE_MEASUREMENT:
        problems.append(
            f"bridge writes states to {measurement!r}; the dashboards read "
            f"{schema.STATE_MEASUREMENT!r}"
        )
    return problems


# --- InfluxDB tokens ----------------------------------------------------------------------

# What each client does with the bucket: the bridge writes readings and queries them for its
# /api/history, Home Assistant's InfluxDB export only writes, Grafana's dashboards only read.
INFLUXDB_CLIENTS = {
    "bridge": frozenset({"read", "write"}),
    "homeassistant": frozenset({"write"}),
    "grafana": frozenset({"read"}),
}


def token_issuer(stack: Stack) -> ModuleType:
    """The stack's influxdb/issue_tokens.py, loaded as a module."""
    path = stack.root / "influxdb/issue_tokens.py"
    spec = importlib.util.spec_from_file_location(f"issue_tokens_{id(stack)}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def influxdb_token_problems(stack: Stack) -> list[str]:
    """Only InfluxDB gets the admin token; each client its own token, with what it needs only."""
    roles = {role.variable: frozenset(role.actions) for role in token_issuer(stack).ROLES}
    problems = [
        f"{service} receives the InfluxDB admin token ({key})"
        for service in stack.services
        if service != "influxdb"
        for key, value in stack.environment(service).items()
        if "${INFLUXDB_ADMIN_TOKEN}" in value
    ]
    owners: dict[str, list[str]] = {}
    for service, needs in INFLUXDB_CLIENTS.items():
        match = INTERPOLATION.fullmatch(stack.environment(service).get("INFLUXDB_TOKEN", ""))
        variable = match[1] if match else ""
        owners.setdefault(variable, []).append(service)
        if variable not in roles:
            problems.append(f"{service}: INFLUXDB_TOKEN is not a token issue_tokens.py issues")
        elif roles[variable] != needs:
            problems.append(
                f"{service}: {variable} may {' and '.join(sorted(roles[variable]))} the bucket;"
                f" it needs {' and '.join(sorted(needs))}"
            )
    problems += [
        f"{' and '.join(services)} share {variable}"
        for variable, services in owners.items()
        if variable and len(services) > 1
    ]
    return problems


# --- Mosquitto ----------------------------------------------------------------------------


def acl_users(acl_text: str) -> dict[str, list[tuple[str, str]]]:
    """Each user of an ACL file with its (access, topic) rules."""
    users: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in acl_text.splitlines():
        line = raw.strip()
        if line.startswith("user "):
            current = line.split(None, 1)[1]
            users[current] = []
        elif line.startswith("topic ") and current is not None:
            _, access, topic = line.split(None, 2)
            users[current].append((access, topic))
    return users


def broker_users(stack: Stack) -> dict[str, str]:
    """The MQTT users the broker's start script creates, with their password variable."""
    return dict(ADD_USER.findall((stack.root / "mosquitto/start.sh").read_text()))


def mqtt_clients(stack: Stack) -> dict[str, tuple[str, str]]:
    """Each MQTT client service with its username and the variable of its password."""
    clients = {}
    for name in stack.services:
        environment = stack.environment(name)
        for user_key, password_key in (
            ("MQTT_USERNAME", "MQTT_PASSWORD"),
            ("ZIGBEE2MQTT_CONFIG_MQTT_USER", "ZIGBEE2MQTT_CONFIG_MQTT_PASSWORD"),
        ):
            if user_key in environment:
                password = INTERPOLATION.fullmatch(environment.get(password_key, ""))
                clients[name] = (environment[user_key], password[1] if password else "")
    return clients


def mosquitto_problems(stack: Stack) -> list[str]:
    """Anonymous clients are refused; every ACL user exists, and every client is an ACL user."""
    config = (stack.root / "mosquitto/mosquitto.conf").read_text()
    directives = dict(
        line.split(None, 1) for line in config.splitlines() if line and not line.startswith("#")
    )
    problems = []
    if directives.get("allow_anonymous") != "false":
        problems.append("mosquitto.conf does not say allow_anonymous false")
    problems += [
        f"mosquitto.conf has no {directive}"
        for directive in ("password_file", "acl_file")
        if directive not in directives
    ]
    # A QoS 0 state must reach the bridge's QoS 1 session at QoS 1, or a crash loses it.
    for directive in ("queue_qos0_messages", "upgrade_outgoing_qos"):
        if directives.get(directive) != "true":
            problems.append(f"mosquitto.conf does not say {directive} true")
    acl = acl_users((stack.root / "mosquitto/acl").read_text())
    created = broker_users(stack)
    environment = stack.environment("mosquitto")
    problems += [
        f"ACL user {user} is never created by mosquitto/start.sh"
        for user in sorted(acl.keys() - created.keys() - {"healthcheck"})
    ]
    problems += [
        f"MQTT user {user} has no ACL entry: it could do nothing"
        for user in sorted(created.keys() - acl.keys())
    ]
    problems += [
        f"mosquitto does not receive {variable}, the password of {user}"
        for user, variable in created.items()
        if environment.get(variable) != f"${{{variable}}}"
    ]
    for service, (user, password_variable) in mqtt_clients(stack).items():
        if user not in acl:
            problems.append(f"{service} logs in as {user}, who is not in the ACL")
        elif created.get(user) != password_variable:
            problems.append(f"{service} logs in as {user} with ${{{password_variable}}}")
    return problems


# --- Home Assistant -----------------------------------------------------------------------


@dataclass(frozen=True)
class EnvVar:
    """`!env_var NAME` in Home Assistant's YAML, unresolved."""

    name: str


class HomeAssistantYaml(yaml.SafeLoader):
    """Reads HA's YAML keeping `!env_var` and `!include` as markers."""


HomeAssistantYaml.add_constructor(
    "!env_var", lambda loader, node: EnvVar(loader.construct_scalar(node).split()[0])
)
HomeAssistantYaml.add_constructor("!include", lambda loader, node: loader.construct_scalar(node))


@contextlib.contextmanager
def environment_set(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (HA's loader reads !env_var from there)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def home_assistant_config_dir(stack: Stack, workdir: Path) -> Path:
    """/config as the container sees it: the compose mounts, and what start.sh creates."""
    config_dir = workdir / "config"
    config_dir.mkdir()
    for mount in stack.mounts("homeassistant"):
        target = PurePosixPath(mount.target)
        if mount.is_named_volume or not target.is_relative_to("/config"):
            continue
        destination = config_dir / target.relative_to("/config")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.symlink_to(stack.host_path(mount.source))
    subprocess.run(
        ["sh", str(stack.root / "homeassistant/start.sh")],
        env={**os.environ, "HA_CONFIG_DIR": str(config_dir), "HA_INIT": "true"},
        check=True,
        timeout=30,
    )
    return config_dir


def validate_with_home_assistant(config_dir: Path, environment: dict[str, str]) -> list[str]:
    """Load configuration.yaml with HA's own loader and validate it with HA's own schemas."""
    from homeassistant.components.influxdb import CONFIG_SCHEMA as INFLUXDB_SCHEMA
    from homeassistant.components.logger import CONFIG_SCHEMA as LOGGER_SCHEMA
    from homeassistant.components.recorder import CONFIG_SCHEMA as RECORDER_SCHEMA
    from homeassistant.exceptions import HomeAssistantError
    from homeassistant.util.yaml import load_yaml_dict
    import probatio

    with environment_set({name: f"placeholder-{name.lower()}" for name in environment}):
        try:
            config = load_yaml_dict(config_dir / "configuration.yaml")
        except HomeAssistantError as error:
            return [f"Home Assistant cannot load configuration.yaml: {error}"]
    problems = []
    for schema_of_domain in (INFLUXDB_SCHEMA, RECORDER_SCHEMA, LOGGER_SCHEMA):
        try:
            schema_of_domain(config)
        except probatio.Invalid as error:
            problems.append(f"Home Assistant rejects configuration.yaml: {error}")
    return problems


def entity_included(entity_id: str, include: dict[str, Any]) -> bool:
    """Whether HA's include filter (entities, domains, globs) lets an entity through."""
    from fnmatch import fnmatchcase

    return (
        entity_id in include.get("entities", [])
        or entity_id.split(".", maxsplit=1)[0] in include.get("domains", [])
        or any(fnmatchcase(entity_id, glob) for glob in include.get("entity_globs", []))
    )


def measurement_of(entity_id: str, export: dict[str, Any]) -> str:
    """The measurement HA's export writes an entity to (`measurement_attr: entity_id`), with its
    per-entity overrides applied as HA's EntityValues does: domain, then globs, then the entity."""
    from fnmatch import fnmatchcase

    settings: dict[str, Any] = {}
    settings.update(
        (export.get("component_config_domain") or {}).get(entity_id.split(".", maxsplit=1)[0], {})
    )
    for glob, values in (export.get("component_config_glob") or {}).items():
        if fnmatchcase(entity_id, glob):
            settings.update(values)
    settings.update((export.get("component_config") or {}).get(entity_id, {}))
    return str(settings.get("override_measurement") or entity_id)


def home_assistant_problems(stack: Stack) -> list[str]:
    """HA exports Energy Edge's entities to InfluxDB 2 as the dashboards expect, and loads it."""
    problems = []
    mounts = {mount.target: mount for mount in stack.mounts("homeassistant")}
    component = mounts.get(CUSTOM_COMPONENT_TARGET)
    if component is None or not component.read_only:
        problems.append(f"energy_edge is not mounted read-only at {CUSTOM_COMPONENT_TARGET}")
    else:
        manifest = json.loads((stack.host_path(component.source) / "manifest.json").read_text())
        if manifest.get("domain") != "energy_edge":
            problems.append(f"{component.source} is not the energy_edge integration")
    # The integration requires its Zigbee2MQTT library at the checkout's version, which PyPI has
    # only once released: start.sh installs it from the checkout before Home Assistant starts.
    library = mounts.get(PROTOCOL_LIBRARY_TARGET)
    if library is None or not library.read_only:
        problems.append(
            f"the protocol library is not mounted read-only at {PROTOCOL_LIBRARY_TARGET}"
        )
    elif not (stack.host_path(library.source) / "zigbee2mqtt_protocol").is_dir():
        problems.append(f"{library.source} is not the zigbee2mqtt-protocol library")
    config_mount = mounts.get("/config/configuration.yaml")
    if config_mount is None or not config_mount.read_only:
        return [*problems, "configuration.yaml is not mounted read-only at /config"]

    config_text = stack.host_path(config_mount.source).read_text()
    config = yaml.load(config_text, Loader=HomeAssistantYaml)  # noqa: S506 (SafeLoader subclass)
    export = config.get("influxdb")
    if not isinstance(export, dict):
        return [*problems, "configuration.yaml has no influxdb: export"]
    if str(export.get("api_version")) != "2":
        problems.append("the InfluxDB export does not use api_version 2")
    environment = stack.environment("homeassistant")
    for key in ("token", "organization", "bucket"):
        value = export.get(key)
        if not isinstance(value, EnvVar):
            problems.append(f"influxdb: {key} is not read from the environment (!env_var)")
        elif value.name not in environment:
            problems.append(f"influxdb: {key} reads {value.name}, which HA's container lacks")
    if (
        export.get("measurement_attr") != "entity_id"
        or {
            "override_measurement",
            "default_measurement",
        }
        & export.keys()
    ):
        problems.append(
            "the export must name measurements after entity ids (dashboards rely on it)"
        )
    include = export.get("include") or {}
    problems += [
        f"the InfluxDB export leaves out {entity_id}"
        for entity_id in sorted(ENERGY_EDGE_ENTITIES | {A_DEVICE_COST})
        if not entity_included(entity_id, include)
    ]
    problems += [
        f"the InfluxDB export writes {entity_id} to {measurement!r}, not {expected!r}"
        for entity_id, expected in (
            (A_DEVICE_COST, DEVICE_COST_MEASUREMENT),
            (ENERGY_DASHBOARD_COST, ENERGY_DASHBOARD_COST),
            *((entity_id, entity_id) for entity_id in sorted(ENERGY_EDGE_ENTITIES)),
        )
        if (measurement := measurement_of(entity_id, export)) != expected
    ]
    with tempfile.TemporaryDirectory() as workdir:
        config_dir = home_assistant_config_dir(stack, Path(workdir))
        problems += validate_with_home_assistant(config_dir, environment)
    return problems


# --- Grafana ------------------------------------------------------------------------------


def grafana_problems(stack: Stack) -> list[str]:
    """The provisioned data source and dashboards fit together and with the container."""
    provisioning = stack.root / "grafana/provisioning"
    datasources = yaml.safe_load((provisioning / "datasources/influxdb.yaml").read_text())
    problems = []
    (source,) = datasources["datasources"]
    if source.get("uid") != DATASOURCE_UID or source.get("type") != "influxdb":
        problems.append(f"the provisioned data source is not influxdb with uid {DATASOURCE_UID}")
    if source.get("jsonData", {}).get("version") != "Flux":
        problems.append("the provisioned data source does not speak Flux")
    if source.get("secureJsonData", {}).get("token") != "${INFLUXDB_TOKEN}":
        problems.append("the data source's token does not come from the environment")
    environment = stack.environment("grafana")
    for path in provisioning.rglob("*.yaml"):
        for text in strings_in(yaml.safe_load(path.read_text())):
            problems += [
                f"{path.name} reads ${match[1] or match[3]}, which Grafana's container lacks"
                for match in INTERPOLATION.finditer(text)
                if (match[1] or match[3]) and (match[1] or match[3]) not in environment
            ]
    providers = yaml.safe_load((provisioning / "dashboards/energy-edge.yaml").read_text())
    mounted = {mount.target: mount.source for mount in stack.mounts("grafana")}
    for provider in providers["providers"]:
        if mounted.get(provider["options"]["path"]) != "./grafana/dashboards":
            problems.append(f"dashboards are loaded from {provider['options']['path']}, unmounted")
    home = environment.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", "")
    if not (stack.root / "grafana/dashboards" / PurePosixPath(home).name).is_file():
        problems.append(f"the home dashboard {home} does not exist")
    try:
        dashboards = stack.dashboards()
    except json.JSONDecodeError as error:
        return [*problems, f"a dashboard is not valid JSON: {error}"]
    problems += dashboard_problems(dashboards)
    return problems


def datasource_refs(node: Any) -> Iterator[Any]:
    """Every `datasource` reference in a dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            else:
                yield from datasource_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from datasource_refs(value)


def datasource_variable_problems(name: str, dashboard: dict[str, Any]) -> list[str]:
    """A variable choosing among InfluxDB data sources, the provisioned one by default."""
    templating = dashboard.get("templating", {}).get("list", [])
    found = [v for v in templating if v.get("name") == DATASOURCE_VARIABLE]
    if not found or found[0].get("type") != "datasource" or found[0].get("query") != "influxdb":
        return [f"{name} has no {DATASOURCE_VARIABLE} variable of InfluxDB data sources"]
    if found[0].get("current", {}).get("value") != DATASOURCE_UID:
        return [f"{name}: the {DATASOURCE_VARIABLE} variable does not default to {DATASOURCE_UID}"]
    return []


def dashboard_problems(dashboards: dict[str, Any]) -> list[str]:
    """Unique uids, the data source variable everywhere, a query in every panel."""
    problems = []
    uids: dict[str, str] = {}
    for name, dashboard in dashboards.items():
        uid = dashboard.get("uid")
        if not uid:
            problems.append(f"{name} has no uid")
        elif uid in uids:
            problems.append(f"{name} and {uids[uid]} share the uid {uid}")
        else:
            uids[uid] = name
        problems += datasource_variable_problems(name, dashboard)
        problems += [
            f"{name} refers to data source {ref!r}, not {DATASOURCE_REF['uid']}"
            for ref in datasource_refs(dashboard)
            if ref != DATASOURCE_REF
        ]
        problems += [
            f"{name}: panel {panel.get('title')!r} has no query"
            for panel in dashboard.get("panels", [])
            if not any(target.get("query") for target in panel.get("targets", []))
        ]
    return problems


# --- Flux ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One Flux query of a dashboard: a panel's target or a template variable."""

    where: str
    text: str
    variables: frozenset[str]


def dashboard_queries(dashboards: dict[str, Any]) -> list[Query]:
    """Every Flux query of the dashboards, with the template variables it may use."""
    queries = []
    for name, dashboard in dashboards.items():
        templating = dashboard.get("templating", {}).get("list", [])
        variables = frozenset(variable["name"] for variable in templating)
        queries += [
            Query(f"{name}: variable {variable['name']}", variable["query"], variables)
            for variable in templating
            if variable.get("type") == "query"
        ]
        queries += [
            Query(f"{name}: panel {panel.get('title')!r}", target["query"], variables)
            for panel in dashboard.get("panels", [])
            for target in panel.get("targets", [])
            if target.get("query")
        ]
    return queries


# What Grafana defines before it sends a Flux query to InfluxDB.
GRAFANA_FLUX_PRELUDE = (
    "v = {timeRangeStart: -6h, timeRangeStop: now(), windowPeriod: 1m, "
    'defaultBucket: "energy", organization: "energy-edge"}\n'
)


def as_sent_by_grafana(query: Query) -> tuple[str, list[str]]:
    """The query with Grafana's `v` record and template variables filled, and unknown variables."""
    unknown = []

    def substitute(match: re.Match[str]) -> str:
        name = match[1] or match[3]
        if name not in query.variables:
            unknown.append(name)
        return '["sample"]' if match[2] == "json" else "sample"

    text = GRAFANA_VARIABLE.sub(substitute, query.text)
    lines = text.splitlines(keepends=True)
    imports = 0
    while imports < len(lines) and (
        lines[imports].startswith("import ") or not lines[imports].strip()
    ):
        imports += 1
    return "".join(lines[:imports]) + GRAFANA_FLUX_PRELUDE + "".join(lines[imports:]), unknown


def flux_parser_modules() -> Path:
    """node_modules holding InfluxData's Flux parser (installed by ./scripts/setup)."""
    result = subprocess.run(
        [str(FLUX_PARSER_INSTALLER)], capture_output=True, text=True, check=True, timeout=300
    )
    return Path(result.stdout.strip())


def check_flux(scripts: dict[str, str]) -> dict[str, Any]:
    """Parse and analyse Flux scripts with flux-lsp: {id: {"ast", "diagnostics"}}."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the Flux parser: run ./scripts/setup"
    result = subprocess.run(
        [
            node,
            "--experimental-wasm-modules",
            "--no-warnings",
            str(FLUX_CHECKER),
            str(flux_parser_modules()),
        ],
        input=json.dumps({"scripts": [{"id": k, "text": v} for k, v in scripts.items()]}),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def flux_problems(queries: list[Query]) -> tuple[list[str], dict[str, Any]]:
    """Syntax and semantic errors of each query, and each query's syntax tree by `where`."""
    problems = []
    scripts = {}
    for query in queries:
        text, unknown = as_sent_by_grafana(query)
        problems += [f"{query.where} uses ${name}, which is not a variable" for name in unknown]
        scripts[query.where] = text
    results = check_flux(scripts)
    offset = GRAFANA_FLUX_PRELUDE.count("\n")
    for where, result in results.items():
        problems += [
            f"{where}: line {error['line'] - offset}: {error['message']}"
            for error in result["diagnostics"]
        ]
    return problems, {where: result["ast"] for where, result in results.items()}


def nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every node of a Flux syntax tree."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from nodes(value)


def column_of(node: dict[str, Any]) -> str | None:
    """`_measurement` for `r._measurement` or `r["_measurement"]`, else None."""
    if node.get("type") != "MemberExpression":
        return None
    key = node["property"]
    return key.get("name") or key.get("value")  # type: ignore[no-any-return]


def columns_read(tree: Any) -> tuple[dict[str, set[str]], int]:
    """Values each column is compared to with `==` (e.g. {"_field": {"power"}}), and how many
    references to `_measurement` or `_field` are not such comparisons (they cannot be checked)."""
    compared: dict[str, set[str]] = {"_measurement": set(), "_field": set()}
    checked = 0
    for node in nodes(tree):
        if node.get("type") == "BinaryExpression" and node.get("operator") == "==":
            column, value = column_of(node["left"]), node["right"]
            if column in compared and value.get("type") == "StringLiteral":
                compared[column].add(value["value"])
                checked += 1
    references = sum(1 for node in nodes(tree) if column_of(node) in compared)
    return compared, references - checked


def fields_written() -> dict[str, frozenset[str]]:
    """Fields by measurement, as the bridge (its schema) and HA's export write them."""
    fields = {
        schema.STATE_MEASUREMENT: Z2M_NUMERIC_PROPERTIES | {schema.FIELD_STATE},
        schema.AVAILABILITY_MEASUREMENT: frozenset({schema.FIELD_ONLINE}),
        schema.BRIDGE_EVENT_MEASUREMENT: frozenset({schema.FIELD_ONLINE}),
        schema.HEALTH_MEASUREMENT: frozenset(schema.HEALTH_FIELDS),
    }
    fields.update(dict.fromkeys(ENERGY_EDGE_ENTITIES, frozenset({HA_VALUE_FIELD})))
    fields[DEVICE_COST_MEASUREMENT] = frozenset({HA_VALUE_FIELD})
    return fields


def flux_schema_problems(trees: dict[str, Any]) -> list[str]:
    """Every measurement and field a query reads is one the bridge or HA's export writes."""
    written = fields_written()
    problems = []
    for where, tree in trees.items():
        compared, unchecked = columns_read(tree)
        if unchecked:
            problems.append(f"{where}: filter _measurement and _field with == on a string only")
        if not compared["_measurement"]:
            problems.append(f"{where} reads no named measurement")
        for measurement in sorted(compared["_measurement"]):
            if measurement not in written:
                problems.append(f"{where}: nothing writes the measurement {measurement!r}")
                continue
            problems += [
                f"{where}: {measurement!r} has no field {field!r}"
                for field in sorted(compared["_field"] - written[measurement])
            ]
    return problems
