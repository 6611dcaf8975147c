"""The Home Assistant add-on installs, configures and starts the bridge as the Supervisor wants."""

from collections.abc import Callable
import copy
import getpass
import json
import os
from pathlib import Path
import re
import struct
import subprocess
import sys
import time
from typing import Any

import pytest
import yaml

from energy_edge_bridge.settings import BridgeSettings
from tests.helpers.repository import repository_files

from .addon_rules import (
    ADDON_ONLY_OPTIONS,
    OptionType,
    bridge_problems,
    config_problems,
    environment_problems,
    translation_problems,
)

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon" / "energy_edge_bridge"
BASHIO_STANDIN = Path(__file__).with_name("bashio_standin.bash")

type Config = dict[str, Any]


def load_config() -> Config:
    """The add-on's config.yaml, parsed."""
    config: Config = yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))
    return config


def broken(change: Callable[[Config], object]) -> Config:
    """A copy of the add-on's configuration with one change."""
    config = copy.deepcopy(load_config())
    change(config)
    return config


def test_the_add_on_follows_the_supervisors_rules() -> None:
    """Required keys, aarch64 and amd64, a known type for every option, valid defaults."""
    assert config_problems(load_config()) == []


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        (lambda c: c.pop("arch"), "arch"),
        (lambda c: c["arch"].append("armv7"), "arch"),
        (lambda c: c.pop("version"), "'version'"),
        (lambda c: c.update(slug="energy edge"), "slug"),
        (lambda c: c.update(services=["mqtt:needs"]), "service"),
        (lambda c: c.update(watchdog="tcp://localhost:8000"), "watchdog"),
        (lambda c: c.update(init=True), "init"),
        (lambda c: c["schema"].update(z2m_base_topic="string"), "unknown schema type"),
        (lambda c: c["options"].update(bridge_spool_max_mb=0), "default 0"),
        (lambda c: c["options"].update(log_level="TRACE"), "default 'TRACE'"),
        (lambda c: c["options"].pop("influxdb_url"), "required"),
        (lambda c: c["options"].update(api_port=8000), "no schema"),
    ],
    ids=[
        "no arch",
        "32-bit arch",
        "no version",
        "slug with a space",
        "unknown service right",
        "watchdog without [HOST]",
        "docker init with s6",
        "unknown option type",
        "default below its minimum",
        "default not in its list",
        "required option without default nor null",
        "default without schema",
    ],
)
def test_a_configuration_the_supervisor_refuses_is_caught(
    change: Callable[[Config], object], reported: str
) -> None:
    """Each rule the Supervisor applies fails on a copy that breaks it."""
    problems = config_problems(broken(change))
    assert any(reported in problem for problem in problems), problems


def test_every_option_is_the_bridge_setting_of_the_same_name() -> None:
    """Each option names a BridgeSettings field of a compatible type, accepts only what the
    bridge accepts, and defaults to the bridge's default."""
    assert bridge_problems(load_config(), BridgeSettings) == []


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        (lambda c: c["schema"].update(influx_url="url"), "no setting of BridgeSettings"),
        (lambda c: c["schema"].update(bridge_spool_max_mb="bool"), "the setting holds"),
        (lambda c: c["schema"].update(influxdb_org="password"), "the setting holds"),
        (lambda c: c["schema"].update(bridge_spool_max_mb="int"), "the bridge refuses it"),
        (lambda c: c["schema"].update(z2m_base_topic="str"), "the bridge refuses it"),
        (lambda c: c["schema"].update(log_level="list(DEBUG|INFO|TRACE)"), "offers"),
        (lambda c: c["options"].update(log_level="WARNING"), "the bridge's 'INFO'"),
        (lambda c: c["schema"].update(mqtt_host="str"), "from the Supervisor"),
    ],
    ids=[
        "option of no setting",
        "bool for a number",
        "password for a plain text",
        "negative sizes allowed",
        "empty topic allowed",
        "a level the bridge lacks",
        "default unlike the bridge's",
        "broker as an option",
    ],
)
def test_an_option_that_does_not_fit_the_bridge_is_caught(
    change: Callable[[Config], object], reported: str
) -> None:
    """A copy whose option the bridge would misread or refuse fails the mapping check."""
    problems = bridge_problems(broken(change), BridgeSettings)
    assert any(reported in problem for problem in problems), problems


