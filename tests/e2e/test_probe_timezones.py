"""The probe's search for the tree's own changes holds whatever BookStack's ``APP_TIMEZONE``.

BookStack keeps dates as the wall time of ``APP_TIMEZONE`` and reads ``{updated_after:<date>}`` as that
date's midnight there (``SearchRunner::filterUpdatedAfter``: ``date_create``), while the API answers in
UTC. When more than a few objects changed since the last sync, the probe tells the tree's own apart by
one such search, a day before the record's time: the margin must cover zones from UTC-12 to UTC+14, at
any time of the UTC day. The fake keeps the same wall-time rule (``FakeBookStack(app_timezone=)``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin
from .test_noop_probe import _fake, _managed, report, synced

pytestmark = pytest.mark.real_bookstack


@pytest.mark.parametrize(("zone", "hour"), [("Etc/GMT+12", 0), ("Etc/GMT+12", 23), ("Pacific/Kiritimati", 0)])
def test_the_trees_own_change_is_found_among_many_others_in_any_zone(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, zone: str, hour: int
) -> None:
    fake = _fake(bookstack)
    fake.state.app_timezone = ZoneInfo(zone)
    # the server's clock just after `hour` o'clock UTC, the day after tomorrow
    now = datetime.now(UTC)
    target = (now + timedelta(days=2)).replace(hour=hour, minute=0, second=5, microsecond=0)
    fake.set_server_clock((target - now).total_seconds())
    synced(plugin)
    client = bookstack.client()
    for n in range(5):  # someone else's: more than the probe reads one by one
        client.create("books", {"name": f"Someone else's {n}"})
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.change_as_human("page", page.id, tags=[(t.name, t.value) for t in page.tags] + [("topic", "hand")])
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "1 of the tree's objects changed in BookStack since the last sync" in run.err, run.err
    named = [a for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"]
    assert any(a["id"] == page.id for a in named), named
