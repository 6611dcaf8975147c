"""The engines stay pure: nothing they import, directly or through any chain of the integration's
modules, comes from Home Assistant; so they can be read and tested without it.

Pure: every module of `engines/` (a new one is checked as soon as it is there); the Zigbee2MQTT
protocol they read is a library of its own (`zigbee2mqtt_protocol`, checked in its tests). One
rule: a pure module imports only pure modules of the integration (so the whole chain is checked)
and no pure module imports `homeassistant`. `const` is not pure: it is the Home Assistant side's
constants, free to take HA's own; the engines key their options in `engines.options`. Read from
the source (see `tests.helpers.imports`), so an import made only for type checking, or inside a
function, counts. (Python also runs the integration's `__init__` when anything in the package is
imported; that is the custom component's layout, not an engine's import.)
"""

from pathlib import Path

import pytest

from tests.helpers.imports import ModuleImports, import_graph, reachable

PACKAGE = "custom_components.energy_edge"
DIRECTORY = Path(__file__).parents[2] / "custom_components" / "energy_edge"
GRAPH = import_graph(DIRECTORY, PACKAGE)
PURE_MODULES = frozenset(module for module in GRAPH if module.split(".")[0] == "engines")


def impure_imports(graph: dict[str, ModuleImports], module: str, pure: frozenset[str]) -> list[str]:
    """What makes `module` impure: each module of its chain that is not in `pure`, and each
    Home Assistant import along it."""
    found = []
    for imported in sorted(reachable(graph, module)):
        if imported not in pure:
            found.append(f"{module} reaches the non-pure module {imported or '__init__'}")
        found.extend(
            f"{imported} imports {name}"
            for name in sorted(graph[imported].outside)
            if name.split(".")[0] == "homeassistant"
        )
    return found


def test_the_engines_are_all_there() -> None:
    """The folder is read: tariffs, costs, shedding, scheduling, readings, options."""
    assert {"engines.tariff", "engines.costs", "engines.shedding", "engines.scheduling"} < (
        PURE_MODULES
    )
    assert {"engines.devices", "engines.options", "engines.estimate"} < PURE_MODULES


@pytest.mark.parametrize("module", sorted(PURE_MODULES))
def test_an_engine_reaches_nothing_from_home_assistant(module: str) -> None:
    """Neither itself nor any module it imports, however far down."""
    assert impure_imports(GRAPH, module, PURE_MODULES) == []


def test_the_check_sees_home_assistant_down_a_chain(tmp_path: Path) -> None:
    """`options` -> `const` -> `homeassistant.const`: refused for options, named where it is."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "engines").mkdir()
    (tmp_path / "engines" / "__init__.py").write_text("")
    (tmp_path / "engines" / "options.py").write_text(
        "from .tariff import Tariff\nfrom ..const import KEY\n"
    )
    (tmp_path / "engines" / "tariff.py").write_text(
        "import custom_components.energy_edge.engines.stored\n"
    )
    (tmp_path / "engines" / "stored.py").write_text("from typing import TYPE_CHECKING\n")
    (tmp_path / "const.py").write_text("from homeassistant.const import Platform\n")
    graph = import_graph(tmp_path, PACKAGE)
    pure = frozenset({"engines", "engines.options", "engines.tariff", "engines.stored"})
    assert impure_imports(graph, "engines.tariff", pure) == []
    assert impure_imports(graph, "engines.options", pure) == [
        "engines.options reaches the non-pure module const",
        "const imports homeassistant.const",
    ]
