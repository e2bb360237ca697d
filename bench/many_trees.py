"""Two docs trees in one wiki (issue 18's table), against the fake BookStack.

Team A is a generated 68-page tree on 4 shelves (4 books, 16 chapters); team B a 10-page tree in another
repository. Two variants, each in a fresh fake: B on its own shelf with one book named like A's first
book, and B listing two books on A's first shelf. Each step runs the plugin as Woodpecker starts it
(push event, default settings unless named; ``CI_REPO`` differs, so each tree gets its default id) and
prints its exit code, its requests (reads/writes) and whether every object of the *other* tree is as it
was before the step (name, slug, parent, tags, last update; a shared shelf's own tags and name). Then the
requests a no-op run costs with both trees in the wiki.

    .venv/bin/python bench/many_trees.py [--version v25.02.4]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bookstack import FakeBookStack

from bench.gen_tree import generate_tree
from bench.sync_cost import _fake
from bookstack_sync.bookstack import BookStackClient
from bookstack_sync.cli import main as plugin_main

TREE_TAG = "bookstack-sync-tree"
WRITES = {"created", "updated", "moved", "adopted", "claimed", "deleted"}


def _team_b(root: Path, shelf: dict[str, str], books: list[str]) -> Path:
    """A 10-page tree: ``books`` on ``shelf``, five pages each (two chapters and a book-level page)."""
    docs = root / "docs"
    entries = []
    for n, name in enumerate(books, start=1):
        entries.append(
            {
                "book": {
                    "name": name,
                    "slug": f"team-b-{n}",
                    "pages": ["01-intro"],
                    "chapters": [{"chapter": {"name": f"Part {c}", "slug": f"part-{c}"}} for c in (1, 2)],
                }
            }
        )
        book_dir = docs / shelf["slug"] / f"team-b-{n}"
        pages = [(book_dir / "01-intro.md", f"team-b-{n}")] + [
            (book_dir / f"part-{c}" / f"0{p}-page.md", f"part-{c}") for c in (1, 2) for p in (1, 2)
        ]
        for number, (path, category) in enumerate(pages, start=1):
            path.parent.mkdir(parents=True, exist_ok=True)
            front = {
                "title": f"B {n}.{number}",
                "order": int(path.name[:2]),
                "category": category,
                "tags": ["team-b"],
                "last_updated": "2026-12-01",
                "author": "team-b",
            }
            path.write_text("---\n" + yaml.safe_dump(front) + "---\nText of team B.\n", encoding="utf-8")
    structure = {"structure": [{"shelf": {**shelf, "books": entries}}]}
    (docs / "bookstack").mkdir(parents=True, exist_ok=True)
    (docs / "bookstack" / "bookstack-structure.yaml").write_text(yaml.safe_dump(structure, sort_keys=False))
    return docs


def _run(fake: FakeBookStack, docs: Path, repo: str, **settings: str) -> dict[str, Any]:
    fake.requests.clear()
    report = docs.parent / "report.json"
    environ = {
        "CI": "woodpecker",
        "CI_PIPELINE_EVENT": "push",
        "CI_REPO": repo,
        "CI_WORKSPACE": str(docs.parent),
        "PLUGIN_URL": fake.url,
        "PLUGIN_TOKEN_ID": fake.token_id,
        "PLUGIN_TOKEN_SECRET": fake.token_secret,
        "PLUGIN_DOCS_DIR": str(docs),
        "PLUGIN_RATE_LIMIT": "0",
        "PLUGIN_REPORT": str(report),
        "PLUGIN_SUMMARY": "",
        "PLUGIN_LOG_LEVEL": "error",
        **{f"PLUGIN_{name.upper()}": value for name, value in settings.items()},
    }
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = plugin_main([], environ)
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    counts = Counter("read" if r.method in ("GET", "HEAD") else "write" for r in fake.requests)
    deleted = sum(1 for o in data["outcomes"] if o["status"] == "deleted")
    written = sum(1 for o in data["outcomes"] if o["status"] in WRITES)
    return {
        "code": code,
        "reads": counts["read"],
        "writes": counts["write"],
        "objects written": written,
        "deleted": deleted,
        "tree": data["tree"],
    }


def _objects(fake: FakeBookStack, tree: str) -> dict[tuple[str, int], tuple[Any, ...]]:
    with BookStackClient(fake.url, fake.token_id, fake.token_secret, rate_limit=0) as client:
        found: dict[tuple[str, int], tuple[Any, ...]] = {}
        for hit in client.search(f"[bookstack-sync] [{TREE_TAG}={tree}]"):
            tags = sorted((str(t["name"]), str(t.get("value") or "")) for t in hit.get("tags", []))
            state: tuple[Any, ...] = (hit["name"], hit["slug"], hit.get("book_id"), hit.get("chapter_id"), tags)
            if hit["type"] != "bookshelf":
                state += (hit.get("updated_at"),)  # a shelf's time moves when another tree lists a book on it
            found[(str(hit["type"]), int(hit["id"]))] = state
        return found


def _variant(version: str, title: str, make_b: Callable[[Path, dict[str, Any]], Path]) -> list[tuple[str, int]]:
    print(f"\n### {title}\n")
    print("| step | exit | reads | writes | objects written | deleted | other tree as it was |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    noop: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp, _fake(version) as fake:
        root_a, root_b = Path(tmp) / "a", Path(tmp) / "b"
        docs_a = generate_tree(root_a / "docs", 4, 1, 4, 4, book_pages=1)
        structure_a = yaml.safe_load((docs_a / "bookstack" / "bookstack-structure.yaml").read_text())
        docs_b = make_b(root_b, structure_a)
        a = _run(fake, docs_a, "team-a/handbook")
        tree_a = a["tree"]
        print(
            f"| A's first sync (tree `{tree_a}`) | {a['code']} | {a['reads']} | {a['writes']} | {a['objects written']} | {a['deleted']} | — |"
        )
        alone = _run(fake, docs_a, "team-a/handbook")
        noop.append((f"{title}: no-op of A alone, before B's first sync", alone["reads"] + alone["writes"]))
        tree_b = ""
        steps: list[tuple[str, str, Path, str, dict[str, str]]] = [
            ("B's first sync", "B", docs_b, "team-b/service", {}),
            ("A again (no change)", "A", docs_a, "team-a/handbook", {}),
            ("B again (no change)", "B", docs_b, "team-b/service", {}),
            ("B with `prune: true`", "B", docs_b, "team-b/service", {"prune": "true"}),
            ("A with `prune: true`", "A", docs_a, "team-a/handbook", {"prune": "true"}),
        ]
        for label, who, docs, repo, settings in steps:
            other = tree_b if who == "A" else tree_a
            before = _objects(fake, other) if other else {}
            row = _run(fake, docs, repo, **settings)
            if who == "B":
                tree_b = row["tree"]
            kept = "—" if not other else ("yes" if _objects(fake, other) == before else "**no**")
            print(
                f"| {label} | {row['code']} | {row['reads']} | {row['writes']} | {row['objects written']} | {row['deleted']} | {kept} |"
            )
        for who, docs, repo in (
            ("A (68 pages)", docs_a, "team-a/handbook"),
            ("B (10 pages)", docs_b, "team-b/service"),
        ):
            row = _run(fake, docs, repo)
            noop.append((f"{title}: no-op of {who}", row["reads"] + row["writes"]))
    return noop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default="v25.02.4", help="the BookStack version the fake plays")
    args = parser.parse_args()

    def own_shelf(root: Path, structure_a: dict[str, Any]) -> Path:
        first_book = structure_a["structure"][0]["shelf"]["books"][0]["book"]["name"]
        return _team_b(root, {"name": "Team B", "slug": "team-b"}, [first_book, "Team B Runbooks"])

    def shared_shelf(root: Path, structure_a: dict[str, Any]) -> Path:
        shelf = structure_a["structure"][0]["shelf"]
        return _team_b(root, {"name": shelf["name"], "slug": shelf["slug"]}, ["Team B Guide", "Team B Runbooks"])

    noop = _variant(args.version, "B on its own shelf, one book named like A's first book", own_shelf)
    noop += _variant(args.version, "B adds two books to A's first shelf", shared_shelf)
    print("\n### Requests of a no-op run, two trees in the wiki\n")
    print("| run | requests |")
    print("| --- | ---: |")
    for label, count in noop:
        print(f"| {label} | {count} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
