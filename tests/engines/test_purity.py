"""The engines stay pure: no Home Assistant import, so they can be read and tested without it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "custom_components" / "energy_edge"
PURE_MODULES = (
    "tariff",
    "costs",
    "shedding",
    "estimate",
    "scheduling",
    "load_profile",
    "stored",
    "options",
    "regulated",
    "off_peak_check",
    "const",
    "energy_preferences",
)


def imported_modules(source: str) -> list[tuple[str, int]]:
    """Every module an import statement names, with its relative level (0: absolute)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module is None:  # `from . import x`: each name is a sibling module
                found.extend((alias.name, node.level) for alias in node.names)
            else:
                found.append((node.module, node.level))
    return found


@pytest.mark.parametrize("module", PURE_MODULES)
def test_an_engine_imports_nothing_from_home_assistant(module: str) -> None:
    """Neither directly nor through a sibling module of the integration."""
    for name, level in imported_modules((PACKAGE / f"{module}.py").read_text(encoding="utf-8")):
        assert name.split(".")[0] != "homeassistant", f"{module} imports {name}"
        if level:
            assert name.split(".")[0] in PURE_MODULES, f"{module} imports non-pure .{name}"


def test_the_check_sees_home_assistant_imports() -> None:
    """The parser catches the import forms a module could use."""
    source = "import homeassistant.core\nfrom homeassistant.const import X\nfrom . import const\n"
    assert imported_modules(source) == [
        ("homeassistant.core", 0),
        ("homeassistant.const", 0),
        ("const", 1),
    ]
