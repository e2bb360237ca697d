"""What a sync costs against a real BookStack, and whether restructures keep its ids there.

Generates a small tree with ``bench/gen_tree.py`` (default 2 shelves, 4 books, 16 chapters, 68 pages: 16
in each book's chapters and one page directly in the book), in a git repository, and runs the plugin's
entrypoint against the BookStack named by ``BOOKSTACK_URL``, ``BOOKSTACK_TOKEN_ID`` and
``BOOKSTACK_TOKEN_SECRET``: for each ``--concurrency`` value the initial sync into a BookStack that holds
none of the tree, then the no-op run after it (wall time, requests, writes, from the run's JSON report);
everything is deleted and purged from the recycle bin before the next value. With ``--restructure``, after
the last initial sync: a page inserted at the head of a chapter and the rest renumbered, a chapter's slug
renamed, a book moved to the other shelf (with a new slug) — each committed with ``git mv`` and synced,
checking that every object keeps its id and nothing is left behind (on the same tree without links, as a
renumber breaks the generated links between neighbouring pages).

Each run starts in a fresh rate-limit window (``--pause`` seconds after the previous one; BookStack's
window is a fixed 60 s), so a run never pays for the one before. The token needs the admin's recycle-bin
permissions for the clean-up; the tree's keys (``shelf-01/...``) must not exist on the server yet.

    BOOKSTACK_URL=... BOOKSTACK_TOKEN_ID=... BOOKSTACK_TOKEN_SECRET=... \\
        .venv/bin/python bench/real_sync.py [--concurrency 1,4] [--restructure] [--pause 61]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gen_tree import add_shape_arguments, generate_tree, page_files, shape_of
from bench.sync_cost import _commit, _git, _move, _move_book, _renumber_chapter, _structure
from bookstack_sync.bookstack import BookStackClient
from bookstack_sync.cli import main as plugin_main

MANAGED_TAG = "bookstack-sync"
_KINDS = {"page": "pages", "chapter": "chapters", "book": "books", "bookshelf": "shelves"}
_TREE_PREFIX = "shelf-0"  # every key of the generated tree starts so (shelf-01/..., shelf-02/...)


def _client() -> BookStackClient:
    return BookStackClient(
        os.environ["BOOKSTACK_URL"], os.environ["BOOKSTACK_TOKEN_ID"], os.environ["BOOKSTACK_TOKEN_SECRET"]
    )


def _ids(client: BookStackClient) -> dict[str, int]:
    """``<type>:<key>`` -> id of every object of the generated tree on the server (the plugin's tag)."""
    found: dict[str, int] = {}
    for hit in client.search(f"[{MANAGED_TAG}]"):
        for tag in hit.get("tags", []):
            value = str(tag.get("value", ""))
            if tag.get("name") == MANAGED_TAG and value.startswith(_TREE_PREFIX):
                found[f"{hit['type']}:{value}"] = int(hit["id"])
    return found


def _clean(client: BookStackClient) -> int:
    """Delete the generated tree's shelves and books (their chapters and pages go with them) and purge them."""
    ids = _ids(client)
    gone: set[tuple[str, int]] = set()
    for typed, item_id in ids.items():
        kind = typed.partition(":")[0]
        if kind in ("book", "bookshelf"):
            client.delete(_KINDS[kind], item_id)
            gone.add((kind, item_id))
    for entry in list(client.list("recycle-bin")):
        if (entry.get("deletable_type"), entry.get("deletable_id")) in gone:
            client.delete("recycle-bin", int(entry["id"]))
    return len(ids)


def _run(workspace: Path, docs: Path, concurrency: int) -> tuple[int, dict[str, Any], float]:
    report = workspace / "report.json"
    environ = {
        "CI_PIPELINE_EVENT": "push",
        "CI_WORKSPACE": str(workspace),
        "PLUGIN_URL": os.environ["BOOKSTACK_URL"],
        "PLUGIN_TOKEN_ID": os.environ["BOOKSTACK_TOKEN_ID"],
        "PLUGIN_TOKEN_SECRET": os.environ["BOOKSTACK_TOKEN_SECRET"],
        "PLUGIN_DOCS_DIR": str(docs),
        "PLUGIN_CONCURRENCY": str(concurrency),
        "PLUGIN_REPORT": str(report),
        "PLUGIN_SUMMARY": "",
        "PLUGIN_LOG_LEVEL": "error",
    }
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = plugin_main([], environ)
    elapsed = time.perf_counter() - start
    requests: dict[str, Any] = json.loads(report.read_text(encoding="utf-8")).get("requests", {})
    return code, requests, elapsed


def _row(label: str, code: int, requests: dict[str, Any], elapsed: float, note: str = "") -> None:
    print(
        f"{label:34} {code:>4} {requests.get('total', 0):>9} {requests.get('reads', 0):>6} "
        f"{requests.get('writes', 0):>7} {elapsed:>8.1f}  {note}".rstrip(),
        flush=True,
    )


def _rename_chapter(workspace: Path, docs: Path) -> dict[str, str]:
    """shelf-01/book-01/chapter-02 becomes chapter-02-renamed: folder, structure slug, pages' category."""
    path, data = _structure(docs)
    chapter = data["structure"][0]["shelf"]["books"][0]["book"]["chapters"][1]["chapter"]
    old_slug, new_slug = chapter["slug"], f"{chapter['slug']}-renamed"
    chapter["slug"] = new_slug
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    old, new = docs / "shelf-01" / "book-01" / old_slug, docs / "shelf-01" / "book-01" / new_slug
    _move(workspace, old, new, tracked=True)
    pages = sorted(new.glob("*.md"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace(f'category: "{old_slug}"', f'category: "{new_slug}"'), encoding="utf-8")
    _commit(workspace, "chapter 2 gets a new slug", tracked=True)
    return {f"{old.relative_to(docs)}/{p.name}": f"{new.relative_to(docs)}/{p.name}" for p in pages}


def _move_book_and_its_pages(workspace: Path, docs: Path) -> dict[str, str]:
    """shelf-01/book-02 to shelf-02 as book-06; its book-level pages' category follows the new slug."""
    moved = _move_book(workspace, docs, tracked=True)
    for page in (docs / "shelf-02" / "book-06").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace('category: "book-02"', 'category: "book-06"'), encoding="utf-8")
    _commit(workspace, "book 1.2's own pages name their new book", tracked=True)
    return moved


def _restructure(workspace: Path, docs: Path, concurrency: int, pause: float) -> None:
    client = _client()
    try:
        restructures: tuple[tuple[str, Callable[[], dict[str, str]]], ...] = (
            ("renumber a chapter (+1 page)", lambda: _renumber_chapter(workspace, docs, tracked=True)),
            ("rename a chapter's slug", lambda: _rename_chapter(workspace, docs)),
            ("move a book to the other shelf", lambda: _move_book_and_its_pages(workspace, docs)),
        )
        for label, restructure in restructures:
            before = _ids(client)
            moved = restructure()
            time.sleep(pause)
            code, requests, elapsed = _run(workspace, docs, concurrency)
            after = _ids(client)
            # books, chapters and pages count their ids apart on BookStack before v26: compare (type, id)
            remaining = {(typed.partition(":")[0], item_id) for typed, item_id in after.items()}
            lost = sorted(
                typed for typed, item_id in before.items() if (typed.partition(":")[0], item_id) not in remaining
            )
            kept = len(before) - len(lost)
            own = sum(1 for old, new in moved.items() if before.get(f"page:{old}") == after.get(f"page:{new}"))
            stale = sorted(typed for typed in after if not (docs / typed.partition(":")[2]).exists())
            _row(
                label,
                code,
                requests,
                elapsed,
                f"({len(moved)} pages moved, {own} kept their own id; {kept} of {len(before)} ids kept, "
                f"{len(after) - len(before)} new objects, "
                f"{len(stale)} left behind{': ' + ', '.join(stale) if stale else ''}"
                f"{'; ids gone: ' + ', '.join(lost) if lost else ''})",
            )
    finally:
        client.close()


@contextlib.contextmanager
def _tree(args: argparse.Namespace, *, with_links: bool) -> Iterator[tuple[Path, Path]]:
    """A generated tree committed to a fresh git repository; its objects are deleted from BookStack afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        docs = generate_tree(workspace / "docs", *shape_of(args), with_links=with_links, book_pages=args.book_pages)
        _git(workspace, "init", "-q", "-b", "main")
        _commit(workspace, "docs", tracked=True)
        pages = len(page_files(docs))
        print(f"tree: {pages} pages (bench/gen_tree.py{'' if with_links else ', no links'}), in git", flush=True)
        try:
            yield workspace, docs
        finally:
            with contextlib.closing(_client()) as client:
                _clean(client)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shape_arguments(parser, 2, 2, 4, 4, book_pages=1)
    parser.add_argument("--concurrency", default="1,4", help="comma-separated values, one initial sync each")
    parser.add_argument("--restructure", action="store_true", help="restructure cases after the last initial sync")
    parser.add_argument("--pause", type=float, default=61.0, help="seconds between runs (a fresh rate-limit window)")
    args = parser.parse_args()
    missing = [n for n in ("BOOKSTACK_URL", "BOOKSTACK_TOKEN_ID", "BOOKSTACK_TOKEN_SECRET") if not os.environ.get(n)]
    if missing:
        parser.error(f"set {', '.join(missing)} to the BookStack to measure")
    with contextlib.closing(_client()) as client:
        if _ids(client):
            parser.error(f"{os.environ['BOOKSTACK_URL']} already holds objects of the generated tree (shelf-0*)")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"BookStack: {os.environ['BOOKSTACK_URL']}")
    values = [int(v) for v in args.concurrency.split(",")]
    print(f"{'run':34} {'exit':>4} {'requests':>9} {'reads':>6} {'writes':>7} {'seconds':>8}")
    for concurrency in values:
        with _tree(args, with_links=True) as (workspace, docs):
            for label in ("initial sync", "no-op"):
                time.sleep(args.pause)
                code, requests, elapsed = _run(workspace, docs, concurrency)
                _row(f"{label} (concurrency {concurrency})", code, requests, elapsed)
    if args.restructure:
        with _tree(args, with_links=False) as (workspace, docs):
            print(f"restructures (the same tree without links, concurrency {values[-1]}):")
            time.sleep(args.pause)
            _row("initial sync", *_run(workspace, docs, values[-1]))
            _restructure(workspace, docs, values[-1], args.pause)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
