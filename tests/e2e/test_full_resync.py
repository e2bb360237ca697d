"""The manual full resync reads page content in bulk: one ZIP export per book on v25.07+.

A hand edit the stored hashes cannot see (content changed behind the API's back, no new revision) is
found and put back from git, by one ``GET /api/books/{id}/export/zip`` per book instead of one
``GET /api/pages/{id}`` per page. Older servers, a role without ``content-export`` and a failed export
fall back to reading pages one by one, with the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bookstack_sync.bookstack import NotBookStackError, RetryPolicy
from bookstack_sync.model import EntityKind
from bookstack_sync.plan.remote import fetch_remote
from bookstack_sync.plan.verify import fetch_stored_pages as read_pages
from tests.bookstack_target import BookStackTarget
from tests.fake_bookstack import DEFAULT_PERMISSIONS, FakeBookStack

from .conftest import Docs, Plugin, Run
from .test_import import import_docs, report
from .test_sync import by_key

_PAGE_READ = re.compile(r"^/api/pages/\d+$")
_BOOK_EXPORT = re.compile(r"^/api/books/(\d+)/export/zip$")


def setup(
    make: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str], **kwargs: Any
) -> tuple[FakeBookStack, Plugin]:
    """A fake holding the grown standard tree (3 books, 11 pages, images, an attachment, links)."""
    fake = make(**kwargs)
    plugin = Plugin(BookStackTarget(fake.base_url, fake.token_id, fake.token_secret, fake=fake), docs, capsys)
    import_docs(docs)
    ok(plugin.run("push"))
    return fake, plugin


def ok(run: Run) -> Run:
    assert run.exit_code == 0, run.err
    return run


def page_id(plugin: Plugin, docs: Docs, rel: str) -> int:
    return int(by_key(plugin.target, docs)[f"page:{docs.key(rel)}"]["id"])


def manual(fake: FakeBookStack, plugin: Plugin) -> Run:
    fake.requests.clear()
    return ok(plugin.run("manual"))


def page_reads(fake: FakeBookStack) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET" and _PAGE_READ.match(r.path)]


def exports(fake: FakeBookStack) -> list[int]:
    return sorted(int(m.group(1)) for r in fake.requests if r.method == "GET" and (m := _BOOK_EXPORT.match(r.path)))


def writes(fake: FakeBookStack) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.content_writes()]


def notes(docs: Docs) -> list[str]:
    plan = report(docs)["plan"]
    return list(plan["notes"])


# --- the export path ------------------------------------------------------------------------------


def test_hand_edits_the_hashes_miss_are_found_by_one_export_per_book(
    fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, plugin = setup(fakes, docs, capsys)
    install = page_id(plugin, docs, "eng/guide/start/01-install.md")
    review = page_id(plugin, docs, "eng/guide/practice/02-review.md")
    overview = page_id(plugin, docs, "eng/guide/01-overview.md")
    style = page_id(plugin, docs, "eng/guide/practice/01-style.md")
    good = {i: fake.state.pages[i].markdown for i in (install, review)}
    assert f"/link/{style}" in good[review]
    # behind the API's back: no new revision, tags intact, so only the content itself tells
    fake.state.pages[install].markdown = good[install].replace("Run `make`.", "Run `make all`.")
    fake.state.pages[review].markdown = good[review].replace(f"/link/{style}", f"/link/{overview}")  # new target
    fake.requests.clear()
    ok(plugin.run("push"))
    assert writes(fake) == []  # the normal sync cannot see it

    manual(fake, plugin)

    books = sorted(fake.state.books)
    assert exports(fake) == books  # one export per book, 3 in all
    assert page_reads(fake) == []  # and not one page read
    assert sorted(writes(fake)) == sorted([f"PUT /api/pages/{install}", f"PUT /api/pages/{review}"])
    assert {i: fake.state.pages[i].markdown for i in (install, review)} == good
    manual(fake, plugin)
    assert writes(fake) == []  # and now all is in line


def test_a_wysiwyg_save_is_found_by_the_export(
    fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, plugin = setup(fakes, docs, capsys)
    welcome = page_id(plugin, docs, "team/handbook/onboarding/01-welcome.md")
    good = fake.state.pages[welcome].markdown
    # saved in the WYSIWYG editor (the revision counter left alone, so the hashes cannot tell):
    # BookStack keeps no markdown then, and the export has no `markdown` key for the page
    stored = fake.state.pages[welcome]
    stored.markdown, stored.html, stored.editor = "", "<p>Hello and welcome. Rewritten by hand.</p>", "wysiwyg"

    manual(fake, plugin)

    handbook = fake.state.pages[welcome].book_id
    assert handbook in exports(fake) and page_reads(fake) == []
    assert writes(fake) == [f"PUT /api/pages/{welcome}"]
    assert fake.state.pages[welcome].markdown == good


def test_an_unchanged_tree_writes_nothing_in_a_full_resync(
    fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, plugin = setup(fakes, docs, capsys)  # images and an attachment: exported as [[bsexport:...]]
    manual(fake, plugin)
    assert writes(fake) == []
    assert len(exports(fake)) == 3 and page_reads(fake) == []
    # an absolute link to the same page (BookStack's own form, from APP_URL) is the same link: the export
    # writes it as [[bsexport:page:N]]
    style = page_id(plugin, docs, "eng/guide/practice/01-style.md")
    review = page_id(plugin, docs, "eng/guide/practice/02-review.md")
    stored = fake.state.pages[review]
    stored.markdown = stored.markdown.replace(f"](/link/{style})", f"]({fake.app_url}/link/{style})")
    assert f"]({fake.app_url}/link/{style})" in stored.markdown
    manual(fake, plugin)
    assert writes(fake) == []
    # the full resync costs discovery plus one export per book, whatever the number of pages
    data = report(docs)["requests"]["by_endpoint"]
    assert data["GET /api/books/{id}/export/zip"] == 3 and "GET /api/pages/{id}" not in data


# --- fallbacks ------------------------------------------------------------------------------------


def test_an_old_server_is_read_page_by_page(
    fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, plugin = setup(fakes, docs, capsys, version="v25.02.4", chapterless_chapter_id=0)
    install = page_id(plugin, docs, "eng/guide/start/01-install.md")
    good = fake.state.pages[install].markdown
    fake.state.pages[install].markdown = "tampered"

    manual(fake, plugin)

    assert exports(fake) == []
    assert len(page_reads(fake)) == len([k for k in by_key(plugin.target, docs) if k.startswith("page:")]) == 11
    assert writes(fake) == [f"PUT /api/pages/{install}"]
    assert fake.state.pages[install].markdown == good
    assert any("has no ZIP export API" in note for note in notes(docs))
    with pytest.raises(NotBookStackError) as info:  # before v25.07 the route is BookStack's HTML 404
        plugin.target.client().export_zip("books", fake.state.pages[install].book_id)
    assert info.value.status == 404


def test_a_role_without_export_permission_is_read_page_by_page(
    fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, plugin = setup(fakes, docs, capsys, permissions=DEFAULT_PERMISSIONS - {"content-export"})
    install = page_id(plugin, docs, "eng/guide/start/01-install.md")
    good = fake.state.pages[install].markdown
    fake.state.pages[install].markdown = "tampered"

    manual(fake, plugin)

    tried = [r for r in fake.requests if _BOOK_EXPORT.match(r.path)]
    assert [r.status for r in tried] == [403]  # tried once, not once per book
    assert len(page_reads(fake)) == 11
    assert writes(fake) == [f"PUT /api/pages/{install}"]
    assert fake.state.pages[install].markdown == good
    assert any("'Export content' permission" in note for note in notes(docs))


def test_a_failed_export_or_a_page_missing_from_it_is_read_on_its_own(
    fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, plugin = setup(fakes, docs, capsys)
    client = plugin.target.client(retry=RetryPolicy(base_delay=0.0, max_delay=0.0))
    remote = fetch_remote(client, shelf_names=set(), shelf_keys=set())
    pages = remote.of(EntityKind.PAGE)
    guide = fake.state.pages[page_id(plugin, docs, "eng/guide/01-overview.md")].book_id
    handbook = fake.state.pages[page_id(plugin, docs, "team/handbook/onboarding/01-welcome.md")].book_id
    # a page that moved out of the handbook between the listing and the export
    moved = next(p for p in pages.values() if p.book_id != handbook and p.book_id != guide)
    moved.book_id = handbook
    fake.faults.fail_next(5, status=500, path_prefix=f"/api/books/{guide}/export/zip")  # every retry fails
    fake.requests.clear()

    stored, said = read_pages(client, remote, list(pages))

    assert set(stored) == set(pages)
    assert {i: s.markdown for i, s in stored.items()} == {i: fake.state.pages[i].markdown for i in pages}
    guide_pages = {f"/api/pages/{i}" for i, p in fake.state.pages.items() if p.book_id == guide}
    assert set(page_reads(fake)) == guide_pages | {f"/api/pages/{moved.id}"}
    assert any(f"export of book {guide} failed" in note for note in said)
