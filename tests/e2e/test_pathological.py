"""Hostile pages anyone can put in a pull request are validated and synced in seconds, without a traceback.

Each page is built to make a naive Markdown parser quadratic or recursive: long runs of ``[``, ``![``,
``<`` and ``*``, deep nesting of lists and block quotes, a huge table. They run against the fake only:
what a real BookStack's HTML processing does with 20,000 nested block quotes is not ours to test.
"""

from __future__ import annotations

import time

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import MANAGED_TAG, Docs, Plugin, managed_objects


def _table(rows: int, columns: int) -> str:
    header = "| " + " | ".join(f"h{c}" for c in range(columns)) + " |\n"
    delimiter = "|" + "---|" * columns + "\n"
    row = "| " + " | ".join(f"*c{c}* `x` [a" for c in range(columns)) + " |\n"
    return header + delimiter + row * rows


HOSTILE = {
    "brackets": "[" * 100_000 + "\n",
    "image-openers": "![" * 100_000 + "\n",
    "angle-brackets": "<" * 100_000 + "\n",
    "asterisks": "*a" * 100_000 + "\n",
    "asterisk-run": "a" + "*" * 100_000 + "b\n",
    "nested-lists": "- " * 3_000 + "x\n",
    "nested-indented-lists": "".join(" " * (2 * level) + "- x\n" for level in range(1_000)),
    "nested-quotes": ">" * 20_000 + " x\n",
    "huge-table": _table(2_000, 20),
}

# Seconds for validate and sync together; they take well under one on a quiet machine (the test
# suite runs on two shared CPUs). A quadratic or recursive parser takes minutes or crashes.
BUDGET = 20.0


@pytest.mark.alone  # a wall-time budget: other tests' work beside it would spend it
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_page_is_validated_and_synced_in_seconds(
    name: str, plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    if not bookstack.is_fake:
        pytest.skip("hostile pages go to the fake only")
    docs.page("eng/ops/runbooks/02-hostile.md", "Hostile", "Before.\n\n" + HOSTILE[name] + "\nAfter.\n")
    start = time.perf_counter()
    validated = plugin.run(argv=["validate"])
    synced = plugin.run()
    elapsed = time.perf_counter() - start
    assert validated.exit_code == 0, validated.out + validated.err
    assert synced.exit_code == 0, synced.err
    assert "Traceback" not in validated.err + synced.err
    assert elapsed < BUDGET, f"{name}: {elapsed:.1f} s"
    hostile = docs.key("eng/ops/runbooks/02-hostile.md")
    hits = managed_objects(bookstack, docs.prefix)
    [hit] = [h for h in hits if any(t["name"] == MANAGED_TAG and t["value"] == hostile for t in h["tags"])]
    stored = bookstack.client().read("pages", int(hit["id"]))
    assert stored["markdown"] == "Before.\n\n" + HOSTILE[name] + "\nAfter."
