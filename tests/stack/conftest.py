"""Fixtures of the stack's tests: the real compose folder, and copies to break."""

from collections.abc import Callable
import json
from pathlib import Path
import shutil
from typing import Any

import pytest
import yaml

from tests.stack.checks import REPO, Stack


class StackCopy:
    """A copy of compose/ (and the integration and library it mounts) that a test may break."""

    def __init__(self, root: Path) -> None:
        """Copy the repository's stack under `root`."""
        shutil.copytree(REPO / "compose", root / "compose", ignore=shutil.ignore_patterns(".env"))
        shutil.copytree(
            REPO / "custom_components/energy_edge", root / "custom_components/energy_edge"
        )
        shutil.copytree(
            REPO / "protocol", root / "protocol", ignore=shutil.ignore_patterns("__pycache__")
        )
        self.root = root / "compose"

    @property
    def stack(self) -> Stack:
        """The copy as it is now."""
        return Stack(self.root)

    def replace(self, relative: str, old: str, new: str) -> None:
        """Replace text that must be present in one of the copy's files."""
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{old!r} is not in {relative}"
        path.write_text(text.replace(old, new))

    def edit_yaml(self, relative: str, change: Callable[[Any], None]) -> None:
        """Change a YAML file through its parsed form."""
        path = self.root / relative
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    def edit_compose(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change docker-compose.yml through its parsed form."""
        self.edit_yaml("docker-compose.yml", change)

    def edit_dashboard(self, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Change a provisioned dashboard through its parsed form."""
        path = self.root / "grafana/dashboards" / name
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data, indent=2))


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The repository's stack."""
    return Stack(REPO / "compose")


@pytest.fixture
def copy(tmp_path: Path) -> StackCopy:
    """A copy of the stack to break."""
    return StackCopy(tmp_path)