@pytest.mark.parametrize("language", ["en", "fr"])
def test_options_and_port_are_named_in_english_and_french(language: str) -> None:
    """The configuration page names and explains every option and the API port."""
    translations = yaml.safe_load((ADDON / "translations" / f"{language}.yaml").read_text())
    assert translation_problems(load_config(), translations) == []


def test_an_untranslated_option_is_caught() -> None:
    """A translation that misses an option, or names one that does not exist, fails."""
    translations = yaml.safe_load((ADDON / "translations" / "fr.yaml").read_text())
    translations["configuration"]["influxdb_ur"] = translations["configuration"].pop("influxdb_url")
    problems = translation_problems(load_config(), translations)
    assert "option 'influxdb_url' is not translated" in problems
    assert "'influxdb_ur' is translated but is no option" in problems


def distinct_value(key: str, option_type: OptionType, default: object) -> object:
    """A valid value for the option that is not its default, to see it arrive in the bridge."""
    if option_type.kind == "bool":
        return not default
    if option_type.kind == "int":
        return int(option_type.minimum or 0) + 41
    if option_type.kind == "list":
        return next(choice for choice in option_type.choices if choice != default)
    if option_type.kind == "url":
        return "http://influxdb.test:8086"
    return f"{key}-value-0123456789"


