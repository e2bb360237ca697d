"""The tree's sync record: its tag value, the carrier's fingerprint, the docs digest, git's changed files."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bookstack_sync.model import EntityKind
from bookstack_sync.plan.edit import RANGE_FIT, ranges
from bookstack_sync.plan.history import changed_since
from bookstack_sync.plan.record import (
    MAX_VALUE,
    SyncRecord,
    carrier_fingerprint,
    docs_digest,
    file_shares,
    layout_of,
    written_fingerprint,
)

WHEN = datetime(2026, 12, 6, 10, 0, 1, tzinfo=UTC)


def record(**changes: object) -> SyncRecord:
    values: dict[str, object] = {
        "seq": 7,
        "time": WHEN,
        "seen": frozenset({(EntityKind.PAGE, 12, "a1b2c3"), (EntityKind.BOOK, 3, "")}),
        "totals": (2, 4, 16, 68),
        "digest": "0123456789abcdef",
        "commit": "f" * 16,
        "fingerprint": "abcdefabcdef",
    }
    values.update(changes)
    return SyncRecord(**values)  # type: ignore[arg-type]


def test_a_record_reads_back_as_written_and_fits_a_tag_value() -> None:
    written = record(commit="f" * 16)
    assert len(written.format()) <= MAX_VALUE
    assert SyncRecord.parse(written.format()) == written
    # a commit is kept by its first 16 hex digits (git takes a prefix): 24 characters of room saved
    assert SyncRecord.parse(record(commit="f" * 64).format()) == written


def test_what_a_run_wrote_besides_the_carrier_reads_back_and_fits() -> None:
    written = record(
        written=(
            (EntityKind.PAGE, 123456, "a1b2c3"),
            (EntityKind.PAGE, 123457, "e5f6a7"),
            (EntityKind.SHELF, 9, "0f0f0f"),
        ),
        settings="0a1b2c3d",
        audit=123456789,
        layout="sbcp-0a1b2c3d",
    )
    assert len(written.format()) <= MAX_VALUE
    assert SyncRecord.parse(written.format()) == written
    assert SyncRecord.parse(record().format()) is not None and record().written == ()


def test_the_audit_logs_newest_activity_and_the_layout_read_back_and_unknown_stays_unknown() -> None:
    for audit in (0, 42, None):
        assert SyncRecord.parse(record(audit=audit).format()) == record(audit=audit)
    assert SyncRecord.parse(record(layout="bcp-12345678").format()) == record(layout="bcp-12345678")
    assert ";a=" not in record().format() and ";l=" not in record().format()  # a record of an older version
    for bad in (";a=x", ";l=q-12345678", ";l=bcp-123"):  # hand-edited: no record
        assert SyncRecord.parse(record().format() + bad) is None


def test_a_written_fingerprint_sees_any_later_save_and_a_pages_rename_move_or_revision() -> None:
    page = {"id": 5, "name": "Style", "book_id": 2, "chapter_id": 3, "revision_count": 4}
    page["updated_at"] = "2026-12-06T10:00:01.000000Z"
    mark = written_fingerprint(EntityKind.PAGE, page)
    assert written_fingerprint(EntityKind.PAGE, {**page, "priority": 9}) == mark
    changes: list[dict[str, object]] = [
        {"name": "Style!"},
        {"book_id": 9},
        {"chapter_id": None},
        {"revision_count": 5},
        {"updated_at": "2026-12-06T10:00:02.000000Z"},
    ]
    for change in changes:
        assert written_fingerprint(EntityKind.PAGE, {**page, **change}) != mark, change
    # a listing says 0 or null for "no chapter": the same page
    top = {**page, "chapter_id": 0}
    assert written_fingerprint(EntityKind.PAGE, top) == written_fingerprint(
        EntityKind.PAGE, {**top, "chapter_id": None}
    )
    shelf = {"id": 5, "name": "Eng", "updated_at": page["updated_at"]}
    assert written_fingerprint(EntityKind.SHELF, shelf) != written_fingerprint(
        EntityKind.SHELF, {**shelf, "updated_at": "2026-12-06T10:00:02.000000Z"}
    )


def test_needed_keys_are_cut_into_as_few_searches_as_fit_one_answer_each() -> None:
    chapters = [f"s/b/c{c}/{n:02d}-p.md" for c in range(1, 6) for n in range(1, 51)]  # 250 pages in one book
    far = ["t/z/c1/01-p.md"]
    universe = sorted([*chapters, *far], key=str.casefold)
    # a page, the next one and the first page of the next chapter: one range of 51 keys
    assert ranges(["s/b/c1/01-p.md", "s/b/c1/02-p.md", "s/b/c2/01-p.md"], universe) == [
        ("s/b/c1/01-p.md", "s/b/c2/01-p.md")
    ]
    # links across the book (100 and 150 keys apart): a search each
    assert ranges(["s/b/c1/01-p.md", "s/b/c3/01-p.md", *far], universe) == [
        ("s/b/c1/01-p.md", "s/b/c1/01-p.md"),
        ("s/b/c3/01-p.md", "s/b/c3/01-p.md"),
        (far[0], far[0]),
    ]
    for low, high in ranges(chapters[::7], universe):
        held = [key for key in universe if low.casefold() <= key.casefold() <= high.casefold()]
        assert len(held) <= RANGE_FIT


def test_unknown_time_and_counts_read_back_as_unknown() -> None:
    written = record(time=None, totals=None, seen=frozenset(), commit="")
    assert "t=?" in written.format() and "n=?" in written.format()
    assert SyncRecord.parse(written.format()) == written


def test_anything_else_is_no_record() -> None:
    for value in ("", "v2;s=1", "hand-written", record().format().replace("s=7", "s=seven"), "v1;s=1;t=1;x=;n=1.2"):
        assert SyncRecord.parse(value) is None, value


def test_too_many_objects_in_the_last_second_give_up_the_time_not_the_record() -> None:
    crowded = record(seen=frozenset((EntityKind.PAGE, n, "a1b2c3") for n in range(100_000, 100_040)))
    fitted = crowded.fitting()
    assert len(fitted.format()) <= MAX_VALUE
    assert fitted.time is None and fitted.totals == crowded.totals


def test_the_carrier_fingerprint_sees_a_rename_a_description_a_tag_but_not_the_record_itself() -> None:
    book = {"id": 3, "name": "Guide", "description": "About"}
    tags = [("bookstack-sync", "eng/guide"), ("bookstack-sync-state", "v1;old")]
    mark = carrier_fingerprint(EntityKind.BOOK, book, tags)
    assert carrier_fingerprint(EntityKind.BOOK, book, [("bookstack-sync-state", "v1;new"), tags[0]]) == mark
    assert carrier_fingerprint(EntityKind.BOOK, {**book, "name": "Guide!"}, tags) != mark
    assert carrier_fingerprint(EntityKind.BOOK, {**book, "description": "Other"}, tags) != mark
    assert carrier_fingerprint(EntityKind.BOOK, book, [*tags, ("topic", "x")]) != mark
    page = {"id": 9, "name": "P", "book_id": 3, "chapter_id": None, "revision_count": 4}
    page_mark = carrier_fingerprint(EntityKind.PAGE, page, tags)
    assert carrier_fingerprint(EntityKind.PAGE, {**page, "chapter_id": 0}, tags) == page_mark  # 0 and null alike
    assert carrier_fingerprint(EntityKind.PAGE, {**page, "chapter_id": 5}, tags) != page_mark
    assert carrier_fingerprint(EntityKind.PAGE, {**page, "revision_count": 5}, tags) != page_mark


def test_the_docs_digest_moves_with_any_file_or_setting_and_skips_the_runs_own_outputs(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("one", encoding="utf-8")
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    base = docs_digest(file_shares(tmp_path), {"prune": False})
    assert docs_digest(file_shares(tmp_path), {"prune": False}) == base
    assert docs_digest(file_shares(tmp_path), {"prune": True}) != base
    report = tmp_path / "report.json"
    report.write_text("{}", encoding="utf-8")
    assert docs_digest(file_shares(tmp_path, skip={report.resolve()}), {"prune": False}) == base
    (tmp_path / "img.png").write_bytes(b"\x89PNG2")
    assert docs_digest(file_shares(tmp_path, skip={report.resolve()}), {"prune": False}) != base


def _git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    done = subprocess.run(["git", *args], cwd=root, env={**env, "HOME": str(root), "PATH": "/usr/bin:/bin"},
                          check=True, capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip()


def test_git_names_the_files_changed_since_a_commit_committed_or_not(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("a", encoding="utf-8")
    (docs / "b.md").write_text("b", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("x", encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "one")
    first = _git(tmp_path, "rev-parse", "HEAD")
    assert changed_since(docs, first) == []
    (docs / "a.md").write_text("a2", encoding="utf-8")
    _git(tmp_path, "commit", "-qam", "two")
    (docs / "b.md").write_text("b2", encoding="utf-8")  # not committed
    (docs / "c.md").write_text("c", encoding="utf-8")  # not tracked
    (tmp_path / "outside.txt").write_text("y", encoding="utf-8")  # not under docs
    assert changed_since(docs, first) == ["a.md", "b.md", "c.md"]
    assert changed_since(docs, first[:16]) == ["a.md", "b.md", "c.md"]  # as a record keeps it
    assert changed_since(docs, "0" * 40) is None  # not in this clone
    assert changed_since(tmp_path / "nowhere", first) is None


def test_the_layout_moves_with_an_order_a_parent_or_an_object_come_or_gone_and_nothing_else() -> None:
    def page(item_id: int, chapter: int, priority: int, **more: object) -> dict[str, object]:
        return {"id": item_id, "book_id": 1, "chapter_id": chapter, "priority": priority,
                "created_at": "2026-12-06T09:00:00.000000Z", "name": f"P{item_id}", **more}  # fmt: skip

    pages = [page(10, 5, 1), page(11, 5, 2), page(12, 6, 1)]
    kinds = [EntityKind.PAGE]

    def layout(items: list[dict[str, object]], **options: object) -> str:
        return layout_of({EntityKind.PAGE: items}, kinds, upto=WHEN, **options)  # type: ignore[arg-type]

    before = layout(pages)
    assert before.startswith("p-") and len(before) == 10
    assert layout([page(10, 5, 1, name="Renamed", updated_at="x"), *pages[1:]]) == before  # an edit: no move
    assert layout([page(10, 5, 3), *pages[1:]]) != before  # a new order (a book's Sort screen)
    assert layout([page(10, 6, 2), *pages[1:]]) != before  # another chapter of the same book
    assert layout(pages[1:]) != before  # gone
    assert layout([*pages, page(13, 6, 2)]) != before  # come back (a restore, a permission change)
    created = page(14, 6, 3, created_at="2026-12-06T10:00:02.000000Z")
    assert layout([*pages, created]) == before  # created after the record: the probe counts it
    # a run's own write after the listing, where BookStack answered it is
    assert (
        layout([page(10, 6, 9), *pages[1:]], placed={(EntityKind.PAGE, 10): {"chapter_id": 5, "priority": 1}}) == before
    )
    assert layout_of({}, [], upto=WHEN) == ""
