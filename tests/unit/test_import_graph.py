"""The package's modules import one another in one direction only: no cycles, and nothing imports ``cli``.

Both import forms count: ``from .x import y`` and ``from bookstack_sync.x import y`` / ``import bookstack_sync.x``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bookstack_sync

PACKAGE = Path(bookstack_sync.__file__).parent
TOP = PACKAGE.name


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, name: str, top: str) -> set[str]:
    """The package modules ``path`` imports, by their name inside the package, and the names imported from them
    (``from . import a`` may name a module; the graph keeps only the names that are modules)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == top:
                    found.add(".".join(parts[1:]))
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
            target = [*base, *(node.module.split(".") if node.module else [])]
        elif node.module and node.module.split(".")[0] == top:
            target = node.module.split(".")[1:]
        else:
            continue
        found.add(".".join(target))
        found.update(".".join([*target, alias.name]) for alias in node.names)  # from . import a, b
    return found


def import_graph(package: Path, top: str) -> dict[str, set[str]]:
    modules = {_module_name(p, package): p for p in package.rglob("*.py")}
    return {
        name: {m for m in _imports(path, name, top) if m in modules and m != name} for name, path in modules.items()
    }


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            # a module's own packages are loaded before it (importing them back is no cycle between stages)
            if dep == "" or node.startswith(dep + "."):
                continue
            if state.get(dep) == 1:
                cycles.append([*trail[trail.index(dep) :], dep] if dep in trail else [node, dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_no_module_imports_cli() -> None:
    graph = import_graph(PACKAGE, TOP)
    assert [name for name, deps in graph.items() if "cli" in deps and name != "__main__"] == []


def test_the_import_graph_has_no_cycle() -> None:
    assert find_cycles(import_graph(PACKAGE, TOP)) == []


def test_a_cycle_through_absolute_imports_is_found(tmp_path: Path) -> None:
    """A copy of the package where the client imports a module that imports it back, by absolute name:
    the cycle the check must see (the ``bookstack/`` modules once imported only by absolute name)."""
    copy = tmp_path / TOP
    for source in PACKAGE.rglob("*.py"):
        target = copy / source.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert find_cycles(import_graph(copy, TOP)) == []
    client = copy / "bookstack" / "client.py"
    client.write_text(client.read_text(encoding="utf-8") + f"\nimport {TOP}.plan.remote\n", encoding="utf-8")
    cycles = find_cycles(import_graph(copy, TOP))
    assert any("bookstack.client" in cycle and "plan.remote" in cycle for cycle in cycles), cycles


def test_a_relative_and_an_absolute_import_name_the_same_module(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "b.py").write_text("from pkg import a\n")
    assert import_graph(package, "pkg")["sub.b"] == {"", "a"}  # `from pkg import` loads the package first
    assert import_graph(package, "pkg")["a"] == {"sub", "sub.b"}
    assert find_cycles(import_graph(package, "pkg")) != []


def test_the_folders_import_one_another_one_way() -> None:
    """Stages, not only modules, depend one way: docs → markdown → check, plan → apply, and so on."""
    graph = import_graph(PACKAGE, TOP)
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}

    def folder(module: str) -> str | None:
        head = module.split(".")[0]
        return head if head in folders else None

    folder_graph: dict[str, set[str]] = {f: set() for f in folders}
    for module, deps in graph.items():
        for dep in deps:
            a, b = folder(module), folder(dep)
            if a and b and a != b:
                folder_graph[a].add(b)
    assert find_cycles(folder_graph) == []


def test_the_modules_every_stage_shares_import_no_stage() -> None:
    """``settings`` is the first stage and ``errors``, ``model`` and ``git`` are what every stage shares: none
    of them reaches into a stage's folder (only ``cli`` at the top drives the commands)."""
    graph = import_graph(PACKAGE, TOP)
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    shared = {name for name in graph if name and "." not in name and name not in folders} - {"cli", "__main__"}
    assert {"settings", "errors", "model", "git"} <= shared
    reaching = {name: sorted(d for d in graph[name] if d.split(".")[0] in folders) for name in sorted(shared)}
    assert {name: deps for name, deps in reaching.items() if deps} == {}
