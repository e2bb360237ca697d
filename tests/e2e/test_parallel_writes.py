"""Writes in parallel (``concurrency``) end exactly as one at a time: the same content, links, order and
shelves in BookStack, the same outcomes in the report; only faster. Two fakes with a latency per
request, one synced serially and one with ``concurrency: 4``, through the entrypoint."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bookstack_sync.bookstack.stats import endpoint_template
from tests.bookstack_target import BookStackTarget
from tests.fake_bookstack import FakeBookStack

from .conftest import Docs, Plugin, standard_docs
from .test_import import comparable, import_docs


def linked_docs(docs: Docs) -> Docs:
    """The import tree (assets, links across books) plus a link cycle and a chain, and more pages."""
    import_docs(docs)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly. See [review](02-review.md).\n")
    docs.page("eng/guide/practice/02-review.md", "Review", "Review kindly. See [style](01-style.md).\n")
    for n in range(4, 10):
        link = f" Next: [step {n + 1}](0{n + 1}-step.md)." if n < 9 else ""
        docs.page(f"eng/ops/runbooks/0{n}-step.md", f"Step {n}", f"Do step {n}.{link}\n")
    return docs


def writes(fake: FakeBookStack) -> Counter[str]:
    return Counter(endpoint_template(r.method, r.path) for r in fake.content_writes())


def outcomes(report: Path) -> list[tuple[str, str, str, str]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    return [(o["entity"], o["key"], o["kind"], o["status"]) for o in data["outcomes"]]


def sync(fake: FakeBookStack, docs: Docs, capsys: pytest.CaptureFixture[str], **settings: str) -> tuple[float, Path]:
    plugin = Plugin(BookStackTarget(fake.base_url, fake.token_id, fake.token_secret, fake=fake), docs, capsys)
    run = plugin.run(**settings)
    assert run.exit_code == 0, run.err
    report = docs.root / f"report-{settings.get('concurrency')}-{time.monotonic_ns()}.json"
    (docs.root / "report.json").rename(report)
    # the writes' time: the sync record written after them is one write whatever the concurrency (a run
    # that finds nothing changed since the last sync's record applies nothing: no time)
    return float(json.loads(report.read_text(encoding="utf-8"))["timings"].get("apply", 0.0)), report


@pytest.mark.alone  # parallel_time < 0.75 * serial_time: other tests' work beside it would blur both
@pytest.mark.parametrize("import_setting", ["never", "auto"])
def test_parallel_writes_leave_what_serial_writes_leave(
    tmp_path: Path,
    fakes: Callable[..., FakeBookStack],
    capsys: pytest.CaptureFixture[str],
    import_setting: str,
) -> None:
    serial_docs = linked_docs(standard_docs(tmp_path / "serial", "tpar"))
    parallel_docs = linked_docs(standard_docs(tmp_path / "parallel", "tpar"))
    serial, parallel = fakes(latency=0.03), fakes(latency=0.03)
    settings = {"import": import_setting, "prune": "true", "prune_limit": "50"}

    def both(change: Callable[[Docs], None] | None = None) -> tuple[float, float]:
        if change is not None:
            change(serial_docs)
            change(parallel_docs)
        serial.requests.clear()
        parallel.requests.clear()
        serial_time, serial_report = sync(serial, serial_docs, capsys, concurrency="1", **settings)
        parallel.max_in_flight = 0
        parallel_time, parallel_report = sync(parallel, parallel_docs, capsys, concurrency="4", **settings)
        assert comparable(parallel) == comparable(serial)
        assert outcomes(parallel_report) == outcomes(serial_report)
        assert writes(parallel) == writes(serial)  # no page written twice for want of a link target's id
        assert parallel.same_book_overlaps == 0  # side by side only across books (BookStack issue #4838)
        return serial_time, parallel_time

    serial_time, parallel_time = both()
    assert serial.max_in_flight == 1
    if import_setting == "never":
        # by import, the books arrive whole and the shelf writes claim every book: nothing is left to overlap
        assert parallel.max_in_flight == 3  # one writer per book (shelf lists included): the tree has three
        assert parallel_time < 0.75 * serial_time

    def edit(docs: Docs) -> None:
        for n in range(4, 9):
            docs.page(f"eng/ops/runbooks/0{n}-step.md", f"Step {n}", f"Do step {n} again.\n")
        docs.page("eng/ops/runbooks/10-new.md", "New", "Links to [step 4](04-step.md) and [new 11](11-new.md).\n")
        docs.page("eng/ops/runbooks/11-new.md", "Newer", "Back to [new](10-new.md).\n")
        docs.path("eng/ops/runbooks/09-step.md").unlink()

    both(edit)
    assert len(parallel.content_writes()) == len(serial.content_writes()) > 6
    both()  # and the next run writes nothing on either
    assert serial.content_writes() == parallel.content_writes() == []
