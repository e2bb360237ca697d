"""A page edited in a clone without the last sync's commit (Woodpecker's default depth-1 clone, or no git
at all) costs the probe, a search and one write when ``CI_PIPELINE_FILES`` names it; whenever that list
cannot vouch for every change since the last sync, everything is read and both sides end up right."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin
from .test_noop_probe import _fake, _git, _managed, _managed_hit, nothing_left_to_do, report, synced, written_alone

pytestmark = pytest.mark.real_bookstack

STYLE = "eng/guide/practice/01-style.md"
REVIEW = "eng/guide/practice/02-review.md"
READ_ALL = "reading everything in BookStack: the docs changed since the last sync, and git cannot say which files"


def named(docs: Docs, *rels: str) -> str:
    """``CI_PIPELINE_FILES`` as Woodpecker gives it: paths from the repository's root (the workspace)."""
    return json.dumps([docs.path(rel).relative_to(docs.root).as_posix() for rel in rels])


def markdown_of(bookstack: BookStackTarget, docs: Docs, rel: str) -> str:
    return str(bookstack.client().read("pages", _managed_hit(bookstack, docs, rel))["markdown"])


def test_one_page_edited_without_git_history_costs_seven_requests_and_one_write(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    synced(plugin)
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    # files outside the docs do not count
    run = plugin.run(CI_PIPELINE_FILES=json.dumps([*json.loads(named(docs, STYLE)), "README.md", ".woodpecker.yml"]))
    data = written_alone(run, docs)
    assert "one page changed (CI_PIPELINE_FILES, checked by the digest): " + docs.key(STYLE) in run.err, run.err
    assert [(o["key"], o["status"]) for o in data["outcomes"]] == [(docs.key(STYLE), "updated")]
    assert "Write clearly, and briefly." in markdown_of(bookstack, docs, STYLE)
    nothing_left_to_do(plugin, docs)


def test_a_clone_of_one_commit_takes_the_same_path(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    _git(docs, "init", "-q")
    _git(docs, "add", "-A")
    _git(docs, "commit", "-qm", "docs")
    synced(plugin)
    # the next pipeline's clone holds its own commit alone, not the one the record names
    shutil.rmtree(docs.root / ".git")
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    _git(docs, "init", "-q")
    _git(docs, "add", "-A")
    _git(docs, "commit", "-qm", "edit")
    written_alone(plugin.run(CI_PIPELINE_FILES=named(docs, STYLE)), docs)
    assert "Write clearly, and briefly." in markdown_of(bookstack, docs, STYLE)


def test_a_change_the_pipeline_does_not_name_reads_everything(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    synced(plugin)
    # e.g. a push after a pipeline that failed: its files are not in this pipeline's list
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    docs.page(REVIEW, "Review", "Review kindly, and soon.\n")
    run = plugin.run(CI_PIPELINE_FILES=named(docs, STYLE))
    assert run.exit_code == 0, run.err
    assert f"{READ_ALL} (files CI_PIPELINE_FILES does not name changed since the last sync)" in run.err, run.err
    assert sorted(o["key"] for o in report(docs)["outcomes"] if o["status"] == "updated") == [
        docs.key(STYLE),
        docs.key(REVIEW),
    ]
    assert "Write clearly, and briefly." in markdown_of(bookstack, docs, STYLE)
    assert "Review kindly, and soon." in markdown_of(bookstack, docs, REVIEW)
    nothing_left_to_do(plugin, docs)


@pytest.mark.parametrize(
    ("files", "why"),
    [
        (None, "CI_PIPELINE_FILES is not set"),
        ("[]", "CI_PIPELINE_FILES names no file (a manual, cron or tag pipeline)"),
        ("docs", "CI_PIPELINE_FILES is not a JSON list"),
    ],
)
def test_without_a_usable_list_of_the_pipelines_files_everything_is_read(
    plugin: Plugin, docs: Docs, files: str | None, why: str
) -> None:
    synced(plugin)
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    run = plugin.run(**({"CI_PIPELINE_FILES": files} if files is not None else {}))
    assert run.exit_code == 0, run.err
    assert f"{READ_ALL} ({why})" in run.err, run.err
    assert [o["key"] for o in report(docs)["outcomes"] if o["status"] == "updated"] == [docs.key(STYLE)]


def test_a_named_file_that_is_no_page_or_a_new_order_reads_everything(plugin: Plugin, docs: Docs) -> None:
    synced(plugin)
    other = docs.docs_dir / "bookstack" / "notes.txt"
    other.write_text("not a page\n", encoding="utf-8")
    run = plugin.run(CI_PIPELINE_FILES=json.dumps([other.relative_to(docs.root).as_posix()]))
    assert run.exit_code == 0, run.err
    assert f"{READ_ALL} (CI_PIPELINE_FILES names 1 files under the docs, not 1 to 3 pages)" in run.err, run.err
    docs.page(STYLE, "Style", "Write clearly.\n", order=5)
    run = plugin.run(CI_PIPELINE_FILES=named(docs, STYLE))
    assert run.exit_code == 0, run.err
    assert f"{READ_ALL} ({docs.key(STYLE)}, its order)" in run.err, run.err
    nothing_left_to_do(plugin, docs)


def test_a_page_written_without_its_source_tag_reads_everything(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    fake = _fake(bookstack)
    synced(plugin)
    # as a page written by an older version holds it (no person's change: nothing else moves)
    page = _managed(fake, "page", docs.key(STYLE))
    page.tags = [tag for tag in page.tags if tag.name != "bookstack-sync-source"]
    docs.page(STYLE, "Style", "Write clearly, and briefly.\n")
    run = plugin.run(CI_PIPELINE_FILES=named(docs, STYLE))
    assert run.exit_code == 0, run.err
    assert f"{READ_ALL} ({docs.key(STYLE)}: written by an older version, without bookstack-sync-source)" in run.err
    assert "Write clearly, and briefly." in markdown_of(bookstack, docs, STYLE)
    # the full read wrote the tag: the next edit takes the short way
    docs.page(STYLE, "Style", "Write clearly, briefly.\n")
    written_alone(plugin.run(CI_PIPELINE_FILES=named(docs, STYLE)), docs)
