"""Home Assistant's configuration: loads Energy Edge and exports its entities to InfluxDB 2.

Home Assistant's own YAML loader and schemas (from the installed package) judge the file.
"""

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

from tests.stack import checks
from tests.stack.checks import REPO, Stack
from tests.stack.conftest import StackCopy


def test_the_stack_passes(stack: Stack) -> None:
    """The repository's configuration passes, Home Assistant's own validation included."""
    assert checks.home_assistant_problems(stack) == []


def test_missing_influxdb_export_is_caught(copy: StackCopy) -> None:
    """Without the export, the home dashboard has nothing to show."""
    copy.replace("homeassistant/configuration.yaml", "influxdb:\n", "influx_db_export:\n")
    assert checks.home_assistant_problems(copy.stack) == [
        "configuration.yaml has no influxdb: export"
    ]


def test_influxdb_v1_export_is_caught(copy: StackCopy) -> None:
    """InfluxDB 2 speaks the v2 API with a token."""
    copy.replace("homeassistant/configuration.yaml", "api_version: 2", "api_version: 1")
    problems = checks.home_assistant_problems(copy.stack)
    assert problems[0] == "the InfluxDB export does not use api_version 2"
    # Home Assistant itself refuses a token with the v1 API.
    assert problems[-1].startswith("Home Assistant rejects configuration.yaml")


def test_token_written_in_the_file_is_caught(copy: StackCopy) -> None:
    """The token comes from .env through the container's environment, never from the file."""
    copy.replace(
        "homeassistant/configuration.yaml", "token: !env_var INFLUXDB_TOKEN", "token: secret"
    )
    assert checks.home_assistant_problems(copy.stack) == [
        "influxdb: token is not read from the environment (!env_var)"
    ]


def test_variable_missing_from_the_container_is_caught(copy: StackCopy) -> None:
    """An !env_var the container does not have stops Home Assistant at start."""
    copy.edit_compose(
        lambda data: data["services"]["homeassistant"]["environment"].pop("INFLUXDB_ORG")
    )
    assert checks.home_assistant_problems(copy.stack) == [
        "influxdb: organization reads INFLUXDB_ORG, which HA's container lacks",
        "Home Assistant cannot load configuration.yaml: INFLUXDB_ORG",
    ]


def test_other_measurement_names_are_caught(copy: StackCopy) -> None:
    """The dashboards find an entity under its entity id: another naming breaks them."""
    copy.replace(
        "homeassistant/configuration.yaml",
        "measurement_attr: entity_id",
        "measurement_attr: unit_of_measurement",
    )
    assert checks.home_assistant_problems(copy.stack) == [
        "the export must name measurements after entity ids (dashboards rely on it)"
    ]


def test_entities_left_out_of_the_export_are_caught(copy: StackCopy) -> None:
    """The export's filter must let every entity the dashboards read through."""
    copy.replace("homeassistant/configuration.yaml", "      - binary_sensor.energy_edge_*\n", "")
    assert checks.home_assistant_problems(copy.stack) == [
        "the InfluxDB export leaves out binary_sensor.energy_edge_overload"
    ]


def test_device_costs_left_out_or_mixed_with_the_home_cost_are_caught(copy: StackCopy) -> None:
    """Grafana's cost per device reads one measurement; the home's cost keeps its own."""
    copy.replace("homeassistant/configuration.yaml", "      - sensor.*_cost\n", "")
    copy.replace(
        "homeassistant/configuration.yaml",
        '    sensor.energy_edge_home_cost:\n      override_measurement: ""\n',
        "    sensor.energy_edge_home_power: {}\n",
    )
    assert checks.home_assistant_problems(copy.stack) == [
        "the InfluxDB export leaves out sensor.water_heater_cost",
        (
            "the InfluxDB export writes sensor.energy_edge_home_cost to 'energy_edge_device_cost',"
            " not 'sensor.energy_edge_home_cost'"
        ),
    ]


