"""After ``pull``: the pulled page's stored hash and revision set to what git now holds, so the next sync,
once the files are committed, finds nothing to write."""

from __future__ import annotations

from ..bookstack import BookStackClient
from ..plan.desired import HASH_TAG, REV_TAG
from ..plan.remote import RemoteObject


def record_pulled(client: BookStackClient, obj: RemoteObject, content_hash: str) -> None:
    """Rewrite the page's tags with ``content_hash`` and the revision its tag update is about to make."""
    tags = [
        {"name": HASH_TAG, "value": content_hash}
        if t["name"] == HASH_TAG
        else {"name": REV_TAG, "value": str(obj.revision_count + 1)}
        if t["name"] == REV_TAG
        else t
        for t in obj.tags
    ]
    client.update("pages", obj.id, {"tags": tags})
