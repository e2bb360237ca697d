"""The plan of a restructure: moves and renames with the old key, never create + orphan."""

from __future__ import annotations

from bookstack_sync.model import Action, ActionKind, EntityKind
from tests.e2e.restructure import GIT_ONLY, SCENARIOS, Workspace
from tests.unit.test_plan import Snapshot
from tests.unit.test_plan import snapshot as snapshot


def changed(snapshot: Snapshot, name: str) -> dict[str, Action]:
    {**SCENARIOS, **GIT_ONLY}[name](Workspace(snapshot.docs, tracked=False), [])
    plan, _ = snapshot.plan()
    return {f"{a.entity.value}:{a.key}": a for a in plan.actions if a.kind is not ActionKind.UNCHANGED}


def test_a_book_moved_to_another_shelf_is_one_move_and_two_shelf_lists(snapshot: Snapshot) -> None:
    actions = changed(snapshot, "book-to-another-shelf")
    book = actions["book:p-team/ops"]
    assert book.kind is ActionKind.MOVE and set(book.changes) == {"key", "shelf"}
    assert book.detail.startswith("p-eng/ops → p-team/ops")
    assert actions["shelf:p-eng"].changes == ("books",) and actions["shelf:p-team"].changes == ("books",)
    chapter = actions["chapter:p-team/ops/runbooks"]
    assert chapter.kind is ActionKind.UPDATE and chapter.changes == ("key",)  # it goes with its book
    page = actions["page:p-team/ops/runbooks/01-restart.md"]
    assert page.kind is ActionKind.MOVE and "parent" not in page.changes
    assert not [a for a in actions.values() if a.kind in (ActionKind.CREATE, ActionKind.ORPHAN)]


def test_a_chapter_moved_to_another_book_moves_once_and_its_pages_go_along(snapshot: Snapshot) -> None:
    actions = changed(snapshot, "chapter-to-another-book")
    chapter = actions["chapter:p-team/handbook/runbooks"]
    assert chapter.kind is ActionKind.MOVE and {"parent", "key"} <= set(chapter.changes)
    assert "same slug" in chapter.detail
    page = actions["page:p-team/handbook/runbooks/01-restart.md"]
    assert "parent" not in page.changes and "its folder moved" in page.detail
    assert set(actions) == {"chapter:p-team/handbook/runbooks", "page:p-team/handbook/runbooks/01-restart.md"}


def test_a_renamed_chapter_is_renamed_in_place(snapshot: Snapshot) -> None:
    actions = changed(snapshot, "rename-chapter")
    chapter = actions["chapter:p-eng/guide/best-practices"]
    assert chapter.kind is ActionKind.UPDATE and chapter.changes == ("key",)
    assert chapter.detail == "p-eng/guide/practice → p-eng/guide/best-practices (same name in the same place)"
    assert {a.kind for a in actions.values()} == {ActionKind.UPDATE, ActionKind.MOVE}


def test_a_renamed_and_retitled_page_is_found_by_its_body(snapshot: Snapshot) -> None:
    actions = changed(snapshot, "rename-and-retitle")
    (page,) = actions.values()
    assert page.kind is ActionKind.MOVE and page.entity is EntityKind.PAGE
    assert page.detail.endswith("(same content in the same folder); renamed 'Restart' → 'Restart services'")
    assert {"key", "name"} <= set(page.changes)


def test_without_history_a_book_renamed_in_slug_and_name_is_new_and_its_chapter_moves_into_it(
    snapshot: Snapshot,
) -> None:
    actions = changed(snapshot, "rename-book-and-its-name")
    assert actions["book:p-eng/site-reliability"].kind is ActionKind.CREATE
    assert actions["book:p-eng/ops"].kind is ActionKind.ORPHAN
    chapter = actions["chapter:p-eng/site-reliability/runbooks"]
    # its new book has no id yet: the chapter still changes book (it would stay in the orphan otherwise)
    assert chapter.kind is ActionKind.MOVE and set(chapter.changes) == {"parent", "key"}
    assert chapter.detail == "p-eng/ops/runbooks → p-eng/site-reliability/runbooks (same slug)"
