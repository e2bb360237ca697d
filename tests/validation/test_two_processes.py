"""A large tree is validated in two processes; the diagnostics are the same, in the same order, as in one.

Both processes take slices of the link checking from one queue, so a slice may be checked by either;
a worker that dies leaves its slices to the parent. Each run is a fresh interpreter: validation forks
only from a process without other threads, which a test session full of servers is not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench.gen_tree import generate_tree, page_stem

from bookstack_sync.check.parallel import LINK_SLICES, PARALLEL_MIN_PAGES

pytestmark = pytest.mark.slow

RUN = """
import dataclasses, json, os, sys
from pathlib import Path
from bookstack_sync.check import parallel, validate

docs, how = Path(sys.argv[1]), sys.argv[2]
if how == "one process":
    validate.can_fork = lambda files: False
if how == "the worker dies":
    parent, check, taken = os.getpid(), parallel.LinkChecker.check, []

    def dies_on_its_second_slice(*args, **kwargs):
        if os.getpid() != parent:
            taken.append(1)
            if len(taken) == 2:
                os._exit(3)
        return check(*args, **kwargs)

    parallel.LinkChecker.check = dies_on_its_second_slice
if how == "the worker dies reading":
    parent, read = os.getpid(), parallel.read_pages

    def dies_in_the_worker(files):
        if os.getpid() != parent:
            os._exit(3)
        return read(files)

    parallel.read_pages = dies_in_the_worker
found = validate.validate_docs(docs, docs / "bookstack" / "bookstack-structure.yaml").diagnostics
split = parallel.last_split
print(json.dumps({
    "diagnostics": [d.format() for d in found],
    "split": None if split is None else [dataclasses.asdict(share) for share in split],
}))
"""


def _run(docs: Path, how: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(docs), how], capture_output=True, text=True, check=True, timeout=600
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def large_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,112 pages (more than PARALLEL_MIN_PAGES) with mistakes spread over the checking order."""
    docs = generate_tree(tmp_path_factory.mktemp("large") / "docs", 1, 2, 11, 96)
    assert PARALLEL_MIN_PAGES <= 2112
    for book, chapter, number in [(1, 1, 3), (1, 6, 50), (2, 2, 7), (2, 11, 96)]:
        page = docs / "shelf-01" / f"book-{book:02d}" / f"chapter-{chapter:02d}" / f"{page_stem(number)}.md"
        text = page.read_text(encoding="utf-8")
        text = text.replace("order: ", "order: 1", 1)  # an order past 99 and unlike the prefix
        text += "\n[gone](missing.md) and [no heading](01-overview.md#nowhere)\n"
        page.write_text(text, encoding="utf-8")
    return docs


@pytest.fixture(scope="module")
def in_one_process(large_tree: Path) -> list[str]:
    one = _run(large_tree, "one process")
    assert one["split"] is None
    assert len(one["diagnostics"]) >= 4 * 3  # each planted page: order, broken link, missing heading
    diagnostics: list[str] = one["diagnostics"]
    return diagnostics


def test_two_processes_report_what_one_does(large_tree: Path, in_one_process: list[str]) -> None:
    two = _run(large_tree, "two processes")
    assert two["diagnostics"] == in_one_process
    parent, worker = two["split"]
    assert parent["slices"] + worker["slices"] == LINK_SLICES
    assert parent["cpu"]["rules"] > 0 and "rules" not in worker["cpu"]
    assert parent["cpu"]["links"] > 0 and worker["cpu"]["links"] > 0


def test_a_worker_that_dies_leaves_its_slices_to_the_parent(large_tree: Path, in_one_process: list[str]) -> None:
    two = _run(large_tree, "the worker dies")
    assert two["diagnostics"] == in_one_process
    parent, worker = two["split"]
    assert worker["slices"] == 0  # nothing came back from the worker
    assert parent["slices"] < LINK_SLICES  # the worker took some: the parent checked them after it died


def test_a_worker_that_dies_before_the_hand_off_leaves_its_half_to_the_parent(
    large_tree: Path, in_one_process: list[str]
) -> None:
    two = _run(large_tree, "the worker dies reading")
    assert two["diagnostics"] == in_one_process
    parent, worker = two["split"]
    assert worker["slices"] == 0 and parent["slices"] == LINK_SLICES  # the parent read and checked it all
