"""Plan and sync end to end: the plugin's entrypoint against BookStack (the fake, or a real one)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from bookstack_sync.cli import main
from bookstack_sync.plan.remote import wiki_address
from tests.bookstack_target import BookStackTarget, also_before_system_api

from .conftest import MANAGED_TAG, Docs, Plugin, managed_objects

pytestmark = pytest.mark.real_bookstack


def by_key(target: BookStackTarget, docs: Docs) -> dict[str, dict[str, Any]]:
    """Managed objects of this run keyed by ``<type>:<source key>``."""
    found: dict[str, dict[str, Any]] = {}
    for hit in managed_objects(target, docs.prefix):
        key = next(t["value"] for t in hit["tags"] if t["name"] == MANAGED_TAG)
        found[f"{hit['type']}:{key}"] = hit
    return found


def page(target: BookStackTarget, docs: Docs, rel: str) -> dict[str, Any]:
    hit = by_key(target, docs)[f"page:{docs.key(rel)}"]
    return target.client().read("pages", int(hit["id"]))


def writes(target: BookStackTarget) -> list[str]:
    assert target.fake is not None
    return [f"{r.method} {r.path}" for r in target.fake.content_writes()]


def fake_only(target: BookStackTarget) -> None:
    if not target.is_fake:
        pytest.skip("needs the fake's request log or fault injection")


def test_initial_sync_creates_everything_with_links_resolved(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    run = plugin.run()
    assert run.exit_code == 0, run.err
    objects = by_key(bookstack, docs)
    kinds = sorted(k.split(":")[0] for k in objects)
    assert kinds.count("bookshelf") == 2 and kinds.count("book") == 3 and kinds.count("chapter") == 4
    assert kinds.count("page") == 7
    install = page(bookstack, docs, "eng/guide/start/01-install.md")
    configure_id = objects[f"page:{docs.key('eng/guide/start/02-configure.md')}"]["id"]
    assert f"/link/{configure_id}" in install["markdown"]
    assert "02-configure.md" not in install["markdown"]
    assert not install["markdown"].startswith("# Install")  # the title heading is not repeated
    shelf = bookstack.client().read("shelves", int(objects[f"bookshelf:{docs.slug('eng')}"]["id"]))
    assert [b["name"] for b in shelf["books"]] == [f"Development Guide {docs.prefix}", f"Operations {docs.prefix}"]


@also_before_system_api
def test_report_links_use_bookstacks_own_address(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    # readers of the summary (a pull request comment) open BookStack at its APP_URL, which may differ from
    # the address the plugin reaches it at in a pipeline (the fake's always does)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    report = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    some_page = next(o["id"] for o in report["outcomes"] if o["entity"] == "page")
    app_url = wiki_address(bookstack.client(), int(some_page))
    urls = [o["url"] for o in report["outcomes"] if o["url"]]
    assert urls and all(url.startswith(app_url + "/") for url in urls)
    assert report["bookstack_url"] == app_url
    if app_url != bookstack.url:
        assert bookstack.url not in (docs.root / "summary.md").read_text(encoding="utf-8")


def test_second_run_writes_nothing_and_costs_a_handful_of_requests(plugin: Plugin, bookstack: BookStackTarget) -> None:
    fake_only(bookstack)
    assert plugin.run().exit_code == 0
    assert bookstack.fake is not None
    bookstack.fake.requests.clear()
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert writes(bookstack) == []
    assert len(bookstack.fake.requests) <= 12


def test_editing_one_page_costs_exactly_one_write(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake_only(bookstack)
    assert plugin.run().exit_code == 0
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly and briefly.\n")
    assert bookstack.fake is not None
    bookstack.fake.requests.clear()
    assert plugin.run().exit_code == 0
    assert len(writes(bookstack)) == 1 and writes(bookstack)[0].startswith("PUT /api/pages/")
    assert page(bookstack, docs, "eng/guide/practice/01-style.md")["markdown"] == "Write clearly and briefly."


def test_editing_only_the_tags_of_a_page_reaches_bookstack(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    # the content hash covers the tags: a frontmatter tag edit alone must be written
    assert plugin.run().exit_code == 0
    rel = "eng/guide/practice/01-style.md"
    assert {"name": "example", "value": ""} in [
        {"name": t["name"], "value": t["value"]} for t in page(bookstack, docs, rel)["tags"]
    ]
    docs.page(rel, "Style", "Write clearly.\n", tags=["writing", "style"])
    run = plugin.run()
    assert run.exit_code == 0, run.err
    names = [t["name"] for t in page(bookstack, docs, rel)["tags"]]
    assert names[:2] == ["writing", "style"] and "example" not in names
    if bookstack.fake is not None:
        bookstack.fake.requests.clear()
        assert plugin.run().exit_code == 0
        assert writes(bookstack) == []


def test_title_change_renames_in_place(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    before = page(bookstack, docs, "eng/guide/practice/01-style.md")
    docs.page("eng/guide/practice/01-style.md", "Style Guide", "Write clearly.\n")
    assert plugin.run().exit_code == 0
    after = page(bookstack, docs, "eng/guide/practice/01-style.md")
    assert after["id"] == before["id"] and after["name"] == "Style Guide"


def test_file_moved_to_another_chapter_moves_the_page(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    before = page(bookstack, docs, "eng/guide/practice/02-review.md")
    chapters = docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"]
    chapters[0]["chapter"]["pages"] = ["01-install", "02-configure", "02-review"]
    chapters[1]["chapter"]["pages"] = ["01-style"]
    docs.write_structure()
    old = docs.path("eng/guide/practice/02-review.md")
    text = (
        old.read_text()
        .replace("category: practice", "category: start")
        .replace("(01-style.md)", "(../practice/01-style.md)")
    )
    old.unlink()
    docs.path("eng/guide/start/02-review.md").write_text(text)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    after = page(bookstack, docs, "eng/guide/start/02-review.md")
    start = by_key(bookstack, docs)[f"chapter:{docs.key('eng/guide/start')}"]
    assert after["id"] == before["id"]
    assert after["chapter_id"] == start["id"]
    assert f"page:{docs.key('eng/guide/practice/02-review.md')}" not in by_key(bookstack, docs)


def test_file_renamed_in_place_keeps_its_page(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    before = page(bookstack, docs, "eng/ops/runbooks/01-restart.md")
    old = docs.path("eng/ops/runbooks/01-restart.md")
    old.rename(old.with_name("01-restart-services.md"))
    assert plugin.run().exit_code == 0
    after = page(bookstack, docs, "eng/ops/runbooks/01-restart-services.md")
    assert after["id"] == before["id"]


def test_structure_rename_renames_in_place(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    key = f"chapter:{docs.key('eng/guide/start')}"
    before = by_key(bookstack, docs)[key]
    docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"][0]["chapter"]["name"] = "First Steps"
    docs.write_structure()
    assert plugin.run().exit_code == 0
    after = by_key(bookstack, docs)[key]
    assert after["id"] == before["id"] and after["name"] == "First Steps"


def test_new_shelf_book_and_chapter_are_created(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    docs.shelves.append(
        {
            "shelf": {
                "name": f"Archive {docs.prefix}",
                "slug": docs.slug("archive"),
                "books": [
                    {
                        "book": {
                            "name": f"Old {docs.prefix}",
                            "slug": "old",
                            "chapters": [{"chapter": {"name": "Notes", "slug": "notes"}}],
                        }
                    }
                ],
            }
        }
    )
    docs.write_structure()
    docs.page("archive/old/notes/01-first.md", "First", "Old notes.\n")
    assert plugin.run().exit_code == 0
    objects = by_key(bookstack, docs)
    assert f"bookshelf:{docs.slug('archive')}" in objects
    assert f"page:{docs.key('archive/old/notes/01-first.md')}" in objects


def test_foreign_book_on_a_managed_shelf_is_kept(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    client = bookstack.client()
    shelf_id = int(by_key(bookstack, docs)[f"bookshelf:{docs.slug('eng')}"]["id"])
    foreign = bookstack.create("books", {"name": bookstack.unique_name("foreign")}, client)
    shelf = client.read("shelves", shelf_id)
    client.update("shelves", shelf_id, {"books": [foreign["id"], *[b["id"] for b in shelf["books"]]]})
    docs.shelves[0]["shelf"]["books"].reverse()  # a reorder forces a shelf write
    docs.write_structure()
    assert plugin.run().exit_code == 0
    books = [b["id"] for b in client.read("shelves", shelf_id)["books"]]
    assert foreign["id"] in books
    assert books[-1] == foreign["id"]  # managed books first, in structure order; others after


def test_orphan_is_reported_and_kept_without_prune(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    docs.path("eng/ops/runbooks/01-restart.md").unlink()
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "orphan" in run.out + run.err
    assert f"page:{docs.key('eng/ops/runbooks/01-restart.md')}" in by_key(bookstack, docs)


def test_prune_deletes_orphans(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    docs.path("eng/ops/runbooks/01-restart.md").unlink()
    run = plugin.run(prune="true", prune_limit="50")
    assert run.exit_code == 0, run.err
    assert f"page:{docs.key('eng/ops/runbooks/01-restart.md')}" not in by_key(bookstack, docs)


def test_prune_guard_refuses_to_empty_the_wiki(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    for rel in ("eng/guide/practice/01-style.md", "eng/guide/practice/02-review.md", "eng/ops/runbooks/01-restart.md"):
        docs.path(rel).unlink()
    docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"][1]["chapter"]["pages"] = []
    docs.write_structure()
    run = plugin.run(prune="true")
    assert run.exit_code == 3
    assert "prune_limit" in run.err
    assert f"page:{docs.key('eng/guide/practice/01-style.md')}" in by_key(bookstack, docs)


@pytest.mark.parametrize(("prune_limit", "exit_code"), [("25", 0), ("24", 3)])
def test_prune_guard_allows_exactly_prune_limit_percent(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, prune_limit: str, exit_code: int
) -> None:
    docs.page("eng/ops/runbooks/02-rollback.md", "Rollback", "Undo.\n")  # 8 managed pages
    assert plugin.run().exit_code == 0
    gone = ("eng/ops/runbooks/01-restart.md", "eng/ops/runbooks/02-rollback.md")
    for rel in gone:
        docs.path(rel).unlink()
    run = plugin.run(prune="true", prune_limit=prune_limit)  # 2 of 8 = 25%
    assert run.exit_code == exit_code, run.err
    left = by_key(bookstack, docs)
    assert all((f"page:{docs.key(rel)}" in left) is (exit_code == 3) for rel in gone)
    if exit_code == 3:
        assert "25% > prune_limit 24%" in run.err


@pytest.mark.parametrize(
    ("on_drift", "exit_code", "restored"), [("overwrite", 0, True), ("skip", 0, False), ("fail", 3, False)]
)
def test_drift(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, on_drift: str, exit_code: int, restored: bool
) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    assert plugin.run().exit_code == 0
    page_id = int(page(bookstack, docs, "eng/guide/practice/01-style.md")["id"])
    bookstack.fake.edit_page_as_human(page_id, markdown="A person's edit")
    run = plugin.run(on_drift=on_drift)
    assert run.exit_code == exit_code, run.err
    assert "drift" in (run.out + run.err)
    markdown = bookstack.client().read("pages", page_id)["markdown"]
    assert (markdown == "Write clearly.") is restored
    assert (markdown == "A person's edit") is (not restored)


def a_hand_made_page_then_its_file(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> int:
    """After a sync, someone makes page "Deploy" in chapter runbooks by hand; then the docs add the
    page of that name there. Returns the hand-made page's id."""
    assert plugin.run().exit_code == 0
    chapter_id = int(by_key(bookstack, docs)[f"chapter:{docs.key('eng/ops/runbooks')}"]["id"])
    page = {"chapter_id": chapter_id, "name": "Deploy", "markdown": "by hand"}
    hand_made = bookstack.create("pages", page, bookstack.client())
    docs.page("eng/ops/runbooks/02-deploy.md", "Deploy", "Deploy with care.\n")
    return int(hand_made["id"])


