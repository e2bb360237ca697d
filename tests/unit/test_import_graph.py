"""The package's modules import one another in one direction only: no cycles, and nothing imports ``cli``."""

from __future__ import annotations

import ast
from pathlib import Path

import bookstack_sync

PACKAGE = Path(bookstack_sync.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """The package modules ``path`` imports (relative imports only: the package never imports itself by name)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = package[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
        target = [*base, *(node.module.split(".") if node.module else [])]
        if node.module:
            found.add(".".join(target))
        else:  # from . import a, b
            found.update(".".join([*target, alias.name]) for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path, name) if m in modules and m != name} for name, path in modules.items()}


def test_no_module_imports_cli() -> None:
    graph = _graph()
    assert [name for name, deps in graph.items() if "cli" in deps and name != "__main__"] == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            # a package's __init__ re-exporting its own modules is not a cycle between stages
            if node and dep.startswith(node + "."):
                continue
            if state.get(dep) == 1:
                cycles.append([*trail[trail.index(dep) :], dep] if dep in trail else [node, dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
