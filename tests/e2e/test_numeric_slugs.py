"""Shelves whose folder is a number (`2024/`, yearly shelves): their key tag value is then a number, which
BookStack's tag search compares as one (``SearchRunner::applyTagSearch``: a search value PHP's
``is_numeric`` accepts is compared numerically, and MySQL reads a stored value by its numeric start, so
``[bookstack-sync=2024]`` also matches every ``2024/…`` key). The sync must still pair, edit and find
every object right."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin, managed_objects, standard_docs
from .test_noop_probe import _committed, _git, report, synced

pytestmark = pytest.mark.real_bookstack


@pytest.fixture
def docs(tmp_path: Path, bookstack: BookStackTarget, monkeypatch: pytest.MonkeyPatch) -> Iterator[Docs]:
    # unique per run, and a number: 9 digits from the run id, then 1 for `eng`, 2 for `team`
    number = str(int(bookstack.run_id, 16) % 10**8 + 10**8)
    shelves = {"eng": "1", "team": "2"}
    monkeypatch.setattr(Docs, "slug", lambda self, name: number + shelves.get(name, "9"))
    built = standard_docs(tmp_path, f"t{bookstack.run_id}")
    yield built
    if not bookstack.is_fake:
        kinds = {"page": "pages", "chapter": "chapters", "book": "books", "bookshelf": "shelves"}
        for hit in managed_objects(bookstack, number):
            bookstack.track(kinds[str(hit["type"])], int(hit["id"]))


def test_numbered_shelves_sync_edit_and_stay_cheap(plugin: Plugin, docs: Docs) -> None:
    assert docs.slug("eng").isdigit()
    _git(docs, "init", "-q")
    _committed(docs, "docs")
    synced(plugin)
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["total"] <= 5
    docs.page("eng/guide/start/01-install.md", "Install", "Run `make`, then [configure](02-configure.md#options).\n")
    _committed(docs, "edit")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert report(docs)["requests"]["total"] <= 7, report(docs)["requests"]  # the one-page path, as for any slug
    assert [(o["key"], o["status"]) for o in report(docs)["outcomes"] if o["status"] != "unchanged"] == [
        (docs.key("eng/guide/start/01-install.md"), "updated")
    ], run.err
    run = plugin.run("manual")
    assert run.exit_code == 0, run.err
    assert [o for o in report(docs)["outcomes"] if o["status"] not in ("unchanged", "skipped")] == [], run.err
