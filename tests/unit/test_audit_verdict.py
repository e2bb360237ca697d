"""What the probe makes of BookStack's audit log (``plan/audit.py``): the hand changes that move no
``updated_at`` send the run to read everything or to look at the object; activities up to the record's
(the newest id it saw) and the last run's own shelf writes do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bookstack_sync.model import EntityKind
from bookstack_sync.plan.audit import Activity, AuditRead, AuditVerdict, judge_audit

WHEN = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)
RECORDED = 100  # the newest activity when the record was written
PLUGIN, PERSON = 3, 7


def row(n: int, kind: str, *, user: int = PERSON, **loggable: Any) -> dict[str, Any]:
    """An activity as ``/api/audit-log`` lists it (activity ``RECORDED + n``)."""
    return {
        "id": RECORDED + n,
        "type": kind,
        "detail": loggable.pop("detail", ""),
        "user_id": user,
        "loggable_id": loggable.get("id"),
        "loggable_type": loggable.get("type"),
        "ip": "10.0.0.1",
        "created_at": (WHEN + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
    }


def verdict(
    *rows: dict[str, Any], total: int | None = None, written: list[tuple[EntityKind, int]] | None = None
) -> AuditVerdict:
    newest_first = sorted(rows, key=lambda r: -int(r["id"]))
    read = AuditRead([Activity.of(r) for r in newest_first], total if total is not None else len(rows), None)
    return judge_audit(read, RECORDED, PLUGIN, written or [])


def test_a_book_sorted_on_its_sort_screen_is_looked_at() -> None:
    found = verdict(row(1, "book_sort", type="book", id=12, detail="(12) Guide"))
    assert found.why is None
    assert [(kind, item_id) for kind, item_id, _ in found.look_at] == [(EntityKind.BOOK, 12)]
    assert "Sort screen" in found.look_at[0][2]


def test_changes_that_leave_counts_and_listings_untrustworthy_send_the_run_to_read_everything() -> None:
    assert "permissions changed on page 40" in str(verdict(row(1, "permissions_update", type="page", id=40)).why)
    restored = verdict(row(1, "recycle_bin_restore", detail="Deletion (5) for page (40) Old"))  # no loggable
    assert restored.why is not None and "recycle bin" in restored.why and "Deletion (5)" in restored.why
    assert verdict(row(1, "sort_rule_update", detail="(2) By name")).why is not None
    assert verdict(row(1, "bookshelf_delete", type="bookshelf", id=4)).why is not None


def test_activities_up_to_the_records_and_those_the_listings_show_are_not_changes() -> None:
    found = verdict(
        row(-5, "book_sort", type="book", id=12),
        row(0, "permissions_update", type="page", id=40),  # the record's own newest
        row(1, "page_update", type="page", id=41),  # the listings show these
        row(2, "page_move", type="page", id=41),
        row(3, "auth_login", detail="standard; (7) Ann"),
        row(4, "commented_on", type="page", id=41),
    )
    assert found.why is None and found.look_at == []


def test_a_shelf_the_last_run_wrote_after_its_record_is_its_own_once() -> None:
    written = [(EntityKind.SHELF, 4)]
    assert verdict(row(1, "bookshelf_update", type="bookshelf", id=4, user=PLUGIN), written=written).look_at == []
    twice = verdict(
        row(1, "bookshelf_update", type="bookshelf", id=4, user=PLUGIN),
        row(2, "bookshelf_update", type="bookshelf", id=4, user=PLUGIN),
        written=written,
    )
    assert [item_id for _, item_id, _ in twice.look_at] == [4]
    assert verdict(row(1, "bookshelf_update", type="bookshelf", id=4), written=written).look_at  # a person
    assert verdict(row(1, "bookshelf_update", type="bookshelf", id=5, user=PLUGIN), written=written).look_at


def test_each_object_is_looked_at_once_and_a_log_longer_than_one_answer_is_not_trusted() -> None:
    found = verdict(*(row(n, "book_sort", type="book", id=12) for n in range(1, 4)))
    assert len(found.look_at) == 1
    many = verdict(*(row(n, "auth_login") for n in range(1, 1501)), total=1640)
    assert many.why is not None and "more than 1500 activities" in many.why
    assert verdict(*(row(n, "auth_login") for n in range(1, 1501))).why is None  # every one read


def test_an_activity_after_the_record_stamped_before_its_time_is_not_trusted() -> None:
    """BookStack's clock set back (or a row committed late): the listings cannot place the change."""
    edited = [Activity.of(row(1, "page_update", type="page", id=41))]
    read = AuditRead(edited, 1, None)
    assert judge_audit(read, RECORDED, PLUGIN, [], since=WHEN).why is None  # stamped after the record
    later = WHEN + timedelta(seconds=30)
    found = judge_audit(read, RECORDED, PLUGIN, [], since=later)
    assert found.why is not None and "clock went back" in found.why
