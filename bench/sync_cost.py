"""What a sync costs in BookStack API requests, against the fake BookStack on loopback.

Builds the 1,000-page tree (4 shelves, 20 books, 100 chapters) with ``bench/gen_tree.py`` and runs the
plugin's entrypoint for: the initial sync into an empty BookStack, a no-op run, one page edited, 10% of
the pages edited, and a manual full resync (all with ``--import-mode``, default ``never``). The full
resync reads every page's content: one ZIP export per book on v25.07+, one read per page on older
servers (``--bookstack-version v25.02.4``); a line after it says which. Then, on a fresh fake, the
initial sync via ZIP import (``import: auto``) and the no-op run after it, naming the books that went by
import. Request counts are what matter (BookStack allows 180 a minute by default and a real server
spends ~300 ms on each); wall time on loopback is printed too. Prints figures; not a test.

Restructure rows, on a 1,000-page tree shaped for them (4 shelves, 20 books of 2 chapters of 25 pages,
no links) in a git repository, synced first: a page inserted at the head of a 25-page chapter and the
25 pages renumbered after it (``git mv``, ``order`` fixed), then a 50-page book moved to another shelf
(its slug changed too: the shelf already has a book of that slug). Each restructure once with git
history and once without (the same tree outside git), every id kept in both.

    .venv/bin/python bench/sync_cost.py [--pages-per-chapter 10] [--import-mode auto|never]
        [--bookstack-version v25.11.0]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bookstack import FakeBookStack

from bench.gen_tree import add_shape_arguments, generate_tree, page_files, shape_of
from bookstack_sync.cli import main as plugin_main


def _edit(docs: Path, fraction: float) -> int:
    pages = page_files(docs)
    step = max(1, round(1 / fraction)) if fraction < 1 else 1
    edited = pages[::step] if fraction < 1 else pages
    for page in edited:
        page.write_text(page.read_text(encoding="utf-8") + "\nEdited for the benchmark.\n", encoding="utf-8")
    return len(edited)


def _run(
    fake: FakeBookStack,
    docs: Path,
    workspace: Path,
    event: str,
    import_mode: str,
    report: str = "",
    **settings: str,
) -> tuple[int, Counter[str], float]:
    fake.requests.clear()
    environ = {
        "CI_PIPELINE_EVENT": event,
        "CI_WORKSPACE": str(workspace),
        "PLUGIN_URL": fake.url,
        "PLUGIN_TOKEN_ID": fake.token_id,
        "PLUGIN_TOKEN_SECRET": fake.token_secret,
        "PLUGIN_DOCS_DIR": str(docs),
        "PLUGIN_RATE_LIMIT": "0",
        "PLUGIN_REPORT": report,
        "PLUGIN_SUMMARY": "",
        "PLUGIN_IMPORT": import_mode,
        "PLUGIN_LOG_LEVEL": "error",
        # CI_* names are Woodpecker's own variables; the others are settings
        **{name if name.startswith("CI_") else f"PLUGIN_{name.upper()}": value for name, value in settings.items()},
    }
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = plugin_main([], environ)
    elapsed = time.perf_counter() - start
    counts: Counter[str] = Counter("read" if r.method in ("GET", "HEAD") else "write" for r in fake.requests)
    return code, counts, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shape_arguments(parser)
    parser.add_argument("--import-mode", choices=["auto", "never"], default="never")
    parser.add_argument("--bookstack-version", default="v25.11.0", help="the fake's version (v25.02.4: no exports)")
    parser.add_argument(
        "--latency", type=float, default=0.24, help="seconds per request for the concurrency rows (0: skip them)"
    )
    parser.add_argument("--only-concurrency", action="store_true", help="only the concurrency rows")
    parser.add_argument(
        "--floor", action="store_true", help="also the 1,000-page initial sync at the latency and 180 a minute (~7 min)"
    )
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if args.latency > 0:
        _concurrency_rows(args.latency, args.bookstack_version, floor=args.floor)
    if args.only_concurrency:
        return 0
    with tempfile.TemporaryDirectory() as tmp, _fake(args.bookstack_version) as fake:
        workspace = Path(tmp)
        docs = generate_tree(workspace / "docs", *shape_of(args))
        pages = len(page_files(docs))
        print(
            f"tree: {args.shelves} shelves, {args.shelves * args.books_per_shelf} books, "
            f"{args.shelves * args.books_per_shelf * args.chapters_per_book} chapters, {pages} pages; "
            f"import: {args.import_mode}; BookStack {args.bookstack_version}"
        )
        print(f"{'run':28} {'exit':>4} {'requests':>9} {'reads':>6} {'writes':>7} {'seconds':>8}")
        scenarios = [
            ("initial sync", "push", 0.0),
            ("no-op", "push", 0.0),
            ("1 page edited", "push", -1.0),
            ("10% of pages edited", "push", 0.1),
            ("full resync (manual)", "manual", 0.0),
        ]
        for label, event, edit in scenarios:
            if edit == -1.0:
                first = page_files(docs)[0]
                first.write_text(first.read_text(encoding="utf-8") + "\nOne edit.\n", encoding="utf-8")
            elif edit > 0:
                _edit(docs, edit)
            code, counts, elapsed = _run(fake, docs, workspace, event, args.import_mode)
            total = counts["read"] + counts["write"]
            print(f"{label:28} {code:>4} {total:>9} {counts['read']:>6} {counts['write']:>7} {elapsed:>8.2f}")
            if event == "manual":
                print(f"  {_content_reads(fake)}")
        with _fake(args.bookstack_version) as fresh:
            docs = generate_tree(workspace / "docs-import", *shape_of(args))
            report = workspace / "import-report.json"
            for label in ("initial sync via import", "no-op after import"):
                code, counts, elapsed = _run(fresh, docs, workspace, "push", "auto", str(report))
                total = counts["read"] + counts["write"]
                print(f"{label:28} {code:>4} {total:>9} {counts['read']:>6} {counts['write']:>7} {elapsed:>8.2f}")
                if label == "initial sync via import":
                    by_route = _book_routes(report)
        imported = sorted(key for key, route in by_route.items() if route == "import")
        others = sorted(key for key, route in by_route.items() if route != "import")
        print(f"books by ZIP import: {len(imported)} of {len(by_route)}: {', '.join(imported)}")
        if others:
            print(f"books object by object: {', '.join(others)}")
    for tracked in (True, False):
        _restructure_rows(args.bookstack_version, tracked=tracked)
    return 0


_GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org", "GIT_CONFIG_NOSYSTEM": "1"}


def _git(workspace: Path, *args: str) -> None:
    env = {**os.environ, **_GIT_ENV, "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    subprocess.run(["git", *args], cwd=workspace, env={**env, "HOME": str(workspace)}, check=True, capture_output=True)


def _move(workspace: Path, old: Path, new: Path, *, tracked: bool) -> None:
    new.parent.mkdir(parents=True, exist_ok=True)
    if tracked:
        _git(workspace, "mv", str(old), str(new))
    else:
        shutil.move(old, new)


def _commit(workspace: Path, message: str, *, tracked: bool) -> None:
    if tracked:
        _git(workspace, "add", "-A")
        _git(workspace, "commit", "-q", "-m", message)


def _structure(docs: Path) -> tuple[Path, dict[str, Any]]:
    path = docs / "bookstack" / "bookstack-structure.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return path, data


def _renumber_chapter(workspace: Path, docs: Path, *, tracked: bool) -> dict[str, str]:
    """A new first page in shelf-01/book-01/chapter-01; every page after it one number up. Returns the
    page keys moved (old -> new)."""
    chapter = docs / "shelf-01" / "book-01" / "chapter-01"
    pages = sorted(chapter.glob("*.md"), reverse=True)  # highest first: no new name is taken yet
    moved: dict[str, str] = {}
    for page in pages:
        number = int(page.name[:2])
        new = chapter / f"{number + 1:02d}{page.name[2:]}"
        moved[page.relative_to(docs).as_posix()] = new.relative_to(docs).as_posix()
        _move(workspace, page, new, tracked=tracked)
        new.write_text(
            new.read_text(encoding="utf-8").replace(f"order: {number:02d}", f"order: {number + 1:02d}"),
            encoding="utf-8",
        )
    text = pages[-1].with_name("01-introduction.md")
    first = (chapter / f"02{pages[-1].name[2:]}").read_text(encoding="utf-8")
    text.write_text(first.replace("order: 02", "order: 01").replace("Overview", "Introduction"), encoding="utf-8")
    path, data = _structure(docs)
    chapter_entry = data["structure"][0]["shelf"]["books"][0]["book"]["chapters"][0]["chapter"]
    chapter_entry["pages"] = ["01-introduction"] + [f"{int(p[:2]) + 1:02d}{p[2:]}" for p in chapter_entry["pages"]]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _commit(workspace, "chapter-01: an introduction first", tracked=tracked)
    return moved


def _move_book(workspace: Path, docs: Path, *, tracked: bool) -> dict[str, str]:
    """shelf-01/book-02 to shelf-02 as book-06 (shelf-02 has a book-02 already). Returns the page keys
    moved (old -> new)."""
    path, data = _structure(docs)
    shelves = [entry["shelf"] for entry in data["structure"]]
    book = shelves[0]["books"].pop(1)
    book["book"]["slug"] = "book-06"
    shelves[1]["books"].append(book)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    old, new = docs / "shelf-01" / "book-02", docs / "shelf-02" / "book-06"
    moved = {
        page.relative_to(docs).as_posix(): (new / page.relative_to(old)).relative_to(docs).as_posix()
        for page in old.rglob("*.md")
    }
    _move(workspace, old, new, tracked=tracked)
    _commit(workspace, "book 1.2 moves to shelf 2", tracked=tracked)
    return moved


def _ids(fake: FakeBookStack) -> dict[str, int]:
    """Every object by its source key (the plugin's tag), for checking that ids were kept."""
    found: dict[str, int] = {}
    for kind, objects in (("page", fake.state.pages), ("chapter", fake.state.chapters), ("book", fake.state.books)):
        for obj in objects.values():
            for tag in obj.tags:
                if tag.name == "bookstack-sync":
                    found[f"{kind}:{tag.value}"] = obj.id
    return found


def _restructure_rows(version: str, *, tracked: bool) -> None:
    history = "git history" if tracked else "no history"
    with tempfile.TemporaryDirectory() as tmp, _fake(version) as fake:
        workspace = Path(tmp)
        docs = generate_tree(workspace / "docs", 4, 5, 2, 25, with_links=False)
        if tracked:
            _git(workspace, "init", "-q", "-b", "main")
        _commit(workspace, "docs", tracked=tracked)
        print(f"restructures ({history}): 4 shelves, 20 books of 2 chapters of 25 pages, 1000 pages, no links")
        code, counts, elapsed = _run(fake, docs, workspace, "push", "never")
        print(
            f"{'  initial sync':28} {code:>4} {sum(counts.values()):>9} {counts['read']:>6} {counts['write']:>7} {elapsed:>8.2f}"
        )
        for label, restructure in (
            ("  renumber 25-page chapter", _renumber_chapter),
            ("  move 50-page book", _move_book),
        ):
            before = _ids(fake)
            moved = restructure(workspace, docs, tracked=tracked)
            code, counts, elapsed = _run(fake, docs, workspace, "push", "never")
            after = _ids(fake)
            kept = len(set(before.values()) & set(after.values()))
            # each page's id went with its own file, not with a look-alike
            own = sum(1 for old, new in moved.items() if after.get(f"page:{new}") == before[f"page:{old}"])
            # an object whose key names no file or folder any more was left behind
            stale = sum(1 for typed in after if not (docs / typed.partition(":")[2]).exists())
            print(
                f"{label:28} {code:>4} {sum(counts.values()):>9} {counts['read']:>6} {counts['write']:>7} "
                f"{elapsed:>8.2f}  ({own} of {len(moved)} moved pages kept their own id; {kept} of {len(before)} ids kept, "
                f"{stale} left behind)"
            )


def _concurrency_rows(latency: float, version: str, *, floor: bool) -> None:
    """The initial sync object by object (as on a server before v25.07) against a fake that takes
    ``latency`` seconds per request and allows 180 a minute, one write at a time vs ``concurrency: 4``:
    wall time against the serial latency floor (requests x latency), and any 429 the server answered."""
    trees = [("68 pages", (2, 2, 4, 4, 1))] + ([("1,000 pages", (4, 5, 5, 10, 0))] if floor else [])
    print(f"initial sync, object by object, {latency * 1000:.0f} ms a request, BookStack allows 180 a minute:")
    header = f"{'tree':12} {'concurrency':>11} {'requests':>9} {'429s':>5} {'seconds':>8} {'floor s':>8} {'x floor':>8}"
    print(header)
    for label, (shelves, books, chapters, pages, book_pages) in trees:
        for concurrency in ("1", "4"):
            with tempfile.TemporaryDirectory() as tmp, _fake(version, latency=latency, rate_limit=180) as fake:
                workspace = Path(tmp)
                docs = generate_tree(workspace / "docs", shelves, books, chapters, pages, book_pages=book_pages)
                code, counts, elapsed = _run(
                    fake, docs, workspace, "push", "never", rate_limit="180", concurrency=concurrency
                )
                limited = sum(1 for r in fake.requests if r.status == 429)
                total = counts["read"] + counts["write"]
                print(
                    f"{label:12} {concurrency:>11} {total:>9} {limited:>5} {elapsed:>8.1f} {total * latency:>8.1f}"
                    f" {elapsed / (total * latency):>8.2f}" + ("" if code == 0 else f"  (exit {code})")
                )
                if total > 180:
                    # the first 180 requests start at once, every further 180 a minute later
                    rate_floor = (total - 180) / 180 * 60
                    print(f"{'':12} rate-limit floor: {rate_floor:.0f} s ({total} requests at 180 a minute)")


def _fake(version: str, **options: Any) -> FakeBookStack:
    """A fake of that version; before v25.11 a page outside a chapter has ``chapter_id`` 0."""
    old = tuple(int(n) for n in re.findall(r"\d+", version)[:2]) < (25, 11)
    return FakeBookStack(version=version, chapterless_chapter_id=0 if old else None, **options)


def _content_reads(fake: FakeBookStack) -> str:
    """How the last run read page content: book exports, single page reads, and the rest (discovery)."""
    reads = [r.path for r in fake.requests if r.method in ("GET", "HEAD")]
    exports = sum(1 for path in reads if re.fullmatch(r"/api/books/\d+/export/zip", path))
    pages = sum(1 for path in reads if re.fullmatch(r"/api/pages/\d+", path))
    return (
        f"reads: {exports} book export(s) (GET /api/books/{{id}}/export/zip), {pages} page read(s) "
        f"(GET /api/pages/{{id}}), {len(reads) - exports - pages} discovery"
    )


def _book_routes(report: Path) -> dict[str, str]:
    """Book key -> route of its create, from the run's JSON report."""
    data = json.loads(report.read_text(encoding="utf-8"))
    return {
        o["key"]: o["route"]
        for o in data["outcomes"]
        if o["entity"] == "book" and o["kind"] == "create" and o["status"] == "created"
    }


if __name__ == "__main__":
    raise SystemExit(main())
