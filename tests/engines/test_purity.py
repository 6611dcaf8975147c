"""The engines stay pure: nothing they import, directly or through any chain of the integration's
modules, comes from Home Assistant; so they can be read and tested without it.

One list of pure modules, one rule: a pure module imports only pure modules of the integration
(so the whole chain is checked) and no pure module imports `homeassistant`. `const` is not pure:
it is the Home Assistant side's constants, free to take HA's own; the engines key their options
in `options`. Read from the source (see `tests.helpers.imports`), so an import made only for type
checking, or inside a function, counts. (Python also runs the integration's `__init__` when
anything in the package is imported; that is the custom component's layout, not an engine's
import.)
"""

from pathlib import Path

import pytest

from tests.helpers.imports import ModuleImports, import_graph, reachable

PACKAGE = "custom_components.energy_edge"
DIRECTORY = Path(__file__).parents[2] / "custom_components" / "energy_edge"
PURE_MODULES = frozenset(
    {
        # Zigbee2MQTT's payloads, device classification, energy accounting
        "z2m",
        "devices",
        "energy",
        # Tariffs and prices, costs, shedding, scheduling, the usual load, the options
        "tariff",
        "regulated",
        "costs",
        "shedding",
        "estimate",
        "scheduling",
        "load_profile",
        "stored",
        "options",
        "off_peak_check",
        "energy_preferences",
        "errors",
    }
)


def impure_imports(graph: dict[str, ModuleImports], module: str) -> list[str]:
    """What makes `module` impure: each module of its chain that is not pure, and each
    Home Assistant import along it."""
    found = []
    for imported in sorted(reachable(graph, module)):
        if imported not in PURE_MODULES:
            found.append(f"{module} reaches the non-pure module {imported or '__init__'}")
        found.extend(
            f"{imported} imports {name}"
            for name in sorted(graph[imported].outside)
            if name.split(".")[0] == "homeassistant"
        )
    return found


@pytest.mark.parametrize("module", sorted(PURE_MODULES))
def test_an_engine_reaches_nothing_from_home_assistant(module: str) -> None:
    """Neither itself nor any module it imports, however far down."""
    assert impure_imports(import_graph(DIRECTORY, PACKAGE), module) == []


def test_the_check_sees_home_assistant_down_a_chain(tmp_path: Path) -> None:
    """`options` -> `const` -> `homeassistant.const`: refused for options, named where it is."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "options.py").write_text("from .tariff import Tariff\nfrom .const import KEY\n")
    (tmp_path / "tariff.py").write_text("import custom_components.energy_edge.stored\n")
    (tmp_path / "stored.py").write_text("from typing import TYPE_CHECKING\n")
    (tmp_path / "const.py").write_text("from homeassistant.const import Platform\n")
    graph = import_graph(tmp_path, PACKAGE)
    assert impure_imports(graph, "tariff") == []
    assert impure_imports(graph, "options") == [
        "options reaches the non-pure module const",
        "const imports homeassistant.const",
    ]
