"""What a sync costs in BookStack API requests, against the fake BookStack on loopback.

Builds the 1,000-page tree (4 shelves, 20 books, 100 chapters) with ``bench/gen_tree.py`` and runs the
plugin's entrypoint for: the initial sync into an empty BookStack, a no-op run, one page edited, 10% of
the pages edited, and a manual full resync (all with ``--import-mode``, default ``never``). The full
resync reads every page's content: one ZIP export per book on v25.07+, one read per page on older
servers (``--bookstack-version v25.02.4``); a line after it says which. Then, on a fresh fake, the
initial sync via ZIP import (``import: auto``) and the no-op run after it, naming the books that went by
import. Request counts are what matter (BookStack allows 180 a minute by default and a real server
spends ~300 ms on each); wall time on loopback is printed too. Prints figures; not a test.

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
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bookstack import FakeBookStack

from bench.gen_tree import generate_tree
from bookstack_sync.cli import main as plugin_main


def _edit(docs: Path, fraction: float) -> int:
    pages = sorted(p for p in docs.rglob("*.md") if "bookstack" not in p.parts)
    step = max(1, round(1 / fraction)) if fraction < 1 else 1
    edited = pages[::step] if fraction < 1 else pages
    for page in edited:
        page.write_text(page.read_text(encoding="utf-8") + "\nEdited for the benchmark.\n", encoding="utf-8")
    return len(edited)


def _run(
    fake: FakeBookStack, docs: Path, workspace: Path, event: str, import_mode: str, report: str = ""
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
    }
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = plugin_main([], environ)
    elapsed = time.perf_counter() - start
    counts: Counter[str] = Counter("read" if r.method in ("GET", "HEAD") else "write" for r in fake.requests)
    return code, counts, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shelves", type=int, default=4)
    parser.add_argument("--books-per-shelf", type=int, default=5)
    parser.add_argument("--chapters-per-book", type=int, default=5)
    parser.add_argument("--pages-per-chapter", type=int, default=10)
    parser.add_argument("--import-mode", choices=["auto", "never"], default="never")
    parser.add_argument("--bookstack-version", default="v25.11.0", help="the fake's version (v25.02.4: no exports)")
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp, _fake(args.bookstack_version) as fake:
        workspace = Path(tmp)
        docs = generate_tree(
            workspace / "docs", args.shelves, args.books_per_shelf, args.chapters_per_book, args.pages_per_chapter
        )
        pages = sum(1 for p in docs.rglob("*.md") if "bookstack" not in p.parts)
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
                first = sorted(p for p in docs.rglob("*.md") if "bookstack" not in p.parts)[0]
                first.write_text(first.read_text(encoding="utf-8") + "\nOne edit.\n", encoding="utf-8")
            elif edit > 0:
                _edit(docs, edit)
            code, counts, elapsed = _run(fake, docs, workspace, event, args.import_mode)
            total = counts["read"] + counts["write"]
            print(f"{label:28} {code:>4} {total:>9} {counts['read']:>6} {counts['write']:>7} {elapsed:>8.2f}")
            if event == "manual":
                print(f"  {_content_reads(fake)}")
        with _fake(args.bookstack_version) as fresh:
            docs = generate_tree(
                workspace / "docs-import",
                args.shelves,
                args.books_per_shelf,
                args.chapters_per_book,
                args.pages_per_chapter,
            )
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
    return 0


def _fake(version: str) -> FakeBookStack:
    """A fake of that version; before v25.11 a page outside a chapter has ``chapter_id`` 0."""
    old = tuple(int(n) for n in re.findall(r"\d+", version)[:2]) < (25, 11)
    return FakeBookStack(version=version, chapterless_chapter_id=0 if old else None)


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
