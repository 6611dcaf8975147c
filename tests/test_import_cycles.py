"""Arrows run one way: no module of a package imports, through any chain, a module that imports it.

Read from the source (see `tests.helpers.imports`); imports made only for type checking count.
"""

from pathlib import Path

import pytest

from tests.helpers.imports import find_cycle, import_graph

ROOT = Path(__file__).parents[1]
PACKAGES = {
    "custom_components.energy_edge": ROOT / "custom_components" / "energy_edge",
    "energy_edge_bridge": ROOT / "bridge" / "energy_edge_bridge",
    "energy_edge_sim": ROOT / "simulator" / "energy_edge_sim",
    "zigbee2mqtt_protocol": ROOT / "protocol" / "zigbee2mqtt_protocol",
}


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_has_no_import_cycle(package: str) -> None:
    """Not even one made of imports under `if TYPE_CHECKING:`."""
    graph = import_graph(PACKAGES[package], package)
    assert sum(len(module.inside) for module in graph.values()) > len(graph) / 2  # real arrows
    assert find_cycle(graph) is None


def test_the_check_sees_a_cycle_through_type_checking_imports(tmp_path: Path) -> None:
    """`services` imports `__init__`'s entry type for mypy only; `__init__` imports `services`."""
    graph = import_graph(
        _write(
            tmp_path,
            {
                "__init__.py": "from .services import setup\n",
                "services.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from . import Entry\n",
            },
        ),
        "pkg",
    )
    assert find_cycle(graph) == ["", "services", ""]


def test_the_check_sees_a_cycle_through_a_lazy_absolute_import(tmp_path: Path) -> None:
    """`api` imports `service` inside a function, by its absolute name; `service` imports `api`."""
    graph = import_graph(
        _write(
            tmp_path,
            {
                "__init__.py": "",
                "api.py": "def create_app():\n    from pkg.service import Bridge\n",
                "service.py": "from .api import make_api\n",
            },
        ),
        "pkg",
    )
    assert find_cycle(graph) == ["api", "service", "api"]


def test_the_check_follows_subpackages_and_ignores_other_packages(tmp_path: Path) -> None:
    """`..const` from a subpackage is the top package's `const`; `orjson` is not an arrow."""
    graph = import_graph(
        _write(
            tmp_path,
            {
                "__init__.py": "from .engines import tariff\n",
                "const.py": "import orjson\n",
                "engines/__init__.py": "",
                "engines/tariff.py": "from ..const import DOMAIN\nfrom . import costs\n",
                "engines/costs.py": "import pkg.engines.tariff\n",
            },
        ),
        "pkg",
    )
    assert graph["engines.tariff"].inside == {"const", "engines.costs"}
    assert graph["const"].outside == {"orjson"}
    assert find_cycle(graph) == ["engines.tariff", "engines.costs", "engines.tariff"]


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(source, encoding="utf-8")
    return directory
