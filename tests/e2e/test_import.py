"""New books and chapters by ZIP import, end to end through the plugin's entrypoint.

The first sync of a new tree goes by import (a few requests per book), leaves the same content as the
per-object path, and the next run writes nothing. Where the import cannot be used (old server, no
``content-import`` permission, a failed run, a lost answer) the run still ends with the same content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from bookstack_sync.plan.routes import version_allows_import
from bookstack_sync.plan.tags import BODY_TAG, COMMIT_TAG, HASH_TAG, REV_TAG, RUN_TAG, STATE_TAG, SYNCED_TAG
from tests.bookstack_target import BookStackTarget
from tests.fake_bookstack import DEFAULT_PERMISSIONS, FakeBookStack

from .conftest import Docs, Plugin, Run
from .test_assets import with_assets
from .test_sync import by_key, page

# What differs between two BookStacks by nature: when and from which commit a page was written, and
# the revision counter (the per-object path writes a page with images twice, the import once), and which
# run wrote it.
_VOLATILE_TAGS = {SYNCED_TAG, COMMIT_TAG, REV_TAG, HASH_TAG, BODY_TAG, RUN_TAG, STATE_TAG}


def import_docs(docs: Docs) -> Docs:
    """The standard tree grown so that every book is worth an import, with images, an attachment and
    a link across books."""
    handbook = docs.shelves[1]["shelf"]["books"][0]["book"]
    handbook["chapters"][0]["chapter"]["pages"] = ["01-welcome", "02-tools", "03-people"]
    docs.write_structure()
    with_assets(docs)
    docs.page(
        "eng/ops/runbooks/02-deploy.md", "Deploy", "Deploy after a [restart](01-restart.md).\n\n## Steps\n\nPush.\n"
    )
    docs.page("eng/ops/runbooks/03-rollback.md", "Rollback", "Undo the [deploy steps](02-deploy.md#steps).\n")
    docs.page(
        "team/handbook/onboarding/01-welcome.md",
        "Welcome",
        f"Hello and welcome. Start by [installing](../../../{docs.slug('eng')}/guide/start/01-install.md).\n",
    )
    docs.page("team/handbook/onboarding/02-tools.md", "Tools", "Editors and shells.\n")
    docs.page("team/handbook/onboarding/03-people.md", "People", "Who is who. Back to [welcome](01-welcome.md).\n")
    return docs


def writes(fake: FakeBookStack) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.content_writes()]


def report(docs: Docs) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    return data


def routes(docs: Docs, entity: str) -> dict[str, str]:
    return {o["key"]: o["route"] for o in report(docs)["outcomes"] if o["entity"] == entity and o["kind"] == "create"}


def comparable(fake: FakeBookStack) -> dict[str, Any]:
    """``fake.snapshot()`` with what must differ between two servers made equal: ids in ``/link/<id>``
    become the target's name, image and attachment URLs become placeholders, volatile tags are dropped.
    BookStack's own links start with its APP_URL (an import resolves its references so) and are compared
    as the relative links the plugin writes; the address the plugin reached BookStack at is never in content.
    """
    names = {p.id: p.name for p in fake.state.pages.values()}

    def markdown(text: str) -> str:
        assert fake.base_url not in text
        text = text.replace(fake.app_url, "")
        text = re.sub(r"/link/(\d+)", lambda m: f"/link/{names.get(int(m.group(1)), '?')}", text)
        text = re.sub(r"\]\([^)\s]*/uploads/images/[^)\s]*\)", "](IMAGE)", text)
        return re.sub(r"/attachments/\d+", "/attachments/N", text)

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: clean(v) for k, v in node.items()}
            if out.get("type") == "page" and isinstance(out.get("markdown"), str):
                out["markdown"] = markdown(out["markdown"])
            if isinstance(out.get("tags"), list):
                out["tags"] = [t for t in out["tags"] if t[0] not in _VOLATILE_TAGS]
            return out
        if isinstance(node, list):
            return [clean(item) for item in node]
        return node

    snap = clean(fake.snapshot())
    return {key: sorted(items, key=lambda i: json.dumps(i, sort_keys=True)) for key, items in snap.items()}


def plugin_for(fake: FakeBookStack, docs: Docs, capsys: pytest.CaptureFixture[str]) -> Plugin:
    return Plugin(BookStackTarget(fake.base_url, fake.token_id, fake.token_secret, fake=fake), docs, capsys)


def ok(run: Run) -> Run:
    assert run.exit_code == 0, run.err
    return run


def assert_rerun_writes_nothing(
    fake: FakeBookStack, docs: Docs, capsys: pytest.CaptureFixture[str], **settings: str
) -> None:
    """Another sync with the same settings writes nothing."""
    fake.requests.clear()
    ok(plugin_for(fake, docs, capsys).run(**settings))
    assert writes(fake) == []


def assert_as_object_by_object(
    fake: FakeBookStack, reference: FakeBookStack, docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fake`` holds what a sync object by object (``import: never``) makes of the same docs in ``reference``."""
    ok(plugin_for(reference, docs, capsys).run(**{"import": "never"}))
    assert comparable(fake) == comparable(reference)


