"""One version for the integration, the bridge, the simulator, the Zigbee2MQTT protocol library
(and the exact pins of it), the add-on and the Compose stack's images: scripts/bump-version sets it
and fails when a file disagrees with pyproject.toml, the source; the bridge's API announces the
installed one."""

import datetime as dt
import json
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tomllib

from fastapi.testclient import TestClient
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
import pytest

from energy_edge_bridge.api import make_api
from energy_edge_bridge.influxdb import InfluxDB
from energy_edge_bridge.settings import BridgeSettings
from energy_edge_bridge.spool import Spool
from energy_edge_bridge.state import BridgeState
from tests.helpers.repository import repository_files

ROOT = Path(__file__).resolve().parents[2]
BUMP_VERSION = ROOT / "scripts" / "bump-version"
VERSIONED = (
    "pyproject.toml",
    "simulator/pyproject.toml",
    "protocol/pyproject.toml",
    "protocol/zigbee2mqtt_protocol/__init__.py",
    "uv.lock",
    "compose/docker-compose.yml",
    "custom_components/energy_edge/manifest.json",
    "addon/energy_edge_bridge/config.yaml",
    "CHANGELOG.md",
    "README.md",
)


def bump_version(*arguments: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run scripts/bump-version on a tree."""
    return subprocess.run(
        [sys.executable, str(BUMP_VERSION), *arguments, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the files that carry the version, and what uv needs to check the lock."""
    for name in (
        *VERSIONED,
        "LICENSE",
        "bridge/energy_edge_bridge/__init__.py",
        "protocol/README.md",
        "protocol/LICENSE",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_every_file_carries_the_same_version() -> None:
    """The repository as committed agrees with itself."""
    result = bump_version("--check")
    assert result.returncode == 0, result.stderr
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version in result.stdout


def test_the_integration_requires_exactly_the_library_of_this_source() -> None:
    """manifest.json names the library as Home Assistant's own integrations name theirs: one
    requirement, pinned with `==` (hassfest's rule for core integrations) to the version
    protocol/pyproject.toml gives the library; the bridge pins the same one."""
    library = tomllib.loads((ROOT / "protocol/pyproject.toml").read_text())["project"]
    manifest = json.loads((ROOT / "custom_components/energy_edge/manifest.json").read_text())
    (text,) = manifest["requirements"]
    requirement = Requirement(text)
    assert " " not in text
    assert canonicalize_name(requirement.name) == canonicalize_name(library["name"])
    assert str(requirement.specifier) == f"=={library['version']}"
    bridge = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"{library['name']}=={library['version']}" in bridge


@pytest.mark.parametrize(
    ("path", "before_version"),
    [
        ("custom_components/energy_edge/manifest.json", '"version": '),
        ("addon/energy_edge_bridge/config.yaml", "\nversion: "),
        ("uv.lock", 'name = "energy-edge-bridge"\nversion = '),
        ("uv.lock", 'name = "energy-edge-sim"\nversion = '),
        ("simulator/pyproject.toml", "\nversion = "),
        ("protocol/pyproject.toml", "\nversion = "),
        ("protocol/zigbee2mqtt_protocol/__init__.py", "\n__version__ = "),
        ("uv.lock", 'name = "zigbee2mqtt-protocol"\nversion = '),
        ("pyproject.toml", '"zigbee2mqtt-protocol=='),
        ("custom_components/energy_edge/manifest.json", '"zigbee2mqtt-protocol=='),
        ("compose/docker-compose.yml", "image: energy-edge-bridge:"),
        ("compose/docker-compose.yml", "image: energy-edge-sim:"),
        ("README.md", "ghcr.io/energy-edge/energy-edge-bridge:"),
    ],
)
def test_a_file_with_another_version_fails_the_check(
    tree: Path, path: str, before_version: str
) -> None:
    """Change one copy: the check fails and names that file and both versions."""
    file = tree / path
    text, count = re.subn(
        re.escape(before_version) + r'("?)[\d.]+\1',
        before_version + r"\g<1>9.9.9\1",
        file.read_text(),
        count=1,
    )
    assert count == 1
    file.write_text(text)
    result = bump_version("--check", root=tree)
    assert result.returncode == 1
    assert path in result.stderr
    assert "9.9.9" in result.stderr


def test_bumping_moves_every_copy_and_releases_the_changelog(tree: Path) -> None:
    """`minor` raises X.Y.Z to X.Y+1.0 everywhere, keeps uv.lock valid, and turns the
    Unreleased changes into the new version's section."""
    old = tomllib.loads((tree / "pyproject.toml").read_text())["project"]["version"]
    major, minor, _ = (int(part) for part in old.split("."))
    new = f"{major}.{minor + 1}.0"
    result = bump_version("minor", root=tree)
    assert result.returncode == 0, result.stderr
    assert bump_version("--check", root=tree).returncode == 0
    assert (
        f'"version": "{new}"' in (tree / "custom_components/energy_edge/manifest.json").read_text()
    )
    assert f'\nversion: "{new}"\n' in (tree / "addon/energy_edge_bridge/config.yaml").read_text()
    assert f"ghcr.io/energy-edge/energy-edge-bridge:{new}\n" in (tree / "README.md").read_text()
    assert f'\nversion = "{new}"\n' in (tree / "simulator/pyproject.toml").read_text()
    assert f'\nversion = "{new}"\n' in (tree / "protocol/pyproject.toml").read_text()
    library = tree / "protocol/zigbee2mqtt_protocol/__init__.py"
    assert f'\n__version__ = "{new}"\n' in library.read_text()
    bridge = tomllib.loads((tree / "pyproject.toml").read_text())["project"]
    assert f"zigbee2mqtt-protocol=={new}" in bridge["dependencies"]
    manifest = json.loads((tree / "custom_components/energy_edge/manifest.json").read_text())
    assert manifest["requirements"] == [f"zigbee2mqtt-protocol=={new}"]
    compose = (tree / "compose/docker-compose.yml").read_text()
    assert f"image: energy-edge-bridge:{new}\n" in compose
    assert f"image: energy-edge-sim:{new}\n" in compose
    changelog = (tree / "CHANGELOG.md").read_text()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{new}] - {today}")
    lock = subprocess.run(
        ["uv", "lock", "--check", "--offline", "--python", sys.executable],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert lock.returncode == 0, lock.stderr


def test_only_a_version_or_a_part_name_is_accepted(tree: Path) -> None:
    """A malformed version is refused and no file changes."""
    before = {name: (tree / name).read_text() for name in VERSIONED}
    result = bump_version("1.2", root=tree)
    assert result.returncode != 0
    assert "not a version" in result.stderr
    assert {name: (tree / name).read_text() for name in VERSIONED} == before


def test_bumping_leaves_the_old_version_nowhere(tmp_path: Path) -> None:
    """Every file that names the version is one bump-version moves: after a bump, the old
    version is left only in the changelog's history (uv.lock, where other packages may share
    the number, is checked by `uv lock --check` above)."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    old = re.compile(rf"(?<![\w.-]){re.escape(version)}(?![\w-]|\.\d)")
    tracked = repository_files()
    naming = {
        name
        for name in tracked
        if (ROOT / name).is_file()
        and old.search((ROOT / name).read_bytes().decode(errors="ignore"))
    }
    for name in naming | set(VERSIONED) | {"LICENSE"}:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    assert bump_version("9.9.9", root=tmp_path).returncode == 0
    left = [
        f"{name}: {line.strip()}"
        for name in sorted(naming - {"uv.lock", "CHANGELOG.md"})
        for line in (tmp_path / name).read_text().splitlines()
        if old.search(line)
    ]
    assert left == []


def test_the_api_announces_the_installed_version(tmp_path: Path) -> None:
    """/openapi.json (what /docs shows) carries the version of pyproject.toml, as installed."""
    database = InfluxDB("http://127.0.0.1:9", "token", "org", "bucket")
    app = make_api(
        settings=BridgeSettings(bridge_allow_insecure_api=True),
        state=BridgeState(),
        spool=Spool(tmp_path, 1024 * 1024),
        database=database,
    )
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert TestClient(app).get("/openapi.json").json()["info"]["version"] == version
