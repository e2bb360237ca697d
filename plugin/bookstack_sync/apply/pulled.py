"""After ``pull``: the pulled page's stored hash and revision set to what git now holds, so the next sync,
once the files are committed, finds nothing to write."""

from __future__ import annotations

from ..bookstack import BookStackClient
from ..plan.remote import RemoteObject
from ..plan.tags import pulled_page_tags


def record_pulled(client: BookStackClient, obj: RemoteObject, content_hash: str) -> None:
    """Rewrite the page's tags with ``content_hash`` and the revision this tag update is about to make."""
    client.update("pages", obj.id, {"tags": pulled_page_tags(obj.tags, content_hash, obj.revision_count + 1)})
