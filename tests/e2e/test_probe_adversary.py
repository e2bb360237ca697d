"""Hand changes chosen to make a push miss one, or spend more than it should, with a token that reads
BookStack's audit log and with one that cannot (the record's ``layout`` then): two changes at once, the
Sort screen across books and across docs trees, sort rules, permissions, the recycle bin, ``on_drift``
left alone, a pipeline that names its files, and a change in the same second as the plugin's last write.

Each change is made the way BookStack makes it (the fake's ``*_as_human`` helpers), so these tests need
the fake. What a user notices is asserted: the change named in the plan and put back, the log saying
why, and the push after costing the probe alone (five requests, no write).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fake_bookstack import FakeBookStack

from .conftest import Docs, Plugin, Run
from .test_import import plugin_for
from .test_noop_probe import _managed, report, synced
from .test_probe_blind_spots import NO_AUDIT_LOG
from .test_trees import b_tree, team_b

pytestmark = pytest.mark.real_bookstack

MODES = ["audit log", "no audit log"]
STYLE = "eng/guide/practice/01-style.md"
REVIEW = "eng/guide/practice/02-review.md"
INSTALL = "eng/guide/start/01-install.md"
CONFIGURE = "eng/guide/start/02-configure.md"
RESTART = "eng/ops/runbooks/01-restart.md"
NOTHING = "nothing changed in the docs or in BookStack since the last sync"

Setup = Callable[[str], tuple[FakeBookStack, Plugin]]

# What these tests found (strict xfails: each names its cause; the plugin is left as it is for the lead)
DURING_RECORD = (
    "without the audit log, a run that lists BookStack again for its record (apply/record.record_sync) takes the"
    " layout after its writes: a Sort-screen change a person saves while the run writes moves no updated_at"
    " (_after_run cannot see it) and the recorded layout already holds it: no later push finds it, only a full"
    " resync"
)


@pytest.fixture
def wiki(fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]) -> Setup:
    def make(mode: str) -> tuple[FakeBookStack, Plugin]:
        fake = fakes() if mode == "audit log" else fakes(permissions=NO_AUDIT_LOG)
        return fake, plugin_for(fake, docs, capsys)

    return make


def named(docs: Docs) -> list[dict[str, Any]]:
    return [a for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"]


def ok(run: Run) -> Run:
    assert run.exit_code == 0, run.err
    return run


def cheap_again(fake: FakeBookStack, plugin: Plugin, docs: Docs) -> None:
    """The push after: the probe alone, nothing written, and it says so."""
    run = ok(push(fake, plugin))
    requests = report(docs)["requests"]
    assert NOTHING in run.err, run.err
    assert requests["total"] <= 5 and requests["writes"] == 0, (requests, run.err)


def push(fake: FakeBookStack, plugin: Plugin, **settings: str) -> Run:
    """The next push, a few seconds of BookStack's clock after the hand changes (as pushes come)."""
    fake.advance_clock(3)
    return plugin.run(**settings)


def page(fake: FakeBookStack, docs: Docs, rel: str) -> Any:
    return _managed(fake, "page", docs.key(rel))


def in_order(fake: FakeBookStack, docs: Docs, *rels: str) -> bool:
    priorities = [fake.state.pages[page(fake, docs, rel).id].priority for rel in rels]
    return priorities == sorted(priorities) and len(set(priorities)) == len(priorities)


# ------------------------------------------------------------------------------------ two changes at once


