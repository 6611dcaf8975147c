"""Parsing, classification and energy accounting stay pure: no Home Assistant import."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "custom_components" / "energy_edge"
PURE_MODULES = ("z2m", "devices", "energy")


def _imports(module: str) -> list[tuple[str, int]]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_imports_nothing_from_home_assistant(module: str) -> None:
    """Neither directly nor through a sibling module that is not pure itself."""
    imports = _imports(module)
    assert imports  # the check reads real import statements
    for name, level in imports:
        assert name.split(".")[0] != "homeassistant", f"{module} imports {name}"
        if level:
            assert name.split(".")[0] in PURE_MODULES, f"{module} imports non-pure .{name}"
