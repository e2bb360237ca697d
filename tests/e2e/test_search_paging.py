"""More than 100 managed pages: the snapshot's tag search must bring every one of them.

BookStack pages a search of tags alone without ``ORDER BY`` (``SearchRunner``), each page its own query, so
on a real v25.02.4 page 1 came in ``tags`` row order and page 2 in id order: the pages whose tags were
written last were on neither, looked unmanaged, and the next sync adopted them again. The fake answers
that way before v25.11 (``tests/fake_bookstack/search.py``).
"""

from __future__ import annotations

import json

from tests.bookstack_target import BookStackTarget, also_before_system_api

from .conftest import Docs, Plugin

PER_CHAPTER = 55  # two chapters: 110 pages, more than one search page holds (100 per type)


def changed_keys(docs: Docs) -> set[str]:
    outcomes = json.loads((docs.root / "report.json").read_text())["outcomes"]
    return {o["key"] for o in outcomes if o["status"] not in ("unchanged", "skipped")}


@also_before_system_api
def test_the_sync_after_writing_a_few_of_many_pages_finds_them_managed(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    ops = docs.shelves[0]["shelf"]["books"][1]["book"]
    ops["chapters"] += [{"chapter": {"name": f"Many {n}", "slug": f"many-{n}"}} for n in (1, 2)]
    docs.write_structure()
    for n in (1, 2):
        for i in range(1, PER_CHAPTER + 1):
            docs.page(f"eng/ops/many-{n}/{i:02d}-entry.md", f"Entry {n}.{i}", f"Entry {n}.{i}.\n")
    first = plugin.run()
    assert first.exit_code == 0, first.out + first.err
    # two early pages (low ids) change: their tags are rewritten, so their tag rows are now the newest
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly and briefly.\n")
    docs.page("eng/guide/start/02-configure.md", "Configure", "## Options\n\nSet fewer things.\n")
    second = plugin.run()
    assert second.exit_code == 0, second.out + second.err
    assert changed_keys(docs) == {
        docs.key("eng/guide/practice/01-style.md"),
        docs.key("eng/guide/start/02-configure.md"),
    }
    third = plugin.run()
    assert third.exit_code == 0, third.out + third.err
    assert changed_keys(docs) == set()
