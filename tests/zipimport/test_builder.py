"""The ZIP builder on its own: a ZIP BookStack accepts, the tags and markdown the per-object path would
write, images and attachments inside, predicted ids that come true, and the 191-character guard."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bookstack_sync.apply.context import ApplyContext
from bookstack_sync.apply.zipbuild import (
    BuiltImport,
    ImportBuildError,
    ZipInputs,
    build_import,
    is_tree_mark,
    predict_ids,
    tree_mark,
)
from bookstack_sync.bookstack import BookStackClient
from bookstack_sync.check.validate import validate_docs
from bookstack_sync.docs.tree import DocsTree
from bookstack_sync.model import EntityKind, Plan, Route
from bookstack_sync.plan.desired import DesiredState, build_desired
from bookstack_sync.plan.matching import ImportUnit, Matching, PlanOptions, body_hash, page_hash
from bookstack_sync.plan.planner import plan_sync
from bookstack_sync.plan.record import file_shares, source_hash
from bookstack_sync.plan.remote import RemoteState
from bookstack_sync.plan.resolve import canonical_markdown
from bookstack_sync.plan.tags import (
    ASSET_TAG,
    BODY_TAG,
    COMMIT_TAG,
    HASH_TAG,
    MANAGED_TAG,
    REV_TAG,
    SOURCE_TAG,
    SYNCED_TAG,
)
from tests.e2e.conftest import Docs, standard_docs
from tests.e2e.test_assets import with_assets
from tests.fake_bookstack import FakeBookStack
from tests.fake_bookstack.imports import read_zip

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Tree:
    """A validated docs tree, its desired state, and the plan for an empty BookStack."""

    def __init__(self, docs: Docs, version: str = "v26.03.3", **options: Any) -> None:
        validation = validate_docs(docs.docs_dir, docs.docs_dir / "bookstack" / "bookstack-structure.yaml")
        assert validation.errors == 0, [d.format() for d in validation.diagnostics]
        assert validation.structure is not None and validation.tree is not None
        self.docs = docs
        self.tree: DocsTree = validation.tree
        self.desired: DesiredState = build_desired(validation.structure, self.tree)
        self.remote = RemoteState(version=version)
        self.plan, self.matching = plan_sync(
            self.desired,
            self.remote,
            lambda page, matching: canonical_markdown(
                page, matching, self.tree, self.desired, strip_title_heading=True, forge_markdown=True
            ),
            PlanOptions(use_import=True, **options),
        )

    def unit(self, rel: str) -> ImportUnit:
        key = self.docs.key(rel)
        return next(u for u in self.matching.import_units if u.key == key)

    def build(self, rel: str, *, known: dict[EntityKind, set[int]] | None = None, tree_id: str = "") -> BuiltImport:
        unit = self.unit(rel)
        inputs = ZipInputs(
            desired=self.desired,
            tree=self.tree,
            matching=self.matching,
            slugs={},
            predicted=predict_ids(self.desired, unit, known or {}, self.remote.version),
        )
        ctx = ApplyContext(
            client=None,  # type: ignore[arg-type]  # the builder never talks to BookStack
            desired=self.desired,
            remote=self.remote,
            matching=self.matching,
            tree=self.tree,
            commit=COMMIT,
            now=lambda: NOW,
            tree_id=tree_id,
            sources=file_shares(self.tree.root),
        )
        return build_import(inputs, unit, ctx)


def pages_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """data.json pages by source key."""
    root = document.get("book") or document["chapter"]
    found = list(root.get("pages", []))
    for chapter in root.get("chapters", []):
        found += chapter["pages"]
    return {next(t["value"] for t in p["tags"] if t["name"] == MANAGED_TAG): p for p in found}


@pytest.fixture
def docs(tmp_path: Path) -> Docs:
    docs = standard_docs(tmp_path, "z")
    with_assets(docs)
    return docs


def test_the_zip_passes_bookstacks_own_checks(docs: Docs) -> None:
    built = Tree(docs).build("eng/guide")
    kind, payload, _ = read_zip(built.data)  # the fake's port of ZipExport*::validate: raises on a problem
    assert kind == "book"
    names = zipfile.ZipFile(io.BytesIO(built.data)).namelist()
    assert names[0] == "data.json" and all(n == "data.json" or n.startswith("files/") for n in names)
    assert payload == json.loads(zipfile.ZipFile(io.BytesIO(built.data)).read("data.json"))
    assert built.filename == "guide.zip"


def test_the_top_level_id_names_the_tree_where_a_pending_import_still_shows_it(docs: Docs) -> None:
    # a pending import's details keep ZIP-local ids but drop tag values: the id tells whose it is
    ours, theirs = (Tree(docs).build("eng/guide", tree_id=tree) for tree in ("acme/handbook:docs", "acme/ops:docs"))
    mark = ours.document["book"]["id"]
    assert mark == tree_mark("acme/handbook:docs") != theirs.document["book"]["id"] == tree_mark("acme/ops:docs")
    assert is_tree_mark(mark) and not is_tree_mark(1)  # 1: what versions before tree marks wrote
    assert [c["id"] for c in ours.document["book"]["chapters"]] == [1, 2]  # the others stay small and unique
    read_zip(ours.data)  # still a ZIP BookStack takes (ids are integers, unique per type)


def test_pages_carry_the_tags_the_per_object_path_writes(docs: Docs) -> None:
    tree = Tree(docs)
    built = tree.build("eng/guide")
    key = docs.key("eng/guide/start/01-install.md")
    tags = [(t["name"], t["value"]) for t in pages_of(built.document)[key]["tags"]]
    page = tree.desired.pages[key]
    expected = Matching(ids={**tree.matching.ids, **{(EntityKind.PAGE, k): v for k, v in built.predicted.items()}})
    canonical = canonical_markdown(
        page, expected, tree.tree, tree.desired, strip_title_heading=True, forge_markdown=True
    )
    assert canonical is not None
    assert (
        tags
        == [
            *page.tags,
            (MANAGED_TAG, key),
            (HASH_TAG, page_hash(page, canonical, page.parent_key)),
            (BODY_TAG, body_hash(canonical)),
            (REV_TAG, "1"),  # an imported page has one revision
            (SYNCED_TAG, "2026-01-02T03:04:05Z"),
            (COMMIT_TAG, COMMIT[:12]),
            # the file's share of the docs digest and the priority (the edit path without git history)
            (SOURCE_TAG, f"{source_hash(key, (docs.docs_dir / key).read_bytes())} {page.priority}"),
        ]
    )
    book = built.document["book"]
    assert book["tags"] == [{"name": MANAGED_TAG, "value": docs.key("eng/guide")}]
    assert [c["tags"] for c in book["chapters"]] == [
        [{"name": MANAGED_TAG, "value": docs.key("eng/guide/start")}],
        [{"name": MANAGED_TAG, "value": docs.key("eng/guide/practice")}],
    ]


def test_links_inside_the_import_go_to_predicted_ids_and_the_markdown_is_final(docs: Docs) -> None:
    built = Tree(docs).build("eng/guide")
    pages = pages_of(built.document)
    install = pages[docs.key("eng/guide/start/01-install.md")]
    configure_id = built.predicted[docs.key("eng/guide/start/02-configure.md")]
    assert install["markdown"] == f"Run `make`. Then [configure](/link/{configure_id}#bkmrk-options)."
    review = pages[docs.key("eng/guide/practice/02-review.md")]
    assert f"/link/{built.predicted[docs.key('eng/guide/practice/01-style.md')]})" in review["markdown"]
    assert not built.waiting


def test_a_link_to_a_page_without_an_id_waits_for_a_second_write(docs: Docs) -> None:
    docs.page("eng/ops/runbooks/02-deploy.md", "Deploy", "See the [overview](../../guide/01-overview.md).\n")
    docs.page("eng/ops/runbooks/03-undo.md", "Undo", "Undo.\n")
    built = Tree(docs).build("eng/ops")
    key = docs.key("eng/ops/runbooks/02-deploy.md")
    deploy = pages_of(built.document)[key]
    assert built.waiting == {key}
    assert dict((t["name"], t["value"]) for t in deploy["tags"])[HASH_TAG] == "pending"


def test_images_and_attachments_travel_inside_the_zip(docs: Docs) -> None:
    docs.page("eng/ops/runbooks/02-deploy.md", "Deploy", "Same picture: ![again](img/before.png)\n")
    docs.page("eng/ops/runbooks/03-undo.md", "Undo", "Undo.\n")
    built = Tree(docs).build("eng/ops")
    pages = pages_of(built.document)
    restart = pages[docs.key("eng/ops/runbooks/01-restart.md")]
    assert [(i["id"], i["name"], i["type"]) for i in restart["images"]] == [
        (1, "img/before.png", "gallery"),
        (2, "img/after.png", "gallery"),
    ]
    assert [(a["id"], a["name"]) for a in restart["attachments"]] == [(1, "checklist.pdf")]
    assert "![before]([[bsexport:image:1]])" in restart["markdown"]
    assert "![after]([[bsexport:image:2]])" in restart["markdown"]
    assert "[checklist]([[bsexport:attachment:1]])" in restart["markdown"]
    folder = docs.path("eng/ops/runbooks")
    archive = zipfile.ZipFile(io.BytesIO(built.data))
    assert archive.read("files/" + restart["images"][0]["file"]) == (folder / "img" / "before.png").read_bytes()
    assert restart["attachments"][0]["file"].endswith(".pdf")  # BookStack takes the extension from the name
    deploy = pages[docs.key("eng/ops/runbooks/02-deploy.md")]
    assert deploy["images"][0]["file"] == restart["images"][0]["file"]  # one copy of the same content
    assert deploy["markdown"] == "Same picture: ![again]([[bsexport:image:3]])"
    asset_tags = [t["value"] for t in restart["tags"] if t["name"] == ASSET_TAG]
    assert [v.split(" ", 1)[1] for v in asset_tags] == [
        docs.key("eng/ops/runbooks/img/before.png"),
        docs.key("eng/ops/runbooks/img/after.png"),
        docs.key("eng/ops/runbooks/checklist.pdf"),
    ]


def test_priorities_are_the_desired_ones_in_the_order_bookstack_sorts_them(docs: Docs) -> None:
    book = Tree(docs).build("eng/guide").document["book"]
    assert [(p["name"], p["priority"]) for p in book["pages"]] == [("Overview", 1)]
    assert [(c["name"], c["priority"]) for c in book["chapters"]] == [("Getting Started", 100), ("Best Practices", 101)]
    assert [[p["priority"] for p in c["pages"]] for c in book["chapters"]] == [[1, 2], [1, 2]]


@pytest.mark.parametrize("version", ["v25.07.3", "v26.03.3"])  # per-type ids before v25.11, one sequence after
def test_predicted_ids_come_true_when_bookstack_runs_the_import(docs: Docs, version: str) -> None:
    with FakeBookStack(version=version) as fake:
        client = BookStackClient(fake.base_url, fake.token_id, fake.token_secret, rate_limit=0)
        existing = client.create("books", {"name": "Somebody else's"})
        client.create("pages", {"book_id": existing["id"], "name": "Theirs", "markdown": "x"})
        known: dict[EntityKind, set[int]] = {
            EntityKind.BOOK: {int(existing["id"])},
            EntityKind.PAGE: {int(p["id"]) for p in client.list("pages")},
        }
        tree = Tree(docs, version=version)
        built = tree.build("eng/guide", known=known)
        upload = client.upload_import(built.filename, built.data)
        created = client.run_import(int(upload["id"]))
        made = {
            next(t["value"] for t in hit["tags"] if t["name"] == MANAGED_TAG): int(hit["id"])
            for hit in client.search("{type:page} [bookstack-sync]")
        }
        assert made == built.predicted
        contents = client.read("books", int(created["id"]))["contents"]
        # BookStack renumbers (the first child of a new book gets 2) but keeps the order
        assert [(c["name"], c["priority"]) for c in contents] == [
            ("Overview", 2),
            ("Getting Started", 3),
            ("Best Practices", 4),
        ]
        client.close()


def test_the_builder_refuses_what_the_import_would_cut(docs: Docs) -> None:
    tree = Tree(docs)
    key = docs.key("eng/guide/01-overview.md")
    page = tree.desired.pages[key]
    tree.desired.pages[key] = type(page)(**{**page.__dict__, "tags": (("topic", "x" * 200),)})
    with pytest.raises(ImportBuildError, match="191"):
        tree.build("eng/guide")


def test_an_old_or_unknown_version_and_import_never_plan_no_import(docs: Docs) -> None:
    for version in ("v25.02.4", None):
        tree = Tree(docs, version=version or "")
        assert tree.matching.import_units == []
        assert any("has no import API" in n for n in tree.plan.notes)
    plan: Plan = plan_sync(
        Tree(docs).desired,
        RemoteState(version="v26.03.3"),
        lambda page, matching: None,
        PlanOptions(use_import=False),
    )[0]
    assert all(a.route is Route.API for a in plan.actions)
    assert any("import: never" in n for n in plan.notes)
