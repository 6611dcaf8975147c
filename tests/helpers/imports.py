"""A package's import graph read from its source with `ast`, without importing anything.

Each module is a node, named by its dotted path inside the package (`hub`, `engines.tariff`);
a package's `__init__` is named by the package (`""` for the top one, `engines`). An arrow goes
from a module to each module of the package it imports, relative (`from .x import y`,
`from . import x`) or absolute (`from energy_edge_bridge.x import y`). Python also runs the
parents' `__init__` of whatever it imports; those implicit arrows are not counted, they are
the package's layout, not a module's choice.

Imports under `if TYPE_CHECKING:` are arrows too: a module that names another only for its
types still depends on it, and the house rule is that nothing below imports what stands above
it, not even for a type. Imports of other packages (`homeassistant`, `orjson`) are kept apart,
for the purity check.
"""

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ModuleImports:
    """What one module imports: modules of its package, and other packages' (dotted names)."""

    inside: frozenset[str]
    outside: frozenset[str]


def _statements(source: str) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def module_imports(
    source: str, module: str, *, is_package: bool, package: str, modules: frozenset[str]
) -> ModuleImports:
    """The imports of `module` (a package's `__init__` if `is_package`) of `package`, a dotted
    name, whose modules are `modules`."""
    inside: set[str] = set()
    outside: set[str] = set()
    here = module if is_package else module.rpartition(".")[0]

    def add(target: str, names: list[str]) -> None:
        """`from target import names` (or `import target`, no names): the deepest modules."""
        for name in names or [""]:
            if name and _join(target, name) in modules:  # `from . import x`: x is a module
                inside.add(_join(target, name))
                continue
            found = target
            while found and found not in modules:  # `import pkg.mod.Class`: pkg.mod
                found = found.rpartition(".")[0]
            inside.add(found)

    for node in _statements(source):
        if isinstance(node, ast.Import):
            targets = [(alias.name, []) for alias in node.names]
        elif node.level == 0:
            targets = [(node.module or "", [alias.name for alias in node.names])]
        else:
            base = here.split(".") if here else []
            base = base[: len(base) - (node.level - 1)]
            local = _join(".".join(base), node.module or "")
            add(local, [alias.name for alias in node.names])
            continue
        for target, names in targets:
            if target == package or target.startswith(f"{package}."):
                add(target.removeprefix(package).removeprefix("."), names)
            else:
                outside.add(target)
    inside.discard(module)
    return ModuleImports(frozenset(inside), frozenset(outside))


def import_graph(directory: Path, package: str) -> dict[str, ModuleImports]:
    """Each module of the package in `directory` (dotted name `package`), with its imports."""
    paths: dict[str, tuple[Path, bool]] = {}
    for path in sorted(directory.rglob("*.py")):
        parts = path.relative_to(directory).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        paths[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    modules = frozenset(paths)
    return {
        module: module_imports(
            path.read_text(encoding="utf-8"),
            module,
            is_package=is_package,
            package=package,
            modules=modules,
        )
        for module, (path, is_package) in paths.items()
    }


def find_cycle(graph: Mapping[str, ModuleImports]) -> list[str] | None:
    """One import cycle (its modules in order, the first repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        path.append(module)
        for imported in sorted(graph[module].inside):
            if (cycle := visit(imported)) is not None:
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if (cycle := visit(module)) is not None:
            return cycle
    return None


def reachable(graph: Mapping[str, ModuleImports], start: str) -> set[str]:
    """`start` and the modules of its package it imports, directly or through others."""
    seen = {start}
    todo = [start]
    while todo:
        for imported in graph[todo.pop()].inside:
            if imported not in seen:
                seen.add(imported)
                todo.append(imported)
    return seen