def test_value_home_assistant_rejects_is_caught(copy: StackCopy) -> None:
    """Home Assistant's own schema has the last word on every option."""
    copy.replace("homeassistant/configuration.yaml", "purge_keep_days: 10", "purge_keep_days: ten")
    (problem,) = checks.home_assistant_problems(copy.stack)
    assert problem.startswith("Home Assistant rejects configuration.yaml")
    assert "purge_keep_days" in problem


def test_integration_not_mounted_is_caught(copy: StackCopy) -> None:
    """Energy Edge loads from /config/custom_components, read-only."""
    copy.replace(
        "docker-compose.yml",
        "/config/custom_components/energy_edge:ro",
        "/config/custom_components/energy_edge",
    )
    assert checks.home_assistant_problems(copy.stack) == [
        "energy_edge is not mounted read-only at /config/custom_components/energy_edge"
    ]


def test_protocol_library_not_mounted_is_caught(copy: StackCopy) -> None:
    """Without it, Home Assistant would look for the checkout's version on PyPI."""
    copy.replace("docker-compose.yml", "      - ../protocol:/energy-edge/protocol:ro\n", "")
    assert checks.home_assistant_problems(copy.stack) == [
        "the protocol library is not mounted read-only at /energy-edge/protocol"
    ]


def test_start_script_installs_the_protocol_library_the_manifest_requires(
    tmp_path: Path, stack: Stack
) -> None:
    """In a Python like the image's (uv importable, no Energy Edge library), start.sh installs
    the mounted library at the version manifest.json requires, before Home Assistant starts."""
    manifest = json.loads((REPO / "custom_components/energy_edge/manifest.json").read_text())
    (requirement,) = manifest["requirements"]
    python = tmp_path / "venv/bin/python3"
    uv = shutil.which("uv")
    assert uv is not None, "uv is on PATH where ./scripts/test runs"
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(tmp_path / "venv")], check=True
    )
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "uv"], check=True, timeout=300
    )
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "UV_PYTHON", "UV_SYSTEM_PYTHON", "PYTHONPATH"}
    }
    subprocess.run(
        ["sh", str(stack.root / "homeassistant/start.sh")],
        env={
            **environment,
            "PATH": f"{python.parent}:{environment['PATH']}",
            "VIRTUAL_ENV": str(python.parents[1]),
            "HA_CONFIG_DIR": str(config_dir),
            "HA_INIT": "true",
            "ENERGY_EDGE_PROTOCOL_DIR": str(REPO / "protocol"),
        },
        check=True,
        timeout=300,
    )
    installed = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print(m.version('zigbee2mqtt-protocol'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert f"zigbee2mqtt-protocol=={installed}" == requirement


def test_start_script_creates_the_files_the_configuration_includes(
    tmp_path: Path, stack: Stack
) -> None:
    """/config as HA sees it has what configuration.yaml includes, and start.sh keeps edits."""
    config_dir = checks.home_assistant_config_dir(stack, tmp_path)
    assert (config_dir / "automations.yaml").read_text() == "[]\n"
    assert (config_dir / "scripts.yaml").exists()
    assert (config_dir / "custom_components/energy_edge/manifest.json").exists()
    (config_dir / "automations.yaml").write_text("- alias: mine\n")
    # A second start keeps what the user saved.
    subprocess.run(
        ["sh", str(stack.root / "homeassistant/start.sh")],
        env={**os.environ, "HA_CONFIG_DIR": str(config_dir), "HA_INIT": "true"},
        check=True,
        timeout=30,
    )
    assert (config_dir / "automations.yaml").read_text() == "- alias: mine\n"


def test_entity_filter_reads_like_home_assistants() -> None:
    """Entities, domains and globs each let an entity through."""
    assert checks.entity_included("sensor.a", {"entities": ["sensor.a"]})
    assert checks.entity_included("sensor.a", {"domains": ["sensor"]})
    assert checks.entity_included("sensor.energy_edge_x", {"entity_globs": ["sensor.energy_*"]})
    assert not checks.entity_included("sensor.other", {"entity_globs": ["sensor.energy_*"]})
