"""More hand changes chosen to make a push miss one or spend more than it should (see
``test_probe_adversary.py``): a chapter reordered, the tree's shelf renamed or deleted, a page's tags
stripped or handed to another tree, a deletion hidden by someone else's new page, an edit while
BookStack's clock was set back. Fake only."""

from __future__ import annotations

import pytest

from tests.fake_bookstack import FakeBookStack

from .conftest import Docs
from .test_noop_probe import _managed, report, synced
from .test_probe_adversary import (
    MODES,
    STYLE,
    Setup,
    cheap_again,
    named,
    ok,
    page,
    push,
    wiki,  # noqa: F401 - the fixture
)

pytestmark = pytest.mark.real_bookstack

TAGS_GONE = (
    "plan/probe._look_up tells the tree's objects from others by their tags as they are now: a page whose tree"
    " tags a person removed (or set to another tree's) is taken for someone else's, the push is a no-op"
    " (6 requests, every push), and only a full resync adopts it again (no tree tag) or writes the page anew"
)


def _chapters_in_order(fake: FakeBookStack, docs: Docs) -> bool:
    start = _managed(fake, "chapter", docs.key("eng/guide/start"))
    practice = _managed(fake, "chapter", docs.key("eng/guide/practice"))
    return bool(start.priority < practice.priority)


CLOCK_BACK = (
    "without the audit log, plan/probe.judge sees a clock set back only while BookStack's Date is still behind"
    " the record's time: an edit stamped in the gap is older than record.time, so no listing shows it once the"
    " clock has caught up (with the audit log, its activity above a= stamped before the record says so)"
)


@pytest.mark.parametrize("mode", MODES)
def test_chapters_reordered_on_the_sort_screen_are_put_back(wiki: Setup, docs: Docs, mode: str) -> None:  # noqa: F811
    fake, plugin = wiki(mode)
    synced(plugin)
    start = _managed(fake, "chapter", docs.key("eng/guide/start"))
    practice = _managed(fake, "chapter", docs.key("eng/guide/practice"))
    fake.sort_as_human("chapter", start.id, practice.priority + 1)
    assert not _chapters_in_order(fake, docs)
    run = ok(push(fake, plugin))
    assert any(a["id"] == start.id for a in named(docs)), run.err
    assert _chapters_in_order(fake, docs)
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_the_trees_shelf_renamed_by_hand_is_put_back(wiki: Setup, docs: Docs, mode: str) -> None:  # noqa: F811
    fake, plugin = wiki(mode)
    synced(plugin)
    shelf = _managed(fake, "shelf", docs.slug("eng"))
    name = shelf.name
    fake.change_as_human("shelf", shelf.id, name="Renamed by hand")
    run = ok(push(fake, plugin))
    assert any(a["id"] == shelf.id for a in named(docs)), run.err
    assert fake.state.shelves[shelf.id].name == name
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_the_trees_shelf_deleted_by_hand_is_made_again(wiki: Setup, docs: Docs, mode: str) -> None:  # noqa: F811
    fake, plugin = wiki(mode)
    synced(plugin)
    shelf = _managed(fake, "shelf", docs.slug("eng"))
    fake.delete_as_human("shelf", shelf.id)
    run = ok(push(fake, plugin))
    assert [a["key"] for a in named(docs) if a["kind"] == "create"] == [docs.slug("eng")], run.err
    cheap_again(fake, plugin, docs)


@pytest.mark.xfail(strict=True, reason=TAGS_GONE)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tags", ["none", "another tree's"])
def test_a_page_whose_tree_tags_a_person_removed_is_found(wiki: Setup, docs: Docs, mode: str, tags: str) -> None:  # noqa: F811
    """Read for its tags, the page no longer says it is the tree's; a full resync finds the tree's page
    gone and takes it back (no tree tag: adopted by its name) or writes it anew (another tree's)."""
    fake, plugin = wiki(mode)
    synced(plugin)
    style = page(fake, docs, STYLE)
    kept = (
        []
        if tags == "none"
        else [(t.name, "someone-else" if t.name == "bookstack-sync-tree" else t.value) for t in style.tags]
    )
    fake.change_as_human("page", style.id, tags=kept)
    run = ok(push(fake, plugin))
    assert any(a["key"] == docs.key(STYLE) for a in named(docs)), run.err
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_page_deleted_while_someone_else_creates_one_is_found(wiki: Setup, docs: Docs, mode: str) -> None:  # noqa: F811
    fake, plugin = wiki(mode)
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    synced(plugin)
    fake.delete_as_human("page", page(fake, docs, STYLE).id)
    client.create("pages", {"book_id": theirs["id"], "name": "Theirs", "markdown": "x"})
    run = ok(push(fake, plugin))
    assert [a["key"] for a in named(docs) if a["kind"] == "create"] == [docs.key(STYLE)], run.err


@pytest.mark.parametrize(
    "mode", ["audit log", pytest.param("no audit log", marks=pytest.mark.xfail(strict=True, reason=CLOCK_BACK))]
)
def test_a_page_edited_while_bookstacks_clock_was_set_back_is_found_once_the_clock_has_caught_up(
    wiki: Setup,  # noqa: F811
    docs: Docs,
    mode: str,
) -> None:
    """The server's clock steps back ten minutes (a VM resumed, NTP): an edit made then is stamped before
    the record's time. The next push, a quarter of an hour on, sees a clock past the record's again."""
    fake, plugin = wiki(mode)
    synced(plugin)
    fake.set_server_clock(-600)
    style = page(fake, docs, STYLE)
    fake.edit_page_as_human(style.id, markdown="A person's text")
    fake.advance_clock(900)
    run = ok(plugin.run())
    assert any(a["id"] == style.id for a in named(docs)), run.err
    assert "Write clearly." in fake.state.pages[style.id].markdown


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("change", ["a new owner", "dragged away and back", "someone else's page dragged in"])
def test_a_change_that_leaves_nothing_to_put_back_costs_one_full_read(
    wiki: Setup,  # noqa: F811
    docs: Docs,
    mode: str,
    change: str,
) -> None:
    """The tree's page given a new owner, or dragged to another book and back on the Sort screen, or someone
    else's page dragged into the tree's chapter (it stays: it is not the tree's)."""
    fake, plugin = wiki(mode)
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    their_page = int(client.create("pages", {"book_id": theirs["id"], "name": "Theirs", "markdown": "x"})["id"])
    synced(plugin)
    style = page(fake, docs, STYLE)
    if change == "a new owner":
        fake.set_permissions_as_human("page", style.id, owner=2)
    elif change == "dragged away and back":
        chapter, priority = style.chapter_id, style.priority
        fake.sort_as_human("page", style.id, 1, book_id=int(theirs["id"]))
        fake.sort_as_human("page", style.id, priority, chapter_id=chapter)
    else:
        fake.sort_as_human("page", their_page, 0, chapter_id=style.chapter_id)
    run = ok(push(fake, plugin))
    assert "reading everything in BookStack" in run.err and named(docs) == [], run.err
    assert report(docs)["requests"]["writes"] == 1, run.err  # the record
    if change == "someone else's page dragged in":
        assert fake.state.pages[their_page].chapter_id == style.chapter_id
    cheap_again(fake, plugin, docs)
