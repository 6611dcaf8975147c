"""What a release publishes for the add-on installs exactly the bridge, the Zigbee2MQTT protocol
library and the simulator of this source and lock, and only on Home Assistant's Alpine base
without a compiler; the bridge's wheel carries the bridge alone, the library's wheel (the one PyPI
gets) the library alone."""

from email.parser import Parser
import hashlib
import os
from pathlib import Path
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile

from packaging.markers import Marker
from packaging.utils import parse_wheel_filename
import pytest

ROOT = Path(__file__).resolve().parents[2]
# The add-on installs the bridge, the library it reads Zigbee2MQTT with, and the simulator its
# `simulator` option runs: this repository's three distributions, built by the release.
PROJECTS = ("energy-edge-bridge", "zigbee2mqtt-protocol", "energy-edge-sim")


def locked_runtime_packages(architecture: str) -> dict[str, dict[str, object]]:
    """uv.lock's entries for every package from elsewhere that the bridge and the simulator need
    at run time on Linux/architecture."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    environment = {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_machine": architecture,
        "platform_system": "Linux",
        "sys_platform": "linux",
        "os_name": "posix",
        "python_version": "3.14",
        "python_full_version": "3.14.2",
        "extra": "",
    }
    needed: dict[str, dict[str, object]] = {}
    pending = [
        dependency for project in PROJECTS for dependency in packages[project]["dependencies"]
    ]
    while pending:
        dependency = pending.pop()
        marker = dependency.get("marker")
        if dependency["name"] in needed or (marker and not Marker(marker).evaluate(environment)):
            continue
        if dependency["name"] in PROJECTS:
            pending += packages[dependency["name"]].get("dependencies", [])
            continue
        package = packages[dependency["name"]]
        needed[dependency["name"]] = package
        pending += package.get("dependencies", [])
        for extra in dependency.get("extra", []):
            pending += package.get("optional-dependencies", {}).get(extra, [])
    return needed


def installs_on_alpine(wheel: str, architecture: str) -> bool:
    """Whether pip on Home Assistant's Python 3.14 Alpine image can install this wheel."""
    _, _, _, tags = parse_wheel_filename(wheel)
    return any(
        tag.interpreter in {"py3", "cp314"}
        and tag.abi in {"none", "abi3", "cp314"}
        and (
            tag.platform == "any" or re.fullmatch(rf"musllinux_1_\d+_{architecture}", tag.platform)
        )
        for tag in tags
    )


@pytest.mark.parametrize("architecture", ["aarch64", "x86_64"])
def test_every_dependency_installs_from_a_wheel_on_alpine(architecture: str) -> None:
    """Each locked run-time dependency has a wheel for musl on this architecture, so the
    add-on's image needs no compiler (pip runs with --only-binary=:all:)."""
    packages = locked_runtime_packages(architecture)
    assert {"fastapi", "paho-mqtt", "pydantic-core", "orjson"} <= set(packages)
    without_wheel = [
        f"{name} {package['version']}"
        for name, package in packages.items()
        if not any(
            installs_on_alpine(str(wheel["url"]).rsplit("/", 1)[1], architecture)
            for wheel in package.get("wheels", [])  # type: ignore[attr-defined]
        )
    ]
    assert without_wheel == []


