"""A docs page that links to another wiki page by its full address is saved by BookStack itself when that
page is renamed or moved (``ReferenceUpdater``: the link rewritten, a new revision, ``updated_by`` kept).
That is not a person's edit: ``on_drift`` does not apply, git stays the source, and the plan says which
link points at a renamed page (``plan/relinked.py``)."""

from __future__ import annotations

from typing import Any

from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin
from .test_noop_probe import _fake, _managed_hit, report, synced

STYLE = "eng/guide/practice/01-style.md"


def _hand_made_page(bookstack: BookStackTarget) -> tuple[dict[str, Any], str]:
    """A wiki page the docs do not own, and its address as BookStack gives it (from APP_URL)."""
    client = bookstack.client()
    book = bookstack.create("books", {"name": bookstack.unique_name("hr")}, client)
    page = bookstack.create("pages", {"book_id": book["id"], "name": "Leave policy", "markdown": "x"}, client)
    url = next(str(i["url"]) for i in client.read("books", book["id"])["contents"] if i["id"] == page["id"])
    return page, url


def test_a_link_bookstack_rewrote_after_a_rename_is_not_drift_and_git_wins(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    policy, url = _hand_made_page(bookstack)
    docs.page(STYLE, "Style", f"Write clearly. See [the leave policy]({url}).\n")
    synced(plugin)
    client = bookstack.client()
    client.update("pages", int(policy["id"]), {"name": "Leave policy 2026"})  # BookStack rewrites our link
    page_id = _managed_hit(bookstack, docs, STYLE)
    assert f"({url})" not in client.read("pages", page_id)["markdown"]
    run = plugin.run(on_drift="fail")
    assert run.exit_code == 0, run.err
    actions = [a for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"]
    assert [(a["kind"], a["key"]) for a in actions] == [("update", docs.key(STYLE))], actions
    assert "edited in BookStack" not in run.err
    notes = report(docs)["plan"]["notes"]
    assert any(docs.key(STYLE) in n and url in n and "update the link in git" in n for n in notes), notes
    assert f"[the leave policy]({url})" in client.read("pages", page_id)["markdown"]  # git's text again
    run = plugin.run(on_drift="fail")  # the same settings: a no-op
    assert run.exit_code == 0
    assert report(docs)["requests"]["total"] <= 5, run.err


def test_a_full_permalink_saved_again_by_bookstack_is_not_drift(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    policy, url = _hand_made_page(bookstack)
    permalink = f"{url.split('/books/')[0]}/link/{policy['id']}"
    docs.page(STYLE, "Style", f"Write clearly. See [the leave policy]({permalink}).\n")
    synced(plugin)
    bookstack.client().update("pages", int(policy["id"]), {"name": "Leave policy 2026"})
    run = plugin.run(on_drift="fail")
    assert run.exit_code == 0, run.err
    assert "edited in BookStack" not in run.err
    assert any("saved again by BookStack itself" in n for n in report(docs)["plan"]["notes"])


def test_a_persons_edit_of_such_a_page_is_still_drift(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake = _fake(bookstack)
    policy, url = _hand_made_page(bookstack)
    docs.page(STYLE, "Style", f"Write clearly. See [the leave policy]({url}).\n")
    synced(plugin)
    bookstack.client().update("pages", int(policy["id"]), {"name": "Leave policy 2026"})
    page_id = _managed_hit(bookstack, docs, STYLE)
    # a person's edit on top: more than a link changed, by someone else
    fake.edit_page_as_human(page_id, markdown=fake.state.pages[page_id].markdown + "\n\nA person's line.")
    run = plugin.run(on_drift="fail")
    assert run.exit_code == 3, run.err
    drift = [a for a in report(docs)["plan"]["actions"] if a["kind"] == "drift"]
    assert [a["key"] for a in drift] == [docs.key(STYLE)]