@pytest.mark.parametrize("mode", MODES)
def test_a_page_edited_and_another_reordered_on_the_sort_screen_are_both_put_back(
    wiki: Setup, docs: Docs, mode: str
) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    style, install, configure = (page(fake, docs, rel) for rel in (STYLE, INSTALL, CONFIGURE))
    fake.edit_page_as_human(style.id, markdown="A person's text")
    fake.sort_as_human("page", install.id, configure.priority + 1, chapter_id=install.chapter_id)
    run = ok(push(fake, plugin))
    ids = {a["id"] for a in named(docs)}
    assert {style.id, install.id} <= ids, (ids, run.err)
    assert "Write clearly." in fake.state.pages[style.id].markdown
    assert in_order(fake, docs, INSTALL, CONFIGURE)
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_hand_edit_put_back_alone_while_a_page_of_another_book_was_dragged_on_its_sort_screen(
    wiki: Setup, docs: Docs, mode: str
) -> None:
    """The edit alone would be repaired by one write carrying the record; the drag moved no updated_at."""
    fake, plugin = wiki(mode)
    synced(plugin)
    style, restart = page(fake, docs, STYLE), page(fake, docs, RESTART)
    runbooks = restart.chapter_id
    fake.edit_page_as_human(style.id, markdown="A person's text")
    fake.sort_as_human("page", restart.id, 0, chapter_id=None)  # out of its chapter, to the book's top
    run = ok(push(fake, plugin))
    ids = {a["id"] for a in named(docs)}
    assert {style.id, restart.id} <= ids, (ids, run.err)
    assert "Write clearly." in fake.state.pages[style.id].markdown
    assert fake.state.pages[restart.id].chapter_id == runbooks
    cheap_again(fake, plugin, docs)


# ------------------------------------------------------------------------------- the Sort screen, across


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("screen", ["sort screen", "move screen"])
def test_a_chapter_moved_to_another_book_is_put_back_and_the_push_after_is_cheap(
    wiki: Setup, docs: Docs, mode: str, screen: str
) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    practice = _managed(fake, "chapter", docs.key("eng/guide/practice"))
    guide, ops = practice.book_id, _managed(fake, "book", docs.key("eng/ops")).id
    if screen == "sort screen":
        fake.sort_as_human("chapter", practice.id, 5, book_id=ops)
    else:
        fake.change_as_human("chapter", practice.id, book_id=ops)
    run = ok(push(fake, plugin))
    assert any(a["id"] == practice.id for a in named(docs)), run.err
    assert fake.state.chapters[practice.id].book_id == guide
    assert {fake.state.pages[page(fake, docs, rel).id].book_id for rel in (STYLE, REVIEW)} == {guide}
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_page_dragged_to_another_book_on_the_sort_screen_is_put_back(wiki: Setup, docs: Docs, mode: str) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    style = page(fake, docs, STYLE)
    where = (style.book_id, style.chapter_id)
    runbooks = page(fake, docs, RESTART).chapter_id
    fake.sort_as_human("page", style.id, 0, chapter_id=runbooks)
    run = ok(push(fake, plugin))
    assert any(a["id"] == style.id for a in named(docs)), run.err
    assert (fake.state.pages[style.id].book_id, fake.state.pages[style.id].chapter_id) == where
    assert in_order(fake, docs, STYLE, REVIEW)
    cheap_again(fake, plugin, docs)


# ------------------------------------------------------------------------------- someone else's books


def _tree_b(fake: FakeBookStack, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Plugin, Docs]:
    docs_b = team_b(tmp_path / "b", docs.prefix, shelf="bshelf", shelf_name=f"B {docs.prefix}", book_names=("B1",))
    b = plugin_for(fake, docs_b, capsys)
    for _ in range(2):
        ok(b.run(tree=b_tree(docs)))
    return b, docs_b


