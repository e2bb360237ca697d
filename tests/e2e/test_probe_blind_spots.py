"""Hand changes that move no ``updated_at``, which the probe's newest-first listings cannot show:

- a book's Sort screen saves a new order, and a page's new chapter within the same book,
  ``withoutTimestamps`` (``BookSorter::applySortUpdates``, v25.02 and v26.03; the fake's ``sort_as_human``);
- one of the tree's pages deleted while someone else's page comes back from the recycle bin
  (``restore()`` keeps ``created_at``): the count of pages is as recorded.

A push finds them with a token that may read BookStack's audit log (``book_sort``,
``recycle_bin_restore``: ``plan/audit.py``), and without it while every page, chapter and book of the
wiki fits one listing (the record's ``layout``). Past 500 pages, without the audit log, only a full read
(``manual``) finds them: pinned below as strict xfails. These tests need the fake.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fake_bookstack import FakeBookStack
from tests.fake_bookstack.permissions import DEFAULT_PERMISSIONS

from .conftest import Docs, Plugin
from .test_import import plugin_for
from .test_noop_probe import _committed, _git, _managed, report, synced

pytestmark = pytest.mark.real_bookstack

NO_AUDIT_LOG = DEFAULT_PERMISSIONS - {"users-manage"}
# how the wiki and the token are: the probe sees these changes through the audit log, or through the
# layout of a wiki whose every page fits one listing; past 500 pages without the audit log it cannot
WIKIS = [
    "audit log",
    "no audit log",
    pytest.param(
        "no audit log, over 500 pages", marks=pytest.mark.xfail(strict=True, reason="the probe cannot see it")
    ),
]
Setup = Callable[[str], tuple[FakeBookStack, Plugin]]


@pytest.fixture
def wiki(fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]) -> Setup:
    def make(kind: str) -> tuple[FakeBookStack, Plugin]:
        fake = fakes() if kind == "audit log" else fakes(permissions=NO_AUDIT_LOG)
        plugin = plugin_for(fake, docs, capsys)
        if kind.endswith("over 500 pages"):
            client = plugin.target.client()
            book = client.create("books", {"name": "Someone else's"})
            for n in range(501):
                client.create("pages", {"book_id": book["id"], "name": f"Theirs {n}", "markdown": "x"})
        return fake, plugin

    return make


def _named(docs: Docs) -> list[dict[str, object]]:
    return [a for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"]


def _reorder_and_push(fake: FakeBookStack, plugin: Plugin, docs: Docs) -> None:
    """A person puts the chapter's first page after the second on the Sort screen; the next push names it
    and puts it back in order."""
    first = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    second = _managed(fake, "page", docs.key("eng/guide/practice/02-review.md"))
    fake.sort_as_human("page", first.id, second.priority + 1, chapter_id=first.chapter_id)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert any(a["id"] == first.id for a in _named(docs)), run.err
    assert fake.state.pages[first.id].priority < fake.state.pages[second.id].priority


@pytest.mark.parametrize("kind", WIKIS)
def test_a_page_dragged_to_another_chapter_on_the_sort_screen_is_put_back(wiki: Setup, docs: Docs, kind: str) -> None:
    fake, plugin = wiki(kind)
    synced(plugin)
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    start = _managed(fake, "chapter", docs.key("eng/guide/start"))
    before = (page.updated_at, page.updated_by)
    fake.sort_as_human("page", page.id, 9, chapter_id=start.id)
    assert (page.updated_at, page.updated_by) == before  # nothing in a listing shows it
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert any(a["id"] == page.id for a in _named(docs)), run.err
    assert fake.state.pages[page.id].chapter_id == _managed(fake, "chapter", docs.key("eng/guide/practice")).id
    assert plugin.run().exit_code == 0 and report(docs)["requests"]["total"] <= 5  # and cheap again


@pytest.mark.parametrize("kind", WIKIS)
def test_pages_reordered_on_the_sort_screen_are_put_back_in_order(wiki: Setup, docs: Docs, kind: str) -> None:
    fake, plugin = wiki(kind)
    synced(plugin)
    _reorder_and_push(fake, plugin, docs)


@pytest.mark.parametrize("kind", WIKIS)
def test_a_deleted_page_is_found_when_another_comes_back_from_the_recycle_bin(
    wiki: Setup, docs: Docs, kind: str
) -> None:
    """The probe counts each kind: one of the tree's pages deleted while someone else's page is restored
    from the recycle bin leaves the count of pages as the record has it."""
    fake, plugin = wiki(kind)
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    their_page = client.create("pages", {"book_id": theirs["id"], "name": "Theirs", "markdown": "x"})
    deletion = fake.delete_as_human("page", int(their_page["id"]))
    synced(plugin)
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.delete_as_human("page", page.id)
    fake.restore_as_human(deletion)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    created = [a for a in _named(docs) if a["kind"] == "create"]
    assert [a["key"] for a in created] == [docs.key("eng/guide/practice/01-style.md")], run.err


@pytest.mark.parametrize("kind", ["no audit log, over 500 pages"])
def test_a_full_resync_finds_what_the_probe_cannot(wiki: Setup, docs: Docs, kind: str) -> None:
    fake, plugin = wiki(kind)
    synced(plugin)
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.sort_as_human("page", page.id, 9, chapter_id=_managed(fake, "chapter", docs.key("eng/guide/start")).id)
    run = plugin.run("manual")
    assert run.exit_code == 0, run.err
    assert any(a["id"] == page.id for a in _named(docs)), run.err


def test_a_no_op_in_a_wiki_too_big_to_check_says_what_it_cannot_see(wiki: Setup, docs: Docs) -> None:
    _, plugin = wiki("no audit log, over 500 pages")
    synced(plugin)
    run = plugin.run()
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err, run.err
    assert "note: without BookStack's audit log, in a wiki of over 500 pages" in run.err, run.err
    assert '"Manage app settings" and "Manage users", or schedule a full resync' in run.err


@pytest.mark.parametrize("kind", ["audit log", "no audit log"])
def test_the_page_carrying_the_record_reordered_on_the_sort_screen_is_put_back(
    wiki: Setup, docs: Docs, kind: str
) -> None:
    """A one-page run carries the record on that page's write: the page's place after the write is in
    the record's layout, so a reorder of it alone is seen too."""
    fake, plugin = wiki(kind)
    _git(docs, "init", "-q")
    _committed(docs, "docs")
    synced(plugin)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly, and briefly.\n")
    _committed(docs, "edit")
    assert plugin.run().exit_code == 0 and report(docs)["requests"]["writes"] == 1  # the record rides on it
    _reorder_and_push(fake, plugin, docs)
