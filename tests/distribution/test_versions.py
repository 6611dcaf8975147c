"""One version for the integration, the bridge and the add-on: scripts/bump-version sets it and
fails when a file disagrees with pyproject.toml, the source."""

import datetime as dt
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUMP_VERSION = ROOT / "scripts" / "bump-version"
VERSIONED = (
    "pyproject.toml",
    "uv.lock",
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
    for name in (*VERSIONED, "LICENSE", "bridge/energy_edge_bridge/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_every_file_carries_the_same_version() -> None:
    """The repository as committed agrees with itself."""
    result = bump_version("--check")
    assert result.returncode == 0, result.stderr
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version in result.stdout


@pytest.mark.parametrize(
    ("path", "before_version"),
    [
        ("custom_components/energy_edge/manifest.json", '"version": '),
        ("addon/energy_edge_bridge/config.yaml", "\nversion: "),
        ("uv.lock", 'name = "energy-edge-bridge"\nversion = '),
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
