"""End-to-end setup: a docs tree on disk, the BookStack target (fake or real), and a way to run the plugin.

The same tests run against a real BookStack when ``BOOKSTACK_TEST_*`` is set: every shelf slug carries
the run's unique prefix, every test publishes as a docs tree of its own (the ``tree`` setting), and
everything the plugin created under those shelves is deleted afterwards. A wiki that holds other synced
trees is fine: the test's runs never touch them, and the ``docs`` fixture checks that every object of
another tree is exactly as it was before the test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bookstack_sync.cli import main
from tests.bookstack_target import BookStackTarget, bookstack  # noqa: F401 - the fixture

MANAGED_TAG = "bookstack-sync"
TREE_TAG = "bookstack-sync-tree"


def frontmatter(title: str, order: int, category: str, **extra: Any) -> str:
    fields = {
        "title": title,
        "order": order,
        "category": category,
        "tags": extra.pop("tags", ["example"]),
        "last_updated": "2025-01-19",
        "author": "docs-team",
        **extra,
    }
    return "---\n" + yaml.safe_dump(fields, sort_keys=False, allow_unicode=True) + "---\n"


@dataclass
class Docs:
    """A docs tree under ``root`` built from a small Python description of the structure."""

    root: Path
    prefix: str  # unique per test run, so shelves never clash on a shared BookStack
    shelves: list[dict[str, Any]] = field(default_factory=list)

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def tree(self) -> str:
        """The test's docs tree id (the ``tree`` setting its runs get unless a test sets another)."""
        return f"e2e-{self.prefix}"

    def slug(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def write_structure(self) -> None:
        path = self.docs_dir / "bookstack" / "bookstack-structure.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"structure": self.shelves}, sort_keys=False, allow_unicode=True))

    def page(self, rel: str, title: str, body: str = "", *, order: int | None = None, **extra: Any) -> Path:
        """Write ``<docs>/<rel>``; ``rel`` starts with the unprefixed shelf slug."""
        parts = rel.split("/")
        parts[0] = self.slug(parts[0])
        path = self.docs_dir.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        number = order if order is not None else int(parts[-1][:2])
        category = parts[-2]
        path.write_text(frontmatter(title, number, category, **extra) + body, encoding="utf-8")
        return path

    def path(self, rel: str) -> Path:
        parts = rel.split("/")
        parts[0] = self.slug(parts[0])
        return self.docs_dir.joinpath(*parts)

    def key(self, rel: str) -> str:
        parts = rel.split("/")
        parts[0] = self.slug(parts[0])
        return "/".join(parts)


def standard_docs(root: Path, prefix: str) -> Docs:
    """Two shelves, three books, four chapters, seven pages with links between them."""
    docs = Docs(root, prefix)
    docs.shelves = [
        {
            "shelf": {
                "name": f"Engineering {prefix}",
                "slug": docs.slug("eng"),
                "description": "How we build things",
                "books": [
                    {
                        "book": {
                            "name": f"Development Guide {prefix}",
                            "slug": "guide",
                            "pages": ["01-overview"],
                            "chapters": [
                                {
                                    "chapter": {
                                        "name": "Getting Started",
                                        "slug": "start",
                                        "pages": ["01-install", "02-configure"],
                                    }
                                },
                                {
                                    "chapter": {
                                        "name": "Best Practices",
                                        "slug": "practice",
                                        "pages": ["01-style", "02-review"],
                                    }
                                },
                            ],
                        }
                    },
                    {
                        "book": {
                            "name": f"Operations {prefix}",
                            "slug": "ops",
                            "chapters": [{"chapter": {"name": "Runbooks", "slug": "runbooks"}}],
                        }
                    },
                ],
            }
        },
        {
            "shelf": {
                "name": f"Team {prefix}",
                "slug": docs.slug("team"),
                "books": [
                    {
                        "book": {
                            "name": f"Handbook {prefix}",
                            "slug": "handbook",
                            "chapters": [
                                {"chapter": {"name": "Onboarding", "slug": "onboarding", "pages": ["01-welcome"]}}
                            ],
                        }
                    }
                ],
            }
        },
    ]
    docs.write_structure()
    docs.page("eng/guide/01-overview.md", "Overview", "Start with [installing](start/01-install.md).\n")
    docs.page(
        "eng/guide/start/01-install.md",
        "Install",
        "# Install\n\nRun `make`. Then [configure](02-configure.md#options).\n",
    )
    docs.page("eng/guide/start/02-configure.md", "Configure", "## Options\n\nSet things.\n")
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly.\n")
    docs.page("eng/guide/practice/02-review.md", "Review", "Review kindly. See [style](01-style.md).\n")
    docs.page("eng/ops/runbooks/01-restart.md", "Restart", "1. Stop\n2. Start\n")
    docs.page("team/handbook/onboarding/01-welcome.md", "Welcome", "Hello and welcome.\n")
    return docs


@dataclass
class Run:
    exit_code: int
    out: str
    err: str


class Plugin:
    """Runs bookstack-sync against the target the way Woodpecker would: PLUGIN_* and CI_* variables."""

    def __init__(self, target: BookStackTarget, docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
        self.target = target
        self.docs = docs
        self.capsys = capsys

    def environ(self, event: str = "push", **settings: str) -> dict[str, str]:
        env = {
            "CI": "woodpecker",
            "CI_PIPELINE_EVENT": event,
            "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
            "CI_REPO": "team/docs",
            "CI_WORKSPACE": str(self.docs.root),
            "PLUGIN_URL": self.target.url,
            "PLUGIN_TOKEN_ID": self.target.token_id,
            "PLUGIN_TOKEN_SECRET": self.target.token_secret,
            "PLUGIN_DOCS_DIR": str(self.docs.docs_dir),
            "PLUGIN_REPORT": str(self.docs.root / "report.json"),
            "PLUGIN_SUMMARY": str(self.docs.root / "summary.md"),
            "PLUGIN_RATE_LIMIT": "0" if self.target.is_fake else "180",
        }
        # every test is a docs tree of its own; `tree=""` leaves the default (derived from CI_REPO and docs_dir)
        settings.setdefault("tree", self.docs.tree)
        # CI_* names are Woodpecker's own variables; the others are settings
        env.update({name if name.startswith("CI_") else f"PLUGIN_{name.upper()}": v for name, v in settings.items()})
        return env

    def run(self, event: str = "push", argv: list[str] | None = None, **settings: str) -> Run:
        self.capsys.readouterr()
        code = main(argv or [], self.environ(event, **settings))
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def subprocess(self, event: str = "push", **settings: str) -> Run:
        env = {"PATH": "/usr/bin:/bin", **self.environ(event, **settings)}
        script = Path(sys.executable).with_name("bookstack-sync")
        done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=120, cwd=self.docs.root)
        return Run(done.returncode, done.stdout, done.stderr)


def managed_objects(target: BookStackTarget, prefix: str) -> list[dict[str, Any]]:
    """Everything the plugin manages under this run's shelves (search hits with their tags)."""
    client = target.client()
    found = []
    for hit in client.search(f"[{MANAGED_TAG}]"):
        keys = [t.get("value", "") for t in hit.get("tags", []) if t.get("name") == MANAGED_TAG]
        if any(str(k).startswith(prefix) for k in keys):
            found.append(hit)
    return found


def other_trees(target: BookStackTarget, tree: str) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Every managed object that is not the test tree's, as it is now: name, place, tags, last update."""
    found = {}
    for hit in target.client().search(f"[{MANAGED_TAG}] -[{TREE_TAG}={tree}]"):
        tags = sorted((str(t.get("name")), str(t.get("value") or "")) for t in hit.get("tags", []))
        where = (hit.get("book_id"), hit.get("chapter_id"))
        found[(str(hit["type"]), int(hit["id"]))] = (
            hit.get("name"),
            hit.get("slug"),
            where,
            tags,
            hit.get("updated_at"),
        )
    return found


@pytest.fixture
def docs(tmp_path: Path, bookstack: BookStackTarget) -> Iterator[Docs]:  # noqa: F811
    prefix = f"t{bookstack.run_id}"
    built = standard_docs(tmp_path, prefix)
    before = other_trees(bookstack, built.tree)
    yield built
    if before:  # (a fresh fake holds nothing else; a test may have left it refusing every token)
        after = other_trees(bookstack, built.tree)
        changed = sorted(f"{kind} {n}" for (kind, n), was in before.items() if after.get((kind, n)) != was)
        assert not changed, f"the test's runs changed objects of other docs trees: {', '.join(changed[:10])}"
    if not bookstack.is_fake:
        kinds = {"page": "pages", "chapter": "chapters", "book": "books", "bookshelf": "shelves"}
        for hit in managed_objects(bookstack, prefix):
            bookstack.track(kinds[str(hit["type"])], int(hit["id"]))


@pytest.fixture
def fakes(
    bookstack: BookStackTarget,  # noqa: F811
    make_fake_bookstack: Callable[..., Any],
) -> Callable[..., Any]:
    """Extra fake BookStacks configured per test (a version, permissions...), stopped afterwards. Fake only."""
    if not bookstack.is_fake:
        pytest.skip("needs fake BookStacks configured per test")
    return make_fake_bookstack


@pytest.fixture
def plugin(bookstack: BookStackTarget, docs: Docs, capsys: pytest.CaptureFixture[str]) -> Plugin:  # noqa: F811
    return Plugin(bookstack, docs, capsys)
