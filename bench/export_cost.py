"""What adopting an existing wiki costs in BookStack API requests, against the fake BookStack on loopback.

Builds a wiki by hand through the API (not by the plugin): 4 shelves, 20 books, 100 chapters, 1,000
Markdown pages with links between them (``/link/<id>`` and absolute URLs), then runs ``export``, the
first ``sync`` of the exported tree (adoption: tags only) and a second ``sync`` (nothing to do). Once on
v25.11 (one ZIP export per book) and once on v25.02 (no ZIP export: one read per page). Request counts
are what matter (BookStack allows 180 a minute by default); wall time on loopback is printed too.
Prints figures; not a test.

    .venv/bin/python bench/export_cost.py [--pages-per-chapter 10]
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
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bookstack import FakeBookStack

from bookstack_sync.bookstack import BookStackClient
from bookstack_sync.cli import main as plugin_main
from bookstack_sync.plan.remote import wiki_address


def build_wiki(fake: FakeBookStack, pages_per_chapter: int) -> int:
    client = BookStackClient(fake.base_url, fake.token_id, fake.token_secret, rate_limit=0)
    app_url = ""
    previous: dict[str, Any] | None = None
    made = 0
    for s in range(4):
        books = []
        for b in range(5):
            book = client.create("books", {"name": f"Book {s}.{b}", "description": "A book"})
            books.append(book["id"])
            for c in range(5):
                chapter = client.create("chapters", {"book_id": book["id"], "name": f"Chapter {c}"})
                for p in range(pages_per_chapter):
                    body = f"## Part {p}\n\nText of page {p}."
                    if previous is not None:
                        body += f"\n\nSee [before](/link/{previous['id']}#bkmrk-part-{p - 1 if p else 0})."
                        if app_url:
                            body += f" Or [by URL]({app_url}/books/{previous['book_slug']}/page/{previous['slug']})."
                    page = client.create("pages", {"chapter_id": chapter["id"], "name": f"Page {p}", "markdown": body})
                    previous = {"id": page["id"], "slug": page["slug"], "book_slug": book["slug"]}
                    app_url = app_url or wiki_address(client, int(page["id"]))
                    made += 1
        client.create("shelves", {"name": f"Shelf {s}", "books": books})
    client.close()
    return made


def run(fake: FakeBookStack, root: Path, argv: list[str]) -> tuple[int, float, Counter[str]]:
    env = {
        "BOOKSTACK_URL": fake.base_url,
        "BOOKSTACK_TOKEN_ID": fake.token_id,
        "BOOKSTACK_TOKEN_SECRET": fake.token_secret,
        "PLUGIN_DOCS_DIR": str(root / "docs"),
        "PLUGIN_RATE_LIMIT": "0",
        "PLUGIN_REPORT": str(root / "report.json"),
        "PLUGIN_SUMMARY": str(root / "summary.md"),
        "CI_WORKSPACE": str(root),
        "PATH": os.environ.get("PATH", ""),
    }
    fake.requests.clear()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = plugin_main(argv, env)
    elapsed = time.perf_counter() - started
    kinds: Counter[str] = Counter()
    for request in fake.requests:
        path = request.path
        if path.endswith("/export/zip"):
            kinds["zip exports"] += 1
        elif path.endswith("/export/markdown"):
            kinds["markdown exports"] += 1
        elif request.method == "GET" and path.startswith("/api/pages/"):
            kinds["page reads"] += 1
        elif request.method in ("PUT", "POST", "DELETE"):
            kinds["writes"] += 1
        else:
            kinds["other reads"] += 1
    return code, elapsed, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages-per-chapter", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    for version in ("v25.11.0", "v25.02.4"):
        fake = FakeBookStack(version=version)
        fake.start()
        try:
            pages = build_wiki(fake, args.pages_per_chapter)
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                print(f"\nBookStack {version}: a hand-made wiki of {pages} pages")
                for label, argv in (
                    ("export", ["export"]),
                    ("first sync (adopt)", ["sync"]),
                    ("second sync", ["sync"]),
                ):
                    code, elapsed, kinds = run(fake, root, argv)
                    total = sum(kinds.values())
                    detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                    print(f"  {label:<20} exit {code}  {total:>5} requests ({detail})  {elapsed:6.1f} s")
                report = json.loads((root / "report.json").read_text())
                statuses = Counter(o["status"] for o in report["outcomes"])
                print(f"  second sync outcomes: {dict(statuses)}")
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
