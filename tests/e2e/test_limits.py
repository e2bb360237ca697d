"""BookStack's 191-character columns end to end: what fits syncs once and settles, what does not is refused
before anything is written (a non-strict database would cut it silently, and every later run would see a
difference and write it again)."""

from __future__ import annotations

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin
from .test_sync import by_key, page, writes

pytestmark = pytest.mark.real_bookstack


def test_names_of_191_characters_sync_once_and_settle(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    title = ("Exactly as long as BookStack stores it " * 5)[:190] + "."
    chapter_name = "C" * 191
    docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"][1]["chapter"]["name"] = chapter_name
    docs.write_structure()
    docs.page("eng/guide/practice/01-style.md", title, "Write clearly.\n", tags=["t" * 191], author="a" * 191)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    stored = page(bookstack, docs, "eng/guide/practice/01-style.md")
    assert stored["name"] == title
    assert {"name": "t" * 191, "value": ""} in [{"name": t["name"], "value": t["value"]} for t in stored["tags"]]
    assert by_key(bookstack, docs)[f"chapter:{docs.key('eng/guide/practice')}"]["name"] == chapter_name
    if bookstack.fake is not None:
        bookstack.fake.requests.clear()
        assert plugin.run().exit_code == 0
        assert writes(bookstack) == []  # nothing was cut, so nothing differs


@pytest.mark.parametrize(
    ("what", "rule"),
    [("title", "name-too-long"), ("tag", "tag-too-long"), ("book", "name-too-long"), ("path", "path-too-long")],
)
def test_too_long_for_bookstack_is_refused_before_writing(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, what: str, rule: str
) -> None:
    if what == "title":
        docs.page("eng/guide/practice/01-style.md", "T" * 192, "Write clearly.\n")
    elif what == "tag":
        docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly.\n", tags=["t" * 250])
    elif what == "book":
        docs.shelves[0]["shelf"]["books"][0]["book"]["name"] = "B" * 255  # BookStack's API would take it
        docs.write_structure()
    else:
        docs.page(f"eng/ops/runbooks/02-{'r' * 180}.md", "Long path", "Too deep.\n")
    run = plugin.run()
    assert run.exit_code == 1
    assert f"[{rule}]" in run.out + run.err and "191" in run.out + run.err
    assert by_key(bookstack, docs) == {}


def test_a_file_over_max_upload_mb_is_refused_before_writing(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    """The wiki's upload limit (BookStack's FILE_UPLOAD_SIZE_LIMIT) as the setting gives it, not the default."""
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly. [The slides](files/style.pdf).\n")
    docs.path("eng/guide/practice/files/style.pdf").parent.mkdir()
    docs.path("eng/guide/practice/files/style.pdf").write_bytes(b"%PDF-1.4\n" + b"\0" * 1_500_000)
    run = plugin.run(max_upload_mb="1")
    assert run.exit_code == 1
    assert "[file-too-large]" in run.out + run.err and "over the upload limit of 1 MB" in run.out + run.err
    assert by_key(bookstack, docs) == {}