# --- the main path ------------------------------------------------------------------------------------


@pytest.mark.real_bookstack
def test_first_sync_by_import_then_a_no_op_then_one_edit(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    import_docs(docs)
    run = ok(plugin.run())
    if version_allows_import(str((bookstack.client().system() or {}).get("version", ""))):
        assert set(routes(docs, "book").values()) == {"import"}
        assert "by ZIP import: book(s)" in run.err + run.out
    objects = by_key(bookstack, docs)
    assert sum(1 for k in objects if k.startswith("page:")) == 11
    install = page(bookstack, docs, "eng/guide/start/01-install.md")
    configure_id = objects[f"page:{docs.key('eng/guide/start/02-configure.md')}"]["id"]
    assert f"/link/{configure_id}#bkmrk-options" in install["markdown"]
    welcome = page(bookstack, docs, "team/handbook/onboarding/01-welcome.md")
    assert f"/link/{install['id']}" in welcome["markdown"]  # across two imports
    restart = page(bookstack, docs, "eng/ops/runbooks/01-restart.md")
    images = list(bookstack.client().list("image-gallery", filters={"uploaded_to": int(restart["id"])}))
    assert sorted(i["name"] for i in images) == ["img/after.png", "img/before.png"]
    for url in re.findall(r"\]\(([^)\s]+)", str(restart["markdown"])):
        assert bookstack.client().fetch_web(url, allow_redirects=True).status_code == 200
    shelf = bookstack.client().read("shelves", int(objects[f"bookshelf:{docs.slug('eng')}"]["id"]))
    assert [b["name"] for b in shelf["books"]] == [f"Development Guide {docs.prefix}", f"Operations {docs.prefix}"]
    if bookstack.fake is None:
        return
    fake = bookstack.fake
    imports = [w for w in writes(fake) if w.startswith("POST /api/imports")]
    assert len(imports) == 6  # upload and run, three books
    assert not [w for w in writes(fake) if w.startswith(("POST /api/pages", "PUT /api/pages"))]
    assert fake.state.imports == {}

    fake.requests.clear()
    ok(plugin.run())
    assert writes(fake) == []

    docs.page("team/handbook/onboarding/02-tools.md", "Tools", "Editors, shells and a terminal.\n")
    fake.requests.clear()
    ok(plugin.run())
    assert len(writes(fake)) == 1 and writes(fake)[0].startswith("PUT /api/pages/")


def test_import_and_object_by_object_leave_the_same_content(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    by_import, by_objects = fakes(), fakes()
    ok(plugin_for(by_import, docs, capsys).run())
    ok(plugin_for(by_objects, docs, capsys).run(**{"import": "never"}))
    assert any(r.path == "/api/imports" for r in by_import.requests)
    assert not any(r.path.startswith("/api/imports") for r in by_objects.requests)
    assert comparable(by_import) == comparable(by_objects)
    for fake, settings in ((by_import, {}), (by_objects, {"import": "never"})):
        assert_rerun_writes_nothing(fake, docs, capsys, **settings)


def test_a_big_book_is_imported_chapter_by_chapter(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    guide = docs.shelves[0]["shelf"]["books"][0]["book"]
    guide["chapters"].append({"chapter": {"name": "Reference", "slug": "reference"}})
    docs.write_structure()
    for n, title in enumerate(("Commands", "Settings", "Glossary"), start=1):
        docs.page(f"eng/guide/reference/0{n}-{title.lower()}.md", title, f"All the {title.lower()}.\n")
    docs.page("eng/guide/start/03-verify.md", "Verify", "Check it works.\n")
    guide["chapters"][0]["chapter"]["pages"].append("03-verify")
    docs.write_structure()
    # 1 book page + "start" (3 pages) fit in 4; "practice" has too few pages to be worth an import;
    # "reference" (3 pages) follows as a chapter import of its own
    fake, reference = fakes(), fakes()
    run = ok(plugin_for(fake, docs, capsys).run(import_max_pages="4"))
    uploads = [r for r in fake.requests if r.method == "POST" and r.path == "/api/imports"]
    assert len(uploads) == 2
    assert routes(docs, "chapter")[docs.key("eng/guide/start")] == "import"  # inside the book import
    assert routes(docs, "chapter")[docs.key("eng/guide/reference")] == "import"
    assert routes(docs, "chapter")[docs.key("eng/guide/practice")] == "api"
    assert "by ZIP import: chapter(s)" in run.err + run.out
    assert_as_object_by_object(fake, reference, docs, capsys)
    assert_rerun_writes_nothing(fake, docs, capsys, import_max_pages="4")


def test_a_new_chapter_in_an_existing_book_is_imported_and_put_in_its_place(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, reference = fakes(), fakes()
    for target, settings in ((fake, {}), (reference, {"import": "never"})):
        ok(plugin_for(target, docs, capsys).run(**settings))
    guide = docs.shelves[0]["shelf"]["books"][0]["book"]
    guide["chapters"].insert(1, {"chapter": {"name": "Deep Dive", "slug": "deep"}})
    docs.write_structure()
    for n, title in enumerate(("Internals", "Storage", "Network"), start=1):
        docs.page(
            f"eng/guide/deep/0{n}-{title.lower()}.md",
            title,
            f"About {title.lower()}; see [style](../practice/01-style.md).\n",
        )
    for target, settings in ((reference, {"import": "never"}), (fake, {})):
        target.requests.clear()
        ok(plugin_for(target, docs, capsys).run(**settings))
    assert [r.path for r in fake.requests if r.method == "POST" and r.path == "/api/imports"] == ["/api/imports"]
    assert routes(docs, "chapter") == {docs.key("eng/guide/deep"): "import"}
    chapters = [c["name"] for c in comparable(fake)["books"][0]["contents"] if c["type"] == "chapter"]
    assert chapters[:3] == ["Getting Started", "Deep Dive", "Best Practices"]
    assert comparable(fake) == comparable(reference)
    assert_rerun_writes_nothing(fake, docs, capsys)


# --- where the import cannot be used ---------------------------------------------------------------------


def test_an_old_server_gets_everything_object_by_object(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    old, reference = fakes(version="v25.02.4", chapterless_chapter_id=0), fakes(version="v25.02.4")
    run = ok(plugin_for(old, docs, capsys).run())
    assert "has no import API" in run.err + run.out
    assert not any(r.path.startswith("/api/imports") for r in old.requests)
    assert set(routes(docs, "book").values()) == {"api"}
    assert_as_object_by_object(old, reference, docs, capsys)


def test_without_the_import_permission_one_warning_then_object_by_object(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes(permissions=DEFAULT_PERMISSIONS - {"content-import"})
    reference = fakes()
    run = ok(plugin_for(fake, docs, capsys).run())
    assert (run.out + run.err).count("content-import") == 1
    attempts = [r for r in fake.requests if r.path.startswith("/api/imports")]
    assert len(attempts) == 1  # refused once, not tried again for the other books
    assert_as_object_by_object(fake, reference, docs, capsys)
    assert_rerun_writes_nothing(fake, docs, capsys)


def test_a_failed_run_is_deleted_reported_and_done_object_by_object(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake, reference = fakes(), fakes()
    # the first import's run fails twice: once as a lost answer (nothing made, so it is run again), then for good
    fake.faults.fail_next(n=2, status=500, methods="POST", path_prefix="/api/imports/")
    run = ok(plugin_for(fake, docs, capsys).run())
    assert "Injected failure" in run.err  # BookStack's {"error": {"message": ...}}
    assert "created object by object instead" in run.err
    assert fake.state.imports == {}  # the failed import was deleted
    assert sorted(routes(docs, "book").values()) == ["api", "import", "import"]
    assert_as_object_by_object(fake, reference, docs, capsys)
    assert_rerun_writes_nothing(fake, docs, capsys)


def test_a_run_bookstack_refuses_reports_its_message(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    # BookStack checks permissions only when the import runs: {"message": "ZIP import failed ...", "status": "error"}
    fake = fakes(permissions=DEFAULT_PERMISSIONS - {"image-create-all"})
    run = plugin_for(fake, docs, capsys).run()
    assert "ZIP import failed with the following errors" in run.err
    assert "lacking the required permission to create images" in run.err
    assert fake.state.imports == {}


def test_a_lost_answer_to_the_run_does_not_create_the_book_twice(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes()
    fake.faults.apply_then_fail_next(n=1, status=None, methods="POST", path_prefix="/api/imports/")
    run = ok(plugin_for(fake, docs, capsys).run())
    assert "lost its answer" in run.err
    names = sorted(b.name for b in fake.state.books.values())
    assert len(names) == len(set(names)) == 3
    assert set(routes(docs, "book").values()) == {"import"}
    assert_rerun_writes_nothing(fake, docs, capsys)


def test_a_dry_run_plan_names_the_books_that_go_by_import(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes()
    run = ok(plugin_for(fake, docs, capsys).run("pull_request"))
    notes = report(docs)["plan"]["notes"]
    assert any(docs.key("eng/guide") in n and "ZIP import" in n for n in notes), notes
    assert writes(fake) == []
    assert "ZIP import" in run.err + run.out


def test_ids_that_come_out_other_than_predicted_are_corrected_in_the_same_run(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    # a page with an image that links to a page of its own import: its second write must reuse the image
    docs.page("eng/ops/runbooks/01-restart.md", "Restart", "![before](img/before.png) Then [deploy](02-deploy.md).\n")
    fake = fakes()
    # a page in the recycle bin holds the next id, invisible to the listings the prediction starts from
    target = plugin_for(fake, docs, capsys).target
    client = target.client()
    scratch = client.create("books", {"name": "Scratch"})
    client.delete(
        "pages", int(client.create("pages", {"book_id": scratch["id"], "name": "Gone", "markdown": "x"})["id"])
    )
    run = ok(plugin_for(fake, docs, capsys).run())
    assert "came out other than predicted" in run.err
    assert not [w for w in writes(fake) if "image-gallery" in w]  # the imported image was kept
    restart = page(target, docs, "eng/ops/runbooks/01-restart.md")
    assert f"/link/{page(target, docs, 'eng/ops/runbooks/02-deploy.md')['id']})" in restart["markdown"]
    assert "/uploads/images/" in restart["markdown"]
    assert set(routes(docs, "book").values()) == {"import"}
    install = page(target, docs, "eng/guide/start/01-install.md")
    configure = page(target, docs, "eng/guide/start/02-configure.md")
    assert f"/link/{configure['id']}#bkmrk-options" in install["markdown"]
    assert_rerun_writes_nothing(fake, docs, capsys)