@pytest.mark.parametrize("mode", MODES)
def test_another_docs_trees_book_sorted_by_hand_is_left_to_that_tree(
    wiki: Setup, docs: Docs, mode: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tree A's push leaves alone a sort of tree B's book, and so do the pushes after it; tree B's own
    push puts its order back."""
    fake, plugin = wiki(mode)
    synced(plugin)
    b, docs_b = _tree_b(fake, docs, tmp_path, capsys)
    fake.advance_clock(3)
    synced(plugin)  # A's pushes after B's sync: B's objects changed since A's record, each is someone else's
    first = page(fake, docs_b, "bshelf/b1/notes/01-first.md")
    second = page(fake, docs_b, "bshelf/b1/notes/02-second.md")
    fake.sort_as_human("page", first.id, second.priority + 1, chapter_id=first.chapter_id)
    run = ok(push(fake, plugin))
    assert named(docs) == [] and report(docs)["requests"]["writes"] <= 1, run.err
    assert fake.state.pages[first.id].priority > fake.state.pages[second.id].priority  # A left it alone
    # A's record is not rewritten by a push that finds only others' changes: each later push looks at them
    # again (test_someone_elses_book_sorted_costs_the_look_once)
    run = ok(push(fake, plugin))
    assert NOTHING in run.err and report(docs)["requests"]["total"] <= 6 and report(docs)["requests"]["writes"] == 0
    run = ok(b.run(tree=b_tree(docs)))
    assert any(a["id"] == first.id for a in named(docs_b)), run.err
    assert fake.state.pages[first.id].priority < fake.state.pages[second.id].priority


@pytest.mark.xfail(
    strict=True,
    reason="with the audit log, a book_sort of someone else's book stays after record.a until the tree writes"
    " a new record: every later no-op reads that book again (6 requests), by design (lead, 17:57)",
)
def test_someone_elses_book_sorted_costs_the_look_once(wiki: Setup, docs: Docs) -> None:
    fake, plugin = wiki("audit log")
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    pages = [client.create("pages", {"book_id": theirs["id"], "name": n, "markdown": "x"}) for n in ("A", "B")]
    synced(plugin)
    fake.sort_as_human("page", int(pages[0]["id"]), 9)
    ok(push(fake, plugin))
    cheap_again(fake, plugin, docs)


# ------------------------------------------------------------------------------------------ sort rules


@pytest.mark.parametrize("mode", MODES)
def test_a_sort_rule_given_to_a_book_of_the_tree_is_found_and_the_push_after_is_cheap(
    wiki: Setup, docs: Docs, mode: str
) -> None:
    """The rule re-sorts the book without timestamps, but choosing it saves the book: the push reads
    everything, warns that BookStack overrides the order, and records the order BookStack keeps."""
    fake, plugin = wiki(mode)
    synced(plugin)
    guide = _managed(fake, "book", docs.key("eng/guide"))
    fake.set_sort_rule_as_human(guide.id, "name_asc")
    run = ok(push(fake, plugin))
    assert "reading everything in BookStack" in run.err, run.err
    assert "seems to have an automatic sort rule" in run.err, run.err
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_sort_rule_edited_by_an_admin_re_sorts_a_tree_book_and_the_push_finds_it(
    wiki: Setup, docs: Docs, mode: str
) -> None:
    """Settings > Sorting: every book using the rule is sorted again, no updated_at moves."""
    fake, plugin = wiki(mode)
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    for name in ("A", "B", "C"):
        client.create("pages", {"book_id": theirs["id"], "name": name, "markdown": "x"})
    fake.set_sort_rule_as_human(int(theirs["id"]), "name_asc")
    synced(plugin)
    fake.edit_sort_rule_as_human("name_asc", "name_desc")
    run = ok(push(fake, plugin))
    assert named(docs) == [], run.err
    if mode == "audit log":
        assert "reading everything in BookStack: a sort rule changed" in run.err, run.err
    cheap_again(fake, plugin, docs)


# ----------------------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("mode", MODES)
def test_permissions_changed_on_a_page_of_the_tree_cost_one_full_read_at_most(
    wiki: Setup, docs: Docs, mode: str
) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    style = page(fake, docs, STYLE)
    fake.set_permissions_as_human("page", style.id, view=True, update=True)
    run = ok(push(fake, plugin))
    assert named(docs) == [] and report(docs)["requests"]["writes"] <= 1, run.err
    if mode == "audit log":
        assert f"reading everything in BookStack: permissions changed on page {style.id}" in run.err, run.err
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_page_of_the_tree_given_a_new_owner_and_edited_is_put_back(wiki: Setup, docs: Docs, mode: str) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    style = page(fake, docs, STYLE)
    fake.set_permissions_as_human("page", style.id, owner=2)
    fake.edit_page_as_human(style.id, markdown="A person's text")
    run = ok(push(fake, plugin))
    assert any(a["id"] == style.id for a in named(docs)), run.err
    assert "Write clearly." in fake.state.pages[style.id].markdown
    cheap_again(fake, plugin, docs)


# ---------------------------------------------------------------------------------------- recycle bin


@pytest.mark.parametrize("mode", MODES)
def test_a_deletion_destroyed_in_the_recycle_bin_costs_nothing_more(wiki: Setup, docs: Docs, mode: str) -> None:
    """Someone else's page deleted before the last sync and destroyed after: nothing a count shows."""
    fake, plugin = wiki(mode)
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    their_page = client.create("pages", {"book_id": theirs["id"], "name": "Theirs", "markdown": "x"})
    deletion = fake.delete_as_human("page", int(their_page["id"]))
    synced(plugin)
    assert fake.destroy_as_human(deletion) == 1
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_page_of_the_tree_deleted_and_destroyed_is_created_again(wiki: Setup, docs: Docs, mode: str) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    style = page(fake, docs, STYLE)
    fake.destroy_as_human(fake.delete_as_human("page", style.id))
    run = ok(push(fake, plugin))
    assert [a["key"] for a in named(docs) if a["kind"] == "create"] == [docs.key(STYLE)], run.err
    assert "Write clearly." in page(fake, docs, STYLE).markdown
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_page_deleted_while_a_chapter_of_the_tree_is_deleted_and_restored(wiki: Setup, docs: Docs, mode: str) -> None:
    """The chapter's round trip through the recycle bin moves its updated_at; the deleted page is only in
    a count."""
    fake, plugin = wiki(mode)
    synced(plugin)
    restart = page(fake, docs, RESTART)
    practice = _managed(fake, "chapter", docs.key("eng/guide/practice"))
    fake.delete_as_human("page", restart.id)
    fake.restore_as_human(fake.delete_as_human("chapter", practice.id))
    run = ok(push(fake, plugin))
    assert [a["key"] for a in named(docs) if a["kind"] == "create"] == [docs.key(RESTART)], run.err
    cheap_again(fake, plugin, docs)


# ------------------------------------------------------------------------------------------- on_drift


@pytest.mark.parametrize(
    ("mode", "on_drift", "code"),
    [
        ("audit log", "skip", 0),
        ("audit log", "fail", 3),
        ("no audit log", "skip", 0),
        ("no audit log", "fail", 3),
    ],
)
def test_an_edit_left_alone_is_named_on_every_push_while_a_sort_screen_change_is_not_drift(
    wiki: Setup, docs: Docs, mode: str, on_drift: str, code: int
) -> None:
    """``on_drift`` is about a page's text: a new order is put back whatever it says (skip), or not at all
    when the run stops before writing (fail). The edit left alone is named again by every push."""
    fake, plugin = wiki(mode)
    synced(plugin)
    style, install, configure = (page(fake, docs, rel) for rel in (STYLE, INSTALL, CONFIGURE))
    fake.edit_page_as_human(style.id, markdown="A person's text")
    fake.sort_as_human("page", install.id, configure.priority + 1, chapter_id=install.chapter_id)
    for attempt in range(3):
        run = push(fake, plugin, on_drift=on_drift)
        assert run.exit_code == code, run.err
        assert [a["id"] for a in named(docs) if a["kind"] == "drift"] == [style.id], run.err
        if on_drift == "fail" or attempt == 0:
            assert any(a["id"] == install.id and a["kind"] != "drift" for a in named(docs)), run.err
        assert in_order(fake, docs, INSTALL, CONFIGURE) is (on_drift == "skip")
        assert fake.state.pages[style.id].markdown == "A person's text"
    ok(push(fake, plugin))  # on_drift: overwrite puts it back
    assert "Write clearly." in fake.state.pages[style.id].markdown and in_order(fake, docs, INSTALL, CONFIGURE)
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
def test_a_hand_edit_left_alone_and_a_docs_edit_are_both_seen_on_the_next_push(
    wiki: Setup, docs: Docs, mode: str
) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    style = page(fake, docs, STYLE)
    fake.edit_page_as_human(style.id, markdown="A person's text")
    docs.page(REVIEW, "Review", "Review kindly, and soon.\n")
    for _ in range(2):
        run = ok(push(fake, plugin, on_drift="skip"))
        assert [a["id"] for a in named(docs) if a["kind"] == "drift"] == [style.id], run.err
    assert "Review kindly, and soon." in page(fake, docs, REVIEW).markdown
    assert fake.state.pages[style.id].markdown == "A person's text"


# ---------------------------------------------------------------------- a pipeline that names its files


def _pipeline_files(docs: Docs, *rels: str) -> str:
    return json.dumps([docs.path(rel).relative_to(docs.root).as_posix() for rel in rels])


@pytest.mark.parametrize("mode", MODES)
def test_a_sort_screen_change_before_a_push_that_names_its_files_is_put_back_with_the_edit(
    wiki: Setup, docs: Docs, mode: str
) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    install, configure = page(fake, docs, INSTALL), page(fake, docs, CONFIGURE)
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    fake.sort_as_human("page", install.id, configure.priority + 1, chapter_id=install.chapter_id)
    run = ok(push(fake, plugin, CI_PIPELINE_FILES=_pipeline_files(docs, STYLE)))
    assert any(a["id"] == install.id for a in named(docs)), run.err
    assert in_order(fake, docs, INSTALL, CONFIGURE)
    assert "Write clearly, and briefly." in page(fake, docs, STYLE).markdown
    cheap_again(fake, plugin, docs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("change", ["reordered", "edited"])
def test_a_hand_change_after_a_push_that_named_its_files_is_found_by_the_next(
    wiki: Setup, docs: Docs, mode: str, change: str
) -> None:
    """The record rides on the edited page's write; a change made after it, elsewhere in the tree, is
    the next push's to find."""
    fake, plugin = wiki(mode)
    synced(plugin)
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    ok(push(fake, plugin, CI_PIPELINE_FILES=_pipeline_files(docs, STYLE)))
    assert report(docs)["requests"]["writes"] == 1
    install, configure = page(fake, docs, INSTALL), page(fake, docs, CONFIGURE)
    if change == "reordered":
        fake.sort_as_human("page", install.id, configure.priority + 1, chapter_id=install.chapter_id)
    else:
        fake.edit_page_as_human(install.id, markdown="A person's text")
    run = ok(push(fake, plugin, CI_PIPELINE_FILES="[]"))
    assert any(a["id"] == install.id for a in named(docs)), run.err
    assert in_order(fake, docs, INSTALL, CONFIGURE) and "Run `make`" in fake.state.pages[install.id].markdown
    cheap_again(fake, plugin, docs)


# ------------------------------------------------------------------------ the same second as the plugin


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Callable[[FakeBookStack], None]:
    """Stop a fake's clock at its current second (time the tests skip still moves it): everything done
    from then on happens in one second of BookStack's clock, as a quick hand can."""

    def freeze(fake: FakeBookStack) -> None:
        state = fake.state
        base = state.now() - state.clock_skipped
        monkeypatch.setattr(state, "now", lambda: (base + state.clock_skipped).replace(microsecond=0))

    return freeze


def _now(fake: FakeBookStack) -> datetime:
    moment: datetime = fake.state.now()
    return moment


@pytest.mark.parametrize("mode", MODES)
def test_a_page_edited_again_in_the_second_its_repair_was_written_is_found(
    wiki: Setup, docs: Docs, mode: str, frozen: Callable[[FakeBookStack], None]
) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    frozen(fake)
    style = page(fake, docs, STYLE)
    fake.edit_page_as_human(style.id, markdown="A person's text")
    run = ok(plugin.run())
    assert "sync record written with page" in run.err, run.err
    fake.edit_page_as_human(style.id, markdown="A person's second text")
    assert fake.state.pages[style.id].updated_at == _now(fake)  # the second of the repair's write
    run = ok(plugin.run())
    assert any(a["id"] == style.id for a in named(docs)), run.err
    assert "Write clearly." in fake.state.pages[style.id].markdown


@pytest.mark.parametrize("mode", MODES)
def test_a_chapter_renamed_again_in_the_second_its_repair_was_written_is_found(
    wiki: Setup, docs: Docs, mode: str, frozen: Callable[[FakeBookStack], None]
) -> None:
    fake, plugin = wiki(mode)
    synced(plugin)
    frozen(fake)
    practice = _managed(fake, "chapter", docs.key("eng/guide/practice"))
    name = practice.name
    fake.change_as_human("chapter", practice.id, name="Renamed by hand")
    run = ok(plugin.run())
    assert "sync record written on book" in run.err and practice.name == name, run.err
    fake.change_as_human("chapter", practice.id, name="Renamed by hand, again")
    assert practice.updated_at == _now(fake)
    run = ok(plugin.run())
    assert any(a["id"] == practice.id for a in named(docs)), run.err
    assert practice.name == name


@pytest.mark.parametrize("mode", MODES)
def test_a_page_edited_in_the_second_of_two_quick_pushes_is_found(
    wiki: Setup, docs: Docs, mode: str, frozen: Callable[[FakeBookStack], None]
) -> None:
    """Two pushes that each edit one page, and a hand edit of the first page, all in one second: the
    second push's record says the first page, at that second, is accounted for."""
    fake, plugin = wiki(mode)
    synced(plugin)
    frozen(fake)
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    ok(plugin.run(CI_PIPELINE_FILES=_pipeline_files(docs, STYLE)))
    docs.page(REVIEW, "Review", "Review kindly, and soon.\n")
    ok(plugin.run(CI_PIPELINE_FILES=_pipeline_files(docs, REVIEW)))
    assert report(docs)["requests"]["writes"] == 1
    style = page(fake, docs, STYLE)
    fake.edit_page_as_human(style.id, markdown="A person's text")
    assert style.updated_at == _now(fake)
    run = ok(plugin.run(CI_PIPELINE_FILES="[]"))
    assert any(a["id"] == style.id for a in named(docs)), run.err
    assert "Write clearly, and briefly." in fake.state.pages[style.id].markdown


# ------------------------------------------------------------------------------------- during the run


def _during_the_write(
    fake: FakeBookStack, plugin: Plugin, page_id: int, change: Callable[[], None], **settings: str
) -> Run:
    """A push whose write of page ``page_id`` is held while a person makes ``change``."""
    held = fake.hold("PUT", rf"/api/pages/{page_id}", token_id=fake.token_id)
    fake.advance_clock(3)
    runs: list[Run] = []
    worker = threading.Thread(target=lambda: runs.append(plugin.run(**settings)))
    worker.start()
    try:
        held.wait_arrived()
        change()
    finally:
        held.release()
        worker.join(60)
    return ok(runs[0])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("how", "change"),
    [
        ("named by the pipeline", "edited"),
        ("named by the pipeline", "reordered on the sort screen"),
        ("reading everything", "edited"),
        ("reading everything", "reordered on the sort screen"),
    ],
)
def test_a_hand_change_made_while_a_push_writes_is_found_by_the_next(
    wiki: Setup, docs: Docs, mode: str, how: str, change: str, request: pytest.FixtureRequest
) -> None:
    """The pipeline's one edit carries the record (the probe's time and activities: what happens during
    the write is after them); a run that creates a page lists BookStack again for its record (with the audit
    log, a Sort-screen change logged since the run read BookStack keeps the record's mark at that read)."""
    if (mode, how, change) == ("no audit log", "reading everything", "reordered on the sort screen"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=DURING_RECORD))
    fake, plugin = wiki(mode)
    synced(plugin)
    style, install, configure = (page(fake, docs, rel) for rel in (STYLE, INSTALL, CONFIGURE))
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    if how == "reading everything":  # a new page too: the run lists BookStack again for its record
        docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"][1]["chapter"]["pages"].append("03-tone")
        docs.write_structure()
        docs.page("eng/guide/practice/03-tone.md", "Tone", "Be kind.\n")

    def hand() -> None:
        if change == "edited":
            fake.edit_page_as_human(install.id, markdown="A person's text")
        else:
            fake.sort_as_human("page", install.id, configure.priority + 1, chapter_id=install.chapter_id)

    settings = {"CI_PIPELINE_FILES": _pipeline_files(docs, STYLE)} if how == "named by the pipeline" else {}
    run = _during_the_write(fake, plugin, style.id, hand, **settings)
    assert "Write clearly, and briefly." in fake.state.pages[style.id].markdown, run.err
    assert (how == "reading everything") is ("sync record written on book" in run.err), run.err
    run = ok(push(fake, plugin))
    assert any(a["id"] == install.id for a in named(docs)), run.err
    assert in_order(fake, docs, INSTALL, CONFIGURE) and "Run `make`" in fake.state.pages[install.id].markdown
    cheap_again(fake, plugin, docs)