def test_adoption_of_an_unmanaged_page(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    hand_made = a_hand_made_page_then_its_file(plugin, bookstack, docs)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    adopted = bookstack.client().read("pages", hand_made)
    assert adopted["markdown"] == "Deploy with care."
    assert {"name": MANAGED_TAG, "value": docs.key("eng/ops/runbooks/02-deploy.md")} in [
        {"name": t["name"], "value": t["value"]} for t in adopted["tags"]
    ]


def test_adoption_off_makes_a_clash_visible(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    hand_made = a_hand_made_page_then_its_file(plugin, bookstack, docs)
    assert plugin.run(adopt="false").exit_code == 0
    assert bookstack.client().read("pages", hand_made)["markdown"] == "by hand"


def test_fault_mid_run_then_a_rerun_converges(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    bookstack.fake.faults.fail_next(n=50, status=500, methods="POST", path_prefix="/api/pages")
    first = plugin.run()
    assert first.exit_code == 3
    assert "failed" in first.err
    bookstack.fake.faults.clear()
    second = plugin.run()
    assert second.exit_code == 0, second.err
    keys = [k for k in by_key(bookstack, docs) if k.startswith("page:")]
    assert len(keys) == 7 == len(set(keys))
    bookstack.fake.requests.clear()
    assert plugin.run().exit_code == 0 and writes(bookstack) == []


def test_lost_answer_to_a_create_does_not_duplicate(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    bookstack.fake.faults.apply_then_fail_next(n=1, status=None, methods="POST", path_prefix="/api/pages")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    pages = [p for p in bookstack.fake.state.pages.values() if not p.draft]
    assert len(pages) == 7


def test_two_concurrent_runs_leave_no_duplicates(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    environ = plugin.environ()
    codes: list[int] = []

    def run() -> None:
        codes.append(main([], environ))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(codes) == 2
    plugin.run()  # the next run reconciles whatever the race left
    keys = [k for k in by_key(bookstack, docs)]
    hits = managed_objects(bookstack, docs.prefix)
    assert len(hits) == len(keys), "duplicate objects carrying the same source key"
    assert sum(1 for k in keys if k.startswith("page:")) == 7


def test_pull_request_without_token_validates_and_skips_the_plan(plugin: Plugin, bookstack: BookStackTarget) -> None:
    run = plugin.run("pull_request", token_id="", token_secret="")
    assert run.exit_code == 0, run.err
    assert "plan skipped" in run.err


def test_pull_request_with_token_plans_and_writes_nothing(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    run = plugin.run("pull_request")
    assert run.exit_code == 0, run.err
    assert "create" in run.out + run.err
    assert by_key(bookstack, docs) == {}
    if bookstack.fake is not None:
        assert writes(bookstack) == []


def test_missing_token_outside_a_pull_request_is_a_settings_error(plugin: Plugin) -> None:
    run = plugin.run("push", token_id="", token_secret="")
    assert run.exit_code == 2
    assert "token_id" in run.err


def test_manual_full_resync_finds_a_hand_edit_the_hashes_miss(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    assert plugin.run().exit_code == 0
    page_id = int(page(bookstack, docs, "eng/guide/practice/01-style.md")["id"])
    # changed behind the API's back: no new revision, tags intact, so only reading the content tells
    bookstack.fake.state.pages[page_id].markdown = "tampered"
    assert plugin.run("push").exit_code == 0
    assert bookstack.client().read("pages", page_id)["markdown"] == "tampered"
    assert plugin.run("manual").exit_code == 0
    assert bookstack.client().read("pages", page_id)["markdown"] == "Write clearly."


def test_invalid_docs_stop_before_bookstack(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    docs.path("eng/guide/practice/01-style.md").write_text("no frontmatter\n")
    run = plugin.run()
    assert run.exit_code == 1
    assert by_key(bookstack, docs) == {}


def test_the_entrypoint_as_woodpecker_runs_it(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    done = plugin.subprocess("push")
    assert done.exit_code == 0, done.err
    assert "Traceback" not in done.err
    assert len([k for k in by_key(bookstack, docs) if k.startswith("page:")]) == 7
    again = plugin.subprocess("push")
    assert again.exit_code == 0


def test_a_link_to_a_draft_page_goes_to_its_chapter_until_it_is_published(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    docs.page("eng/guide/practice/02-review.md", "Review", "Review kindly.\n", status="draft")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    style_link = page(bookstack, docs, "eng/guide/practice/01-style.md")
    assert f"page:{docs.key('eng/guide/practice/02-review.md')}" not in by_key(bookstack, docs)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly. See [review](02-review.md).\n")
    assert plugin.run().exit_code == 0
    markdown = page(bookstack, docs, "eng/guide/practice/01-style.md")["markdown"]
    assert "02-review.md" not in markdown
    assert "/chapter/" in markdown  # the chapter's URL
    assert style_link["id"] == page(bookstack, docs, "eng/guide/practice/01-style.md")["id"]
    docs.page("eng/guide/practice/02-review.md", "Review", "Review kindly.\n", status="published")
    assert plugin.run().exit_code == 0
    review_id = by_key(bookstack, docs)[f"page:{docs.key('eng/guide/practice/02-review.md')}"]["id"]
    assert f"/link/{review_id}" in page(bookstack, docs, "eng/guide/practice/01-style.md")["markdown"]


def test_no_relative_link_survives_a_first_sync(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    """Links across books, to folders and to a draft, whichever way the books were created."""
    eng, team = docs.slug("eng"), docs.slug("team")
    docs.page("eng/guide/practice/02-review.md", "Review", "Review kindly.\n", status="draft")
    docs.page(
        "team/handbook/onboarding/01-welcome.md",
        "Welcome",
        f"Read the [review guide](../../../{eng}/guide/practice/02-review.md), the "
        f"[guide](../../../{eng}/guide/) and [operations](../../../{eng}/ops/runbooks/).\n",
    )
    docs.page("eng/guide/01-overview.md", "Overview", f"Then the [handbook](../../{team}/handbook/onboarding/).\n")
    for import_mode in ("auto", "never"):
        run = plugin.run(**{"import": import_mode})
        assert run.exit_code == 0, run.err
        for hit in managed_objects(bookstack, docs.prefix):
            if hit["type"] == "page":
                markdown = bookstack.client().read("pages", int(hit["id"]))["markdown"]
                assert ".md" not in markdown and "](../" not in markdown, markdown


def test_a_new_book_on_an_existing_shelf_is_put_on_it(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    docs.shelves[1]["shelf"]["books"].append(
        {
            "book": {
                "name": f"Policies {docs.prefix}",
                "slug": "policies",
                "chapters": [{"chapter": {"name": "HR", "slug": "hr"}}],
            }
        }
    )
    docs.write_structure()
    for number, title in enumerate(("Leave", "Travel", "Equipment"), start=1):
        docs.page(f"team/policies/hr/{number:02d}-{title.lower()}.md", title, f"About {title.lower()}.\n")
    assert plugin.run().exit_code == 0  # big enough to go by ZIP import where the server has it
    objects = by_key(bookstack, docs)
    shelf = bookstack.client().read("shelves", int(objects[f"bookshelf:{docs.slug('team')}"]["id"]))
    assert [b["name"] for b in shelf["books"]] == [f"Handbook {docs.prefix}", f"Policies {docs.prefix}"]
    if bookstack.fake is not None:
        bookstack.fake.requests.clear()
        assert plugin.run().exit_code == 0
        assert bookstack.fake.content_writes() == []
