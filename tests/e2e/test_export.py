"""Export: a wiki made by hand through the API (not by the plugin) becomes a docs tree that validates,
syncs back without rewriting content, and exports again to the same files.

The same test runs against a real BookStack with ``BOOKSTACK_TEST_*``: the export is limited to this
run's shelves and books (``--shelf``/``--book``), and everything made is deleted afterwards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bookstack_sync.bookstack import BookStackClient
from bookstack_sync.cli import main
from bookstack_sync.plan.remote import wiki_address
from tests.bookstack_target import BookStackTarget, also_before_system_api
from tests.fake_bookstack import FakeBookStack
from tests.images import png

from .conftest import other_trees

BIG_CHAPTER = 120


@dataclass
class HandWiki:
    """What the test made, by id."""

    prefix: str
    app_url: str
    shelves: dict[str, int] = field(default_factory=dict)
    books: dict[str, int] = field(default_factory=dict)
    chapters: dict[str, int] = field(default_factory=dict)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def export_args(self) -> list[str]:
        args: list[str] = []
        for name in self.shelf_names:
            args += ["--shelf", name]
        args += ["--book", self.loose_book]
        return args

    @property
    def shelf_names(self) -> list[str]:
        return [f"Engineering / Docs {self.prefix}", f"Team 🚀 {self.prefix}"]

    @property
    def loose_book(self) -> str:
        return f"Loose {self.prefix}"


def make_wiki(target: BookStackTarget, client: BookStackClient) -> HandWiki:
    prefix = f"x{target.run_id}"

    def create(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return target.create(kind, payload, client)

    guide = create("books", {"name": f"Guide / Handbook {prefix}", "description": "How we work"})
    ops = create("books", {"name": f"Ops 🚀 {prefix}"})
    loose = create("books", {"name": f"Loose {prefix}"})
    handbook = create("books", {"name": f"Handbook {prefix}"})
    create("pages", {"book_id": handbook["id"], "name": "Welcome", "markdown": "Hello."})
    start = create("chapters", {"book_id": guide["id"], "name": "Getting Started", "description": "First steps"})
    notes_a = create("chapters", {"book_id": guide["id"], "name": "Notes"})
    notes_b = create("chapters", {"book_id": guide["id"], "name": "Notes"})  # the same name twice
    big = create("chapters", {"book_id": ops["id"], "name": "Big chapter"})
    overview = create(
        "pages",
        {
            "book_id": guide["id"],
            "name": "Overview",
            "markdown": "Welcome.\n\n## Intro\n\nRead on.",
            "tags": [{"name": "topic", "value": "api"}, {"name": "networking"}],
        },
    )
    install = create(
        "pages",
        {
            "chapter_id": start["id"],
            "name": "Install ../../etc",
            "markdown": "## Options\n\nSet things.\n\n## Other\n\nMore.",
        },
    )
    app_url = wiki_address(client, int(overview["id"]))
    wysiwyg = create(
        "pages",
        {"chapter_id": start["id"], "name": "Setup", "html": "<h2>Steps</h2><p>Do the <strong>thing</strong>.</p>"},
    )
    create("pages", {"chapter_id": notes_a["id"], "name": "Setup", "markdown": "Same name as the other one."})
    create("pages", {"chapter_id": notes_a["id"], "name": "Setup", "markdown": "And a second one here."})
    create("pages", {"chapter_id": notes_b["id"], "name": "Café ☕ notes", "markdown": "Unicode."})
    for n in range(1, BIG_CHAPTER + 1):
        create("pages", {"chapter_id": big["id"], "name": f"Entry {n:03d}", "markdown": f"Entry {n}.", "priority": n})
    create("pages", {"book_id": loose["id"], "name": "Lost", "markdown": "On no shelf."})
    image = client.upload_image(int(install["id"]), "diagram.png", png())
    attachment = client.create_attachment(int(install["id"]), "Spec sheet", filename="spec.pdf", data=b"%PDF-1.4 spec")
    target.track("image-gallery", int(image["id"]))
    target.track("attachments", int(attachment["id"]))
    linking = (
        f"See [install](/link/{install['id']}) and [options]({app_url}/books/{guide['slug']}/page/"
        f"{install['slug']}#bkmrk-options), [the book]({app_url}/books/{guide['slug']}).\n\n"
        f"![diagram]({image['url']})\n\n[spec]({app_url}/attachments/{attachment['id']})\n\n"
        "[intro](#bkmrk-intro)"
    )
    client.update("pages", int(overview["id"]), {"markdown": "Welcome.\n\n## Intro\n\n" + linking})
    client.update(
        "pages",
        int(install["id"]),
        {"markdown": f"## Options\n\n![diagram]({image['url']})\n\n[spec](/attachments/{attachment['id']})"},
    )
    eng = create("shelves", {"name": f"Engineering / Docs {prefix}", "books": [guide["id"], ops["id"]]})
    team = create("shelves", {"name": f"Team 🚀 {prefix}", "books": [handbook["id"], ops["id"]]})
    wiki = HandWiki(prefix, app_url)
    wiki.shelves = {"eng": int(eng["id"]), "team": int(team["id"])}
    wiki.books = {
        "guide": int(guide["id"]),
        "ops": int(ops["id"]),
        "loose": int(loose["id"]),
        "handbook": int(handbook["id"]),
    }
    wiki.pages = {"overview": overview, "install": install, "setup": wysiwyg}
    return wiki


def run(
    argv: list[str],
    target: BookStackTarget,
    root: Path,
    capsys: pytest.CaptureFixture[str],
    docs: Path,
    **extra: str,
) -> tuple[int, str]:
    env = {
        "BOOKSTACK_URL": target.url,
        "BOOKSTACK_TOKEN_ID": target.token_id,
        "BOOKSTACK_TOKEN_SECRET": target.token_secret,
        "PLUGIN_RATE_LIMIT": "0" if target.is_fake else "180",
        "PLUGIN_DOCS_DIR": str(docs),
        "PLUGIN_REPORT": str(root / "report.json"),
        "PLUGIN_SUMMARY": str(root / "summary.md"),
        "CI_WORKSPACE": str(root),
        "PLUGIN_TREE": export_tree(target),
        **extra,
    }
    capsys.readouterr()
    code = main(argv, env)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def tree_files(docs: Path) -> dict[str, bytes]:
    return {p.relative_to(docs).as_posix(): p.read_bytes() for p in sorted(docs.rglob("*")) if p.is_file()}


def export_tree(target: BookStackTarget) -> str:
    """The docs tree id of a test's syncs: its own, so a wiki holding other synced trees is safe to use."""
    return f"e2e-export-t{target.run_id}"


