"""A faithful, stateful fake BookStack served over real HTTP on 127.0.0.1, for client and sync tests.

It models BookStack as described in the team's reference notes and live transcripts (v25.02.4 and
v25.07-v26.03): token auth and its error cases, throttling with ``X-RateLimit-*`` headers, shelves, books,
chapters, pages, attachments, the image gallery, search, the recycle bin, ZIP imports and exports
(v25.07+) and ``/api/system`` (v25.05+), with Laravel's validation messages, trimming of every input
string, slugs, priorities, moves, the revision counter and sort rules. Like a real server (reference §12) it cuts
names, tag names and tag values at 191 characters without a word, builds every URL it answers with from an
``APP_URL`` that is not the address the tests use (``fake.app_url``), and checks role and per-item permissions
on writes (``permissions=``, ``fake.set_entity_permission``). ``updated_at`` moves as BookStack's does (whole
seconds of the server's clock, ``fake.set_server_clock``; a shelf, book or chapter only when a column changed or
tags were sent; a chapter's move moves its pages; delete and restore save; a book's Sort screen saves without
timestamps), and a person's changes in the UI are ``fake.edit_page_as_human``, ``change_as_human``,
``sort_as_human``, ``restore_revision_as_human``, ``create_book_as_human``, ``delete_as_human``, ``restore_as_human``, ``destroy_as_human``,
``set_permissions_as_human``, ``set_sort_rule_as_human``, ``edit_sort_rule_as_human`` and ``login_as_human`` (a
second user, ``humans.py``). Every write the API or a person
makes is logged as BookStack logs it in its audit log, ``/api/audit-log`` (``activity.py``). A
rename or move saves again the pages that link to the item by BookStack's own address (``references.py``). A
search of tags alone pages without order, as MySQL may without ``ORDER BY`` (by default before v25.11, ``unordered_tag_search=``: page 1 in tag-write order, later pages in
id order). It also injects faults (``fake.faults``), records every request (``fake.requests``), and fails the
test whose request made it crash (``server_errors``).

    from tests.fake_bookstack import FakeBookStack

    with FakeBookStack(version="v25.02.4", chapterless_chapter_id=0) as fake:
        requests.get(fake.url + "/api/books", headers={"Authorization": "Token test-token-id:test-token-secret"})
"""

from __future__ import annotations

from .faults import Faults
from .permissions import API_ONLY, DEFAULT_PERMISSIONS
from .server import FakeBookStack, RecordedRequest
from .state import Store

__all__ = ["API_ONLY", "DEFAULT_PERMISSIONS", "FakeBookStack", "Faults", "RecordedRequest", "Store"]
