"""Two initial syncs of the 1,000-page tree started at the same moment, against the fake on loopback.

Each run has its own API token (two pipelines); both read the empty wiki and create everything, then the
end-of-run check keeps the lowest id of each key (``settle.py``). Prints, per run, its requests and
writes and what the check removed, then the state when both have ended — keys carried twice, pending
imports, pages — and what a third run then writes. Prints figures; not a test.

    .venv/bin/python bench/concurrent_sync.py [--import-mode auto|never] [--pages-per-chapter 10]
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
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bookstack import FakeBookStack

from bench.gen_tree import generate_tree, page_files
from bookstack_sync.cli import main as plugin_main
from bookstack_sync.plan.tags import MANAGED_TAG

_TOKENS = {"a": ("first-pipeline", "first-secret"), "b": ("second-pipeline", "second-secret")}


def _environ(fake: FakeBookStack, docs: Path, workspace: Path, name: str, import_mode: str) -> dict[str, str]:
    token_id, secret = _TOKENS.get(name, (fake.token_id, fake.token_secret))
    return {
        "CI_PIPELINE_EVENT": "push",
        "CI_WORKSPACE": str(workspace),
        "PLUGIN_URL": fake.url,
        "PLUGIN_TOKEN_ID": token_id,
        "PLUGIN_TOKEN_SECRET": secret,
        "PLUGIN_DOCS_DIR": str(docs),
        "PLUGIN_RATE_LIMIT": "0",
        "PLUGIN_REPORT": str(workspace / f"report-{name}.json"),
        "PLUGIN_SUMMARY": "",
        "PLUGIN_IMPORT": import_mode,
        "PLUGIN_LOG_LEVEL": "error",
    }


def _row(fake: FakeBookStack, workspace: Path, name: str, token_id: str, code: int) -> str:
    mine = [r for r in list(fake.requests) if r.token_id == token_id]
    writes = sum(1 for r in mine if r.method not in ("GET", "HEAD"))
    report = json.loads((workspace / f"report-{name}.json").read_text(encoding="utf-8"))
    removed = sum(1 for o in report["outcomes"] if o["status"] == "deleted" and "concurrent" in str(o.get("detail")))
    repaired = sum(1 for o in report["outcomes"] if "concurrent runs" in str(o.get("detail"))) - removed
    return f"run {name:6} {code:>4} {len(mine):>9} {writes:>7} {removed:>8} {repaired:>9}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--import-mode", choices=["auto", "never"], default="auto")
    parser.add_argument("--pages-per-chapter", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp, FakeBookStack() as fake:
        workspace = Path(tmp)
        docs = generate_tree(workspace / "docs", 4, 5, 5, args.pages_per_chapter)
        pages = {p.relative_to(docs).as_posix() for p in page_files(docs)}
        print(f"tree: 4 shelves, 20 books, 100 chapters, {len(pages)} pages; import: {args.import_mode}")
        for token in _TOKENS.values():
            fake.add_token(*token)
        codes: dict[str, int] = {}
        start = threading.Barrier(2)

        def run(name: str) -> None:
            environ = _environ(fake, docs, workspace, name, args.import_mode)
            start.wait()
            codes[name] = plugin_main([], environ)

        began = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            threads = [threading.Thread(target=run, args=(name,)) for name in _TOKENS]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        elapsed = time.perf_counter() - began
        print(f"{'':10} {'exit':>4} {'requests':>9} {'writes':>7} {'removed':>8} {'repaired':>9}")
        for name, (token_id, _) in _TOKENS.items():
            print(_row(fake, workspace, name, token_id, codes[name]))
        print(f"both ended after {elapsed:.1f} s")
        # both runs have ended: nothing else touches the fake's state now
        objects = [*fake.state.shelves.values(), *fake.state.books.values()]
        objects += [*fake.state.chapters.values(), *fake.state.pages.values()]
        keys = Counter(
            (type(o).__name__, t.value) for o in objects for t in getattr(o, "tags", []) if t.name == MANAGED_TAG
        )
        page_keys = {key for kind, key in keys if kind == "Page"}
        twice = sum(1 for count in keys.values() if count > 1)
        pending = len(fake.state.imports)
        print(
            f"then: {twice} key(s) carried twice, {pending} pending import(s), {len(page_keys)} of {len(pages)} pages"
        )
        fake.requests.clear()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = plugin_main([], _environ(fake, docs, workspace, "third", args.import_mode))
        writes = sum(1 for r in fake.requests if r.method not in ("GET", "HEAD"))
        print(f"third run: exit {code}, {len(fake.requests)} requests, {writes} writes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
