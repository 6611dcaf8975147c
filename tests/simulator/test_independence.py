"""The simulator is its own reading of Zigbee2MQTT's protocol: were it to import the bridge, the
integration or the protocol library they share, a misreading shared by them would pass every
end-to-end test unseen."""

import ast
from pathlib import Path

import energy_edge_sim

PACKAGE = Path(energy_edge_sim.__file__).parent
FORBIDDEN = ("energy_edge_bridge", "custom_components", "homeassistant", "zigbee2mqtt_protocol")


def imported_modules(source: Path) -> set[str]:
    """Every absolute module a Python file imports, wherever the import statement stands."""
    modules = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_the_simulator_imports_neither_the_bridge_nor_the_integration() -> None:
    """No module of energy_edge_sim imports the bridge, the integration, their protocol library
    or Home Assistant."""
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 10
    found = {
        f"{source.relative_to(PACKAGE)}: {module}"
        for source in sources
        for module in imported_modules(source)
        if module.split(".")[0] in FORBIDDEN
    }
    assert found == set()


def test_an_import_of_the_bridge_is_found(tmp_path: Path) -> None:
    """Even inside a function, as a deferred import would be."""
    source = tmp_path / "sneaky.py"
    source.write_text("def f():\n    from energy_edge_bridge.settings import MqttSettings\n")
    assert imported_modules(source) == {"energy_edge_bridge.settings"}