@pytest.fixture
def wiki(bookstack: BookStackTarget) -> Iterator[HandWiki]:
    before = other_trees(bookstack, export_tree(bookstack))
    yield make_wiki(bookstack, bookstack.client(rate_limit=0 if bookstack.is_fake else 170))
    after = other_trees(bookstack, export_tree(bookstack)) if before else {}
    changed = sorted(f"{kind} {obj_id}" for (kind, obj_id), was in before.items() if after.get((kind, obj_id)) != was)
    assert not changed, f"the test's runs changed objects of other docs trees: {', '.join(changed[:10])}"


@also_before_system_api
def test_export_writes_a_valid_tree_and_reports_what_it_cannot_hold(
    wiki: HandWiki, bookstack: BookStackTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    report = tmp_path / "export.json"
    junit = tmp_path / "export-junit.xml"
    argv = ["export", *wiki.export_args(), "--export-report", str(report), "--junit", str(junit)]
    code, out = run(argv, bookstack, tmp_path, capsys, docs)
    assert code == 0, out
    assert "0 error(s), 0 warning(s)" in out
    # --junit works wherever a report is written: the validation of the exported tree
    assert f"junit: {junit}" in out and 'failures="0"' in junit.read_text()
    structure = yaml.safe_load((docs / "bookstack" / "bookstack-structure.yaml").read_text())["structure"]
    shelves = [s["shelf"] for s in structure]
    assert [s["name"] for s in shelves] == wiki.shelf_names
    eng = shelves[0]
    assert eng["slug"] == f"engineering-docs-{wiki.prefix}"
    assert [b["book"]["name"] for b in eng["books"]] == [f"Guide / Handbook {wiki.prefix}", f"Ops 🚀 {wiki.prefix}"]
    guide = eng["books"][0]["book"]
    assert guide["description"] == "How we work"
    assert [c["chapter"]["slug"] for c in guide["chapters"]] == ["getting-started", "notes", "notes-2"]
    book_dir = docs / eng["slug"] / guide["slug"]

    overview = (book_dir / "01-overview.md").read_text()
    head = yaml.safe_load(overview.split("---\n")[1])
    assert head["title"] == "Overview" and head["order"] == 1 and head["category"] == guide["slug"]
    assert head["tags"] == [{"topic": "api"}, "networking"]
    assert isinstance(head["author"], str) and head["author"]
    body = overview.split("---\n", 2)[2]
    assert "[install](getting-started/01-install-etc.md)" in body
    assert "[options](getting-started/01-install-etc.md#options)" in body
    assert "[the book](./)" in body or "[the book](../" in body
    assert "![diagram](_assets/diagram.png)" in body
    assert "[spec](_assets/spec-sheet.pdf)" in body
    assert "[intro](#intro)" in body
    assert (book_dir / "_assets" / "diagram.png").read_bytes() == png()
    assert (book_dir / "_assets" / "spec-sheet.pdf").read_bytes() == b"%PDF-1.4 spec"
    install = (book_dir / "getting-started" / "01-install-etc.md").read_text()
    assert "![diagram](../_assets/diagram.png)" in install or "![diagram](_assets/diagram.png)" in install
    setup = (book_dir / "getting-started" / "02-setup.md").read_text()
    assert setup.endswith("---\n\n## Steps\n\nDo the **thing**.\n")  # BookStack's own Markdown of its HTML
    assert (book_dir / "notes" / "01-setup.md").read_text().endswith("Same name as the other one.\n")
    assert (book_dir / "notes" / "02-setup.md").read_text().endswith("And a second one here.\n")
    assert (book_dir / "notes-2" / "01-cafe-notes.md").is_file()

    ops = eng["books"][1]["book"]
    big = docs / eng["slug"] / ops["slug"] / "big-chapter"
    assert len(list(big.glob("*.md"))) == 99
    assert (big / "99-entry-099.md").is_file()

    data = json.loads(report.read_text())
    kinds = {(p["kind"], p["object"].split(" ", 2)[2]) for p in data["not_represented"]}
    assert ("book-on-several-shelves", repr(f"Ops 🚀 {wiki.prefix}")) in kinds
    assert ("unshelved-book", repr(wiki.loose_book)) in kinds
    assert ("slug-collision", "'Notes'") in kinds
    assert sum(1 for p in data["not_represented"] if p["kind"] == "too-many-pages") == BIG_CHAPTER - 99
    assert len(data["saved_outside"]) == BIG_CHAPTER - 99
    assert data["requests"]["total"] > 0
    assert report.with_suffix(".md").read_text().startswith("# bookstack-sync export")


def test_export_refuses_a_non_empty_docs_folder(
    bookstack: BookStackTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("mine")
    code, out = run(["export", "--shelf", "nothing-here"], bookstack, tmp_path, capsys, docs)
    assert code == 2
    assert "not empty" in out and "--force" in out
    assert (docs / "notes.md").read_text() == "mine"


def test_round_trip_adopts_every_object_without_rewriting_content_and_exports_the_same_files(
    wiki: HandWiki, bookstack: BookStackTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_round_trip(wiki, bookstack, tmp_path, capsys)


def test_round_trip_on_a_server_without_zip_export_reads_page_by_page(
    fakes: Callable[..., FakeBookStack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """v25.02 has neither /api/system nor the ZIP export: BookStack's address comes from the URLs of a book's
    contents, pages are read one by one, attachments through their API read, images from their URL."""
    fake = fakes(version="v25.02.4")
    target = BookStackTarget(fake.base_url, fake.token_id, fake.token_secret, fake=fake)
    wiki = make_wiki(target, target.client(rate_limit=0))
    fake.requests.clear()
    check_round_trip(wiki, target, tmp_path, capsys)
    paths = [r.path for r in fake.requests if r.method == "GET"]
    assert not [p for p in paths if p.endswith("/export/zip")]
    assert sum(1 for p in paths if re.fullmatch(r"/api/pages/\d+", p)) >= 100
    assert any(re.fullmatch(r"/api/books/\d+", p) for p in paths)
    assert not any(p.startswith("/link/") for p in paths)  # a proxy may rewrite where it redirects


def check_round_trip(
    wiki: HandWiki, bookstack: BookStackTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    code, out = run(["export", *wiki.export_args()], bookstack, tmp_path, capsys, docs)
    assert code == 0, out
    client = bookstack.client(rate_limit=0 if bookstack.is_fake else 170)
    before = {name: client.read("pages", int(page["id"])) for name, page in wiki.pages.items()}
    if bookstack.is_fake:
        bookstack.fake.requests.clear()

    code, out = run(["sync"], bookstack, tmp_path, capsys, docs)
    assert code == 0, out
    report = json.loads((tmp_path / "report.json").read_text())
    outcomes = report["outcomes"]
    created = [o for o in outcomes if o["status"] == "created"]
    assert created == [], created
    adopted = {(o["entity"], o["id"]) for o in outcomes if o["status"] == "adopted"}
    assert ("page", int(wiki.pages["overview"]["id"])) in adopted
    assert ("page", int(wiki.pages["install"]["id"])) in adopted
    assert {("shelf", wiki.shelves["eng"]), ("shelf", wiki.shelves["team"])} <= adopted
    assert ("book", wiki.books["guide"]) in adopted
    pages = sum(1 for o in outcomes if o["entity"] == "page")
    assert pages == sum(1 for o in outcomes if o["entity"] == "page" and o["status"] == "adopted")
    for name in ("overview", "install"):  # Markdown pages: their text stays exactly as BookStack had it
        after = client.read("pages", int(wiki.pages[name]["id"]))
        assert after["markdown"] == before[name]["markdown"]
        assert any(t["name"] == "bookstack-sync" for t in after["tags"])
    if bookstack.is_fake:
        puts = [r for r in bookstack.fake.requests if r.method == "PUT" and r.path.startswith("/api/pages/")]
        with_text = {r.path for r in puts if "markdown" in (r.body or {})}
        assert with_text == {f"/api/pages/{wiki.pages['setup']['id']}"}  # only the WYSIWYG page gets Markdown

    code, out = run(["sync"], bookstack, tmp_path, capsys, docs)
    assert code == 0, out
    again = json.loads((tmp_path / "report.json").read_text())
    assert [o for o in again["outcomes"] if o["status"] not in ("unchanged", "skipped")] == []
    assert again["requests"]["writes"] == 0, out

    second = tmp_path / "second"
    code, out = run(["export", *wiki.export_args()], bookstack, tmp_path, capsys, second)
    assert code == 0, out
    assert tree_files(second) == tree_files(docs)


def git(root: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@also_before_system_api
def test_pull_brings_a_hand_edit_back_and_the_next_sync_writes_nothing(
    wiki: HandWiki, bookstack: BookStackTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    assert run(["export", *wiki.export_args()], bookstack, tmp_path, capsys, docs)[0] == 0
    assert run(["sync"], bookstack, tmp_path, capsys, docs)[0] == 0
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "docs")
    git(tmp_path, "commit", "-qm", "export")
    client = bookstack.client(rate_limit=0 if bookstack.is_fake else 170)
    overview_id, install_id = int(wiki.pages["overview"]["id"]), int(wiki.pages["install"]["id"])
    guide = next(docs.glob("*/guide-*"))
    overview, install = guide / "01-overview.md", guide / "getting-started" / "01-install-etc.md"
    head_before = overview.read_text().split("---\n")[1]
    # a person edits two pages in BookStack; one of the git files also has uncommitted work
    client.update(
        "pages",
        overview_id,
        {
            "markdown": f"Welcome, edited in BookStack.\n\nSee [install]({wiki.app_url}/link/{install_id}#bkmrk-options)."
        },
    )
    client.update("pages", install_id, {"markdown": "## Options\n\nChanged too."})
    install.write_text(install.read_text() + "\nmy local work\n")
    # saved in the WYSIWYG editor: BookStack keeps HTML only, and its own Markdown export is what comes back
    setup_id = int(wiki.pages["setup"]["id"])
    setup = guide / "getting-started" / "02-setup.md"
    client.update("pages", setup_id, {"html": "<p>Rewritten <em>here</em>.</p>"})
    # a page whose file was renamed in git (committed, not synced yet): nowhere to write its edit
    welcome = next(docs.glob("team-*/handbook-*/01-welcome.md"))
    git(tmp_path, "mv", str(welcome.relative_to(tmp_path)), str(welcome.with_name("01-hello.md").relative_to(tmp_path)))
    git(tmp_path, "commit", "-qm", "rename")
    welcome_id = next(
        int(p["id"]) for p in client.list("pages") if p["name"] == "Welcome" and p["book_id"] == wiki.books["handbook"]
    )
    client.update("pages", welcome_id, {"markdown": "Hello, edited."})

    code, out = run(["pull", "--pull-report", "pull.json"], bookstack, tmp_path, capsys, docs)
    assert code == 0, out
    text = overview.read_text()
    assert text.split("---\n")[1] == head_before  # the frontmatter is kept
    assert text.endswith("Welcome, edited in BookStack.\n\nSee [install](getting-started/01-install-etc.md#options).\n")
    assert install.read_text().endswith("my local work\n")  # uncommitted work is never touched
    report = json.loads((tmp_path / "pull.json").read_text())
    assert [p["path"] for p in report["pulled"]] == [
        overview.relative_to(docs).as_posix(),
        setup.relative_to(docs).as_posix(),
    ]
    assert setup.read_text().endswith("---\n\nRewritten *here*.\n")
    assert [p["path"] for p in report["not_pulled"]] == [
        welcome.relative_to(docs).as_posix(),
        install.relative_to(docs).as_posix(),
    ]
    assert "no longer in the docs tree" in report["not_pulled"][0]["why"]
    assert "uncommitted" in out

    git(tmp_path, "checkout", "--", str(install.relative_to(tmp_path)))
    git(tmp_path, "commit", "-qam", "pulled from BookStack")
    code, out = run(["sync"], bookstack, tmp_path, capsys, docs)
    assert code == 0, out
    outcomes = json.loads((tmp_path / "report.json").read_text())["outcomes"]
    changed = {o["key"] for o in outcomes if o["status"] not in ("unchanged", "skipped")}
    # the pulled pages are in step; the ones left alone (uncommitted work, a renamed file) are git's to write
    assert changed == {
        install.relative_to(docs).as_posix(),
        welcome.with_name("01-hello.md").relative_to(docs).as_posix(),
    }
    assert client.read("pages", overview_id)["markdown"].startswith("Welcome, edited in BookStack.")

    # the same as a manual pipeline step (`mode: pull`): nothing is left to pull now
    code, out = run([], bookstack, tmp_path, capsys, docs, PLUGIN_MODE="pull", CI_PIPELINE_EVENT="manual")
    assert code == 0, out
    assert "0 page(s) pulled" in out
    assert json.loads((tmp_path / "bookstack-pull-report.json").read_text())["pulled"] == []
