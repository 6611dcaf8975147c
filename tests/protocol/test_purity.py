"""The protocol library stands on its own: the standard library and orjson, nothing else.

Read from the source (see `tests.helpers.imports`), so an import made only for type checking, or
inside a function, counts; and its distribution declares no other dependency, so that Home
Assistant installs nothing else for it and the bridge's image carries nothing more.
"""

from pathlib import Path
import sys
import tomllib

from tests.helpers.imports import import_graph

ROOT = Path(__file__).parents[2] / "protocol"
GRAPH = import_graph(ROOT / "zigbee2mqtt_protocol", "zigbee2mqtt_protocol")
ALLOWED = frozenset(sys.stdlib_module_names) | {"orjson"}


def test_every_module_imports_only_the_standard_library_and_orjson() -> None:
    """Neither Home Assistant, FastAPI, paho nor the integration or the bridge."""
    assert {"topics", "payloads", "bridge", "discovery", "metering", "home"} <= set(GRAPH)
    outside = {
        f"{module}: {name}"
        for module, imports in GRAPH.items()
        for name in imports.outside
        if name.split(".")[0] not in ALLOWED
    }
    assert outside == set()


def test_the_distribution_depends_on_orjson_only() -> None:
    """What pip installs with it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert [dependency.split(">")[0] for dependency in project["dependencies"]] == ["orjson"]