def test_a_dependency_without_a_musl_wheel_is_caught() -> None:
    """A compiled wheel for glibc only, or for another Python, does not count."""
    assert not installs_on_alpine("demo-1.0-cp314-cp314-manylinux_2_17_aarch64.whl", "aarch64")
    assert not installs_on_alpine("demo-1.0-cp313-cp313-musllinux_1_2_aarch64.whl", "aarch64")
    assert not installs_on_alpine("demo-1.0-cp314-cp314-musllinux_1_2_x86_64.whl", "aarch64")
    assert installs_on_alpine("demo-1.0-cp314-cp314-musllinux_1_2_aarch64.whl", "aarch64")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files scripts/build-bridge-release makes, published at a file:// URL."""
    directory = tmp_path_factory.mktemp("release")
    subprocess.run(
        [str(ROOT / "scripts" / "build-bridge-release"), directory.as_uri(), str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return directory


def install(requirements: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """Install as the add-on's Dockerfile does: nothing beyond the file, every hash checked."""
    command = ["uv", "pip", "install", "--no-deps", "--require-hashes"]
    command += ["--python", sys.executable, "--target", str(target), "-r", str(requirements)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_release_pins_the_lock_and_the_wheel_by_hash(release: Path) -> None:
    """bridge-requirements.txt lists every run-time package at its locked version and the
    bridge's, the library's and the simulator's wheels of this version, each with its SHA-256."""
    requirements = (release / "bridge-requirements.txt").read_text()
    pinned = dict(re.findall(r"^([a-z0-9-]+)==(\S+) \\$", requirements, re.MULTILINE))
    locked = {name: str(p["version"]) for name, p in locked_runtime_packages("x86_64").items()}
    assert pinned == locked
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for project in PROJECTS:
        wheel = release / f"{project.replace('-', '_')}-{version}-py3-none-any.whl"
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert (
            f"{project} @ {release.as_uri()}/{wheel.name} \\\n    --hash=sha256:{digest}"
            in requirements
        )


def test_the_bridge_s_wheel_carries_no_simulator(release: Path) -> None:
    """The bridge's wheel holds the bridge's package and command only; the simulator is its own
    wheel, with its own command."""
    bridge = zipfile.ZipFile(next(release.glob("energy_edge_bridge-*.whl")))
    packages = {name.split("/")[0] for name in bridge.namelist()}
    assert {package for package in packages if not package.endswith(".dist-info")} == {
        "energy_edge_bridge"
    }
    assert not [name for name in bridge.namelist() if "sim" in name.lower()]
    (bridge_entry_points,) = (n for n in bridge.namelist() if n.endswith("entry_points.txt"))
    assert "energy-edge-sim" not in bridge.read(bridge_entry_points).decode()
    simulator = zipfile.ZipFile(next(release.glob("energy_edge_sim-*.whl")))
    assert "energy_edge_sim/__main__.py" in simulator.namelist()
    assert not [name for name in simulator.namelist() if name.startswith("energy_edge_bridge")]


def wheel_packages(wheel: Path) -> set[str]:
    """The top-level names a wheel installs, besides its metadata."""
    names = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    return {name for name in names if not name.endswith(".dist-info")}


def test_the_library_ships_in_its_own_wheel(release: Path) -> None:
    """The library's wheel holds the library (typed) and nothing of Energy Edge; the bridge's
    wheel holds none of it and requires it at exactly this version instead."""
    project = tomllib.loads((ROOT / "protocol" / "pyproject.toml").read_text())["project"]
    library = next(release.glob("zigbee2mqtt_protocol-*.whl"))
    assert wheel_packages(library) == {"zigbee2mqtt_protocol"}
    source = ROOT / "protocol" / "zigbee2mqtt_protocol"
    with zipfile.ZipFile(library) as archive:
        packaged = set(archive.namelist())
    assert {f"zigbee2mqtt_protocol/{path.name}" for path in source.glob("*.py")} <= packaged
    assert "zigbee2mqtt_protocol/py.typed" in packaged
    with zipfile.ZipFile(next(release.glob("energy_edge_bridge-*.whl"))) as bridge:
        assert not [name for name in bridge.namelist() if "zigbee2mqtt" in name]
        (metadata,) = (name for name in bridge.namelist() if name.endswith(".dist-info/METADATA"))
        requires = Parser().parsestr(bridge.read(metadata).decode()).get_all("Requires-Dist")
    assert f"{project['name']}=={project['version']}" in requires


def test_the_release_installs_the_bridge_and_simulator_of_this_source(
    release: Path, tmp_path: Path
) -> None:
    """Installed from the release alone, the bridge, the library and the simulator are this
    source's, and the bridge and the simulator run:
    each names an invalid setting and exits non-zero, as the add-on's user would see."""
    result = install(release / "bridge-requirements.txt", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    for source in [
        ROOT / "bridge" / "energy_edge_bridge" / "settings.py",
        ROOT / "protocol" / "zigbee2mqtt_protocol" / "topics.py",
        ROOT / "simulator" / "energy_edge_sim" / "settings.py",
    ]:
        installed = tmp_path / "site" / source.parent.name / source.name
        assert installed.read_bytes() == source.read_bytes()
    for command in ("energy-edge-bridge", "energy-edge-sim"):
        run = subprocess.run(
            [str(tmp_path / "site" / "bin" / command)],
            env={**os.environ, "PYTHONPATH": str(tmp_path / "site"), "MQTT_PORT": "not-a-port"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert run.returncode != 0, command
        assert "MQTT_PORT" in run.stderr, command


def test_a_tampered_wheel_is_refused(release: Path, tmp_path: Path) -> None:
    """A wheel whose bytes differ from the published hash does not install."""
    wheel = next(release.glob("energy_edge_bridge-*.whl"))
    tampered = tmp_path / wheel.name
    tampered.write_bytes(wheel.read_bytes() + b"\0")
    for other in (*release.glob("energy_edge_sim-*.whl"), *release.glob("zigbee2mqtt_*.whl")):
        (tmp_path / other.name).write_bytes(other.read_bytes())
    requirements = tmp_path / "bridge-requirements.txt"
    requirements.write_text(
        (release / "bridge-requirements.txt")
        .read_text()
        .replace(release.as_uri(), tmp_path.as_uri())
    )
    result = install(requirements, tmp_path / "site")
    assert result.returncode != 0
    assert "hash" in result.stderr.lower()


def test_pypi_gets_the_library_alone_and_the_add_on_s_very_wheel(
    release: Path, tmp_path: Path
) -> None:
    """The release workflow's PyPI job builds the library with `uv build --package`: its sdist
    holds the library's sources and nothing else of the repository, and its wheel is byte for
    byte the one bridge-requirements.txt pins by hash (hatchling builds reproducibly)."""
    subprocess.run(
        ["uv", "build", "--quiet", "--package", "zigbee2mqtt-protocol", "--out-dir", tmp_path],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=True,
    )
    (sdist,) = tmp_path.glob("zigbee2mqtt_protocol-*.tar.gz")
    with tarfile.open(sdist) as archive:
        files = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    top_level = {name.split("/")[0] for name in files}
    assert top_level <= {"zigbee2mqtt_protocol", "pyproject.toml", "README.md", "LICENSE",
                         "PKG-INFO", ".gitignore"}  # fmt: skip
    assert "zigbee2mqtt_protocol/topics.py" in files
    (wheel,) = tmp_path.glob("zigbee2mqtt_protocol-*.whl")
    assert wheel.read_bytes() == (release / wheel.name).read_bytes()