def run_addon(
    tmp_path: Path, options: Config, mqtt_service: Config | None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run run.sh as the container would, with bashio's stand-in and stand-ins for s6 and the
    programs; the bridge's stand-in writes the settings the real BridgeSettings reads."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "s6-setuidgid": '#!/bin/sh\nshift\nexec "$@"\n',
        "energy-edge-sim": '#!/bin/sh\ntouch "$SIMULATOR_STARTED"\n',
        "energy-edge-bridge": f"""#!{sys.executable}
import json, os
from pydantic import SecretStr
from energy_edge_bridge.settings import BridgeSettings
settings = BridgeSettings()
seen = {{name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings}}
with open(os.environ["BRIDGE_SEEN"], "w") as out:
    json.dump(seen, out, default=str)
""",
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "options.json").write_text(json.dumps(options))
    if mqtt_service is not None:
        (tmp_path / "mqtt.json").write_text(json.dumps(mqtt_service))
    seen = tmp_path / "seen.json"
    environment = {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "ADDON_OPTIONS": str(tmp_path / "options.json"),
        "ADDON_MQTT_SERVICE": str(tmp_path / "mqtt.json"),
        "BRIDGE_SEEN": str(seen),
        "SIMULATOR_STARTED": str(tmp_path / "simulator-started"),
        # What the add-on's Dockerfile sets.
        "BRIDGE_SPOOL_DIR": str(tmp_path / "data" / "spool"),
        "BRIDGE_API_PORT": "8000",
        "RUN_AS_USER": getpass.getuser(),
    }
    result = subprocess.run(
        [
            "bash",
            "-c",
            'source "$1" && source "$2"',
            "run",
            str(BASHIO_STANDIN),
            str(ADDON / "run.sh"),
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result, seen


MQTT_SERVICE = {
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "protocol": "3.1.1",
    "username": "addons",
    "password": "Supervisor-made-secret",
}


def test_run_script_hands_every_option_and_the_broker_to_the_bridge(tmp_path: Path) -> None:
    """Each option reaches the bridge's setting of the same name, the broker and its
    credentials are the Supervisor's, and the spool is made under /data."""
    config = load_config()
    options = {
        key: distinct_value(key, option_type, config["options"].get(key))
        for key, element in config["schema"].items()
        if (option_type := OptionType.parse(element)) is not None
    }
    result, seen_file = run_addon(tmp_path, options, MQTT_SERVICE)
    assert result.returncode == 0, result.stderr
    seen = json.loads(seen_file.read_text())
    for key, value in options.items():
        if key not in ADDON_ONLY_OPTIONS:
            assert seen[key] == value, key
    assert (seen["mqtt_host"], seen["mqtt_port"]) == ("core-mosquitto", 1883)
    assert (seen["mqtt_username"], seen["mqtt_password"]) == ("addons", "Supervisor-made-secret")
    assert seen["mqtt_tls"] is False
    assert seen["bridge_spool_dir"] == str(tmp_path / "data" / "spool")
    assert (tmp_path / "data" / "spool").is_dir()


def test_without_a_broker_the_add_on_stops_and_says_what_to_install(tmp_path: Path) -> None:
    """No MQTT service: the add-on exits with an error naming the Mosquitto add-on, and the
    bridge never starts."""
    options = {key: value for key, value in load_config()["options"].items() if value is not None}
    result, seen_file = run_addon(tmp_path, options, mqtt_service=None)
    assert result.returncode != 0
    assert "Mosquitto" in result.stderr
    assert not seen_file.exists()


@pytest.mark.parametrize("simulator", [True, False])
def test_the_simulator_runs_only_when_asked(tmp_path: Path, simulator: bool) -> None:
    """The simulator starts beside the bridge when the option is on, and only then."""
    options = {key: value for key, value in load_config()["options"].items() if value is not None}
    result, seen_file = run_addon(tmp_path, {**options, "simulator": simulator}, MQTT_SERVICE)
    assert result.returncode == 0, result.stderr
    assert seen_file.exists()
    started = tmp_path / "simulator-started"
    deadline = time.monotonic() + 5
    while simulator and not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists() is simulator


def dockerfile_variables(dockerfile: str) -> list[str]:
    """The names of the environment variables a Dockerfile's ENV instructions set."""
    instructions = re.findall(r"^ENV\s+((?:.*\\\n)*.*)$", dockerfile, re.MULTILINE)
    return [name for text in instructions for name in re.findall(r"(\w+)=", text)]


def test_the_image_sets_only_real_bridge_settings() -> None:
    """Every bridge-like variable the image sets is a setting; a misspelt one is caught."""
    variables = dockerfile_variables((ADDON / "Dockerfile").read_text())
    assert {"BRIDGE_SPOOL_DIR", "BRIDGE_API_PORT"} <= set(variables)
    assert environment_problems(variables, BridgeSettings) == []
    assert environment_problems(["BRIDGE_SPOL_DIR", "S6_KILL_GRACETIME"], BridgeSettings) == [
        "BRIDGE_SPOL_DIR is no bridge setting"
    ]


def test_the_image_builds_on_home_assistants_python_base_and_runs_run_sh() -> None:
    """The base is a pinned Home Assistant Python image of the bridge's Python, named in the
    Dockerfile (build.yaml is deprecated since Supervisor 2026.04); the container starts
    run.sh, which is executable and uses the port the add-on exposes."""
    assert not (ADDON / "build.yaml").exists()
    dockerfile = (ADDON / "Dockerfile").read_text()
    base = re.search(r"^ARG BUILD_FROM=(\S+)$", dockerfile, re.MULTILINE)
    assert base is not None
    image, _, tag = base.group(1).partition(":")
    assert image == "ghcr.io/home-assistant/base-python"
    assert re.fullmatch(r"3\.14-alpine3\.\d+-\d{4}\.\d{2}\.\d+", tag), tag
    assert 'CMD ["/run.sh"]' in dockerfile
    assert os.access(ADDON / "run.sh", os.X_OK)
    assert "BRIDGE_API_PORT=8000" in dockerfile
    assert "8000/tcp" in load_config()["ports"]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header.startswith(b"\x89PNG\r\n\x1a\n"), f"{path} is no PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_the_store_shows_an_icon_a_logo_and_documentation() -> None:
    """A square icon, a wide logo, README.md for the store and DOCS.md for the manual."""
    width, height = png_size(ADDON / "icon.png")
    assert width == height >= 128
    width, height = png_size(ADDON / "logo.png")
    assert width > height
    assert (ADDON / "README.md").read_text().strip()
    assert "## Configuration" in (ADDON / "DOCS.md").read_text()


def test_the_repository_is_an_add_on_repository() -> None:
    """repository.yaml names the repository whose URL users add to the add-on store."""
    repository = yaml.safe_load((ROOT / "repository.yaml").read_text())
    assert repository["name"]
    assert repository["maintainer"]
    assert repository["url"] == "https://github.com/energy-edge/energy-edge"


def test_the_supervisor_finds_no_other_add_on_configuration() -> None:
    """The Supervisor takes any config.yaml, .yml or .json in the repository for an add-on's:
    the add-on's own is the only one."""
    files = repository_files()
    found = [f for f in files if Path(f).name in {"config.yaml", "config.yml", "config.json"}]
    assert found == ["addon/energy_edge_bridge/config.yaml"]
