"""Only ``apply/`` writes to BookStack: no module outside it calls a write method of the client."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import bookstack_sync
from bookstack_sync.bookstack import BookStackClient

PACKAGE = Path(bookstack_sync.__file__).parent
WRITER = PACKAGE / "apply"
CLIENT = PACKAGE / "bookstack"

WRITE_METHODS = frozenset(
    {
        "create",
        "update",
        "delete",
        "upload_image",
        "replace_image",
        "create_attachment",
        "update_attachment",
        "upload_import",
        "run_import",
    }
)


def _client_write_calls(path: Path, root: Path = PACKAGE) -> list[str]:
    """``<something client>.<write method>(...)`` calls (and ``getattr(<client>, "<write method>")``) in ``path``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
            receiver = ast.unparse(func.value)
            if "client" in receiver.lower():
                found.append(f"{path.relative_to(root)}:{node.lineno}: {receiver}.{func.attr}")
        elif (
            isinstance(func, ast.Name)
            and func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in WRITE_METHODS
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: getattr(..., {node.args[1].value!r})")
    return found


def test_the_write_methods_are_the_clients_non_reading_requests() -> None:
    """Every public client method whose requests are POST, PUT or DELETE is in the list this check looks for
    (through a private helper too: ``_upload`` sending POST makes ``upload_image`` a write)."""
    methods: dict[str, ast.FunctionDef] = {}
    for klass in reversed(BookStackClient.__mro__):  # the client and what it is made of (the uploads)
        if klass.__module__.startswith("bookstack_sync."):
            cls = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0]
            assert isinstance(cls, ast.ClassDef)
            methods |= {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}

    def calls(fn: ast.FunctionDef) -> list[ast.Call]:
        return [n for n in ast.walk(fn) if isinstance(n, ast.Call)]

    def verb(call: ast.Call) -> object:
        return call.args[0].value if call.args and isinstance(call.args[0], ast.Constant) else None

    sends = {name for name, fn in methods.items() if any(verb(c) in {"POST", "PUT", "DELETE"} for c in calls(fn))}
    for _ in range(3):  # a method calling one that writes writes too
        sends |= {
            name
            for name, fn in methods.items()
            if any(isinstance(c.func, ast.Attribute) and c.func.attr in sends for c in calls(fn))
        }
    public = {name for name in sends if not name.startswith("_")}
    assert public == WRITE_METHODS


def test_the_check_sees_the_writes_in_apply() -> None:
    calls = [call for path in sorted(WRITER.rglob("*.py")) for call in _client_write_calls(path)]
    methods = {call.rsplit(".", 1)[1] for call in calls}
    assert {"create", "update", "delete", "upload_image", "upload_import", "run_import"} <= methods, calls


def test_no_module_outside_apply_writes_to_bookstack() -> None:
    outside = [
        call
        for path in sorted(PACKAGE.rglob("*.py"))
        if WRITER not in path.parents and CLIENT not in path.parents
        for call in _client_write_calls(path)
    ]
    assert outside == []


def test_a_write_outside_apply_is_found(tmp_path: Path) -> None:
    module = tmp_path / "report.py"
    module.write_text('def f(ctx):\n    ctx.client.update("pages", 1, {"tags": []})\n    ctx.tags.update({})\n')
    found = [call.split(": ", 1)[1] for call in _client_write_calls(module, tmp_path)]
    assert found == ["ctx.client.update"]
