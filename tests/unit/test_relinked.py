"""Telling BookStack's own link rewrites (``ReferenceUpdater``) from a person's edit of a page."""

from __future__ import annotations

import pytest

from bookstack_sync.model import Action, ActionKind, EntityKind
from bookstack_sync.plan.relinked import relinked, sync_users, unless_relinked
from bookstack_sync.plan.remote import RemoteObject
from bookstack_sync.plan.tags import REV_TAG

WIKI = "https://wiki.example.org"
WRITTEN = (
    f"# Style\n\nSee [leave]({WIKI}/books/hr/page/leave) and ![logo](asset:0123456789abcdef).\n\n"
    f"[ref]: {WIKI}/books/hr\n"
)


def _page(stored: str | None, *, updated_by: int = 7, revision: int = 3, recorded: int = 2) -> RemoteObject:
    page = RemoteObject(EntityKind.PAGE, 10, "Style", revision_count=revision, updated_by=updated_by)
    page.tags = [{"name": REV_TAG, "value": str(recorded)}]
    page.stored_markdown = stored
    return page


def _stored(text: str) -> str:
    # as BookStack holds it: real upload URLs for the sync's assets, whitespace trimmed
    return text.replace("asset:0123456789abcdef", f"{WIKI}/uploads/images/gallery/logo.png").strip()


def test_a_wiki_link_rewritten_by_bookstack_is_named() -> None:
    stored = _stored(WRITTEN.replace("/page/leave)", "/page/leave-2026)"))
    assert relinked(_page(stored), WRITTEN, {7}, WIKI) == [
        (f"{WIKI}/books/hr/page/leave", f"{WIKI}/books/hr/page/leave-2026")
    ]


def test_a_reference_definition_rewritten_and_another_host_case() -> None:
    stored = _stored(
        WRITTEN.replace("]: https://wiki.example.org/books/hr", "]: https://WIKI.example.org/books/people")
    )
    assert relinked(_page(stored), WRITTEN, {7}, WIKI) == [
        (f"{WIKI}/books/hr", "https://WIKI.example.org/books/people")
    ]


def test_the_same_text_saved_again_is_bookstacks_too() -> None:
    assert relinked(_page(_stored(WRITTEN)), WRITTEN, {7}, WIKI) == []


@pytest.mark.parametrize(
    "stored",
    [
        _stored(WRITTEN.replace("/page/leave)", "/page/leave-2026)").replace("See", "Read")),  # text too
        _stored(WRITTEN.replace(f"{WIKI}/books/hr/page/leave", "https://elsewhere.example.org/leave")),
        _stored(WRITTEN + "\nA person's line."),
    ],
)
def test_anything_more_is_a_persons_edit(stored: str) -> None:
    assert relinked(_page(stored), WRITTEN, {7}, WIKI) is None


def test_only_the_syncs_own_user_and_a_known_wiki_address_count() -> None:
    stored = _stored(WRITTEN.replace("/page/leave)", "/page/leave-2026)"))
    assert relinked(_page(stored, updated_by=8), WRITTEN, {7}, WIKI) is None
    assert relinked(_page(stored), WRITTEN, {7}, None) is None
    assert relinked(_page(None), WRITTEN, {7}, WIKI) is None
    assert relinked(_page(stored), None, {7}, WIKI) is None


def test_the_syncs_user_is_who_saved_the_pages_it_left_as_they_are() -> None:
    as_left = _page("x", updated_by=7, revision=2, recorded=2)
    drifted = _page("x", updated_by=9, revision=3, recorded=2)
    never_written = RemoteObject(EntityKind.PAGE, 11, "Other", updated_by=5)
    assert sync_users([as_left, drifted, never_written]) == {7}


def test_a_rewritten_page_is_an_update_from_git_with_a_note() -> None:
    stored = _stored(WRITTEN.replace("/page/leave)", "/page/leave-2026)"))
    drift = Action(ActionKind.DRIFT, EntityKind.PAGE, "eng/guide/01-style.md", "Style", 10, (), "edited in BookStack")
    action, note = unless_relinked(drift, _page(stored), WRITTEN, {7}, WIKI)
    assert action.kind is ActionKind.UPDATE and "content" in action.changes and not action.drifted
    assert note is not None and f"{WIKI}/books/hr/page/leave" in note and "update the link in git" in note
    assert unless_relinked(drift, _page(stored, updated_by=8), WRITTEN, {7}, WIKI) == (drift, None)
