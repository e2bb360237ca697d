"""The system tags: the names the plugin writes on what it manages, and the builders of every tag list it writes.

Users see these tags in BookStack; they say where an object comes from, and they are how a later run
recognises what it manages (the ``bookstack-sync`` tag's value is the object's source key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping

from ..docs.structure import TEXT_MAX

MANAGED_TAG = "bookstack-sync"  # value: the source key
TREE_TAG = "bookstack-sync-tree"  # value: the id of the docs tree that owns it (``plan.treeid``)
HASH_TAG = "bookstack-sync-hash"  # value: content hash of what was last written
BODY_TAG = "bookstack-sync-body"  # value: hash of the page's body alone (recognises a renamed and retitled page)
REV_TAG = "bookstack-sync-revision"  # value: the page's revision_count right after our last write
COMMIT_TAG = "bookstack-sync-commit"  # value: the commit of the last write (where git history starts from)
SYNCED_TAG = "bookstack-sync-synced"  # value: UTC time of the last write
ASSET_TAG = "bookstack-sync-asset"  # value: "<sha12> <asset path>" for each uploaded image/attachment
RUN_TAG = "bookstack-sync-run"  # value: a random id of the run that last wrote it (tells two runs' copies apart)
STATE_TAG = "bookstack-sync-state"  # value: the tree's sync record (plan/record.py), on one object of the tree
# value: "<source_hash of the page's file> <priority>" as written (plan/record.source_hash; plan/edit without git)
SOURCE_TAG = "bookstack-sync-source"
SYSTEM_TAGS = frozenset(
    {
        MANAGED_TAG,
        TREE_TAG,
        HASH_TAG,
        BODY_TAG,
        REV_TAG,
        COMMIT_TAG,
        SYNCED_TAG,
        ASSET_TAG,
        RUN_TAG,
        STATE_TAG,
        SOURCE_TAG,
    }
)

Tag = tuple[str, str]


def tag_list(pairs: Iterable[Tag]) -> list[dict[str, str]]:
    """Tags as BookStack's API takes them."""
    return [{"name": name, "value": value} for name, value in pairs]


def container_tags(key: str, run_id: str, kept: Iterable[Tag] = (), tree_id: str = "") -> list[Tag]:
    """A shelf, book or chapter: the tags it keeps (an adopted object's own), its source key, its tree,
    this run's id."""
    return [
        *kept,
        (MANAGED_TAG, key),
        *([(TREE_TAG, tree_id)] if tree_id else []),
        *([(RUN_TAG, run_id)] if run_id else []),
    ]


def page_write_tags(
    user_tags: Iterable[Tag],
    key: str,
    content_hash: str,
    revision: int,
    *,
    synced: dt.datetime,
    commit: str,
    run_id: str,
    assets: Iterable[Tag] = (),
    body: str = "",
    tree_id: str = "",
    source: str = "",
) -> list[Tag]:
    """The tags a page is written with, in order: the user's, then ours (the same on every route).
    ``body`` is the body hash, empty while the page waits for a link target's id; ``source`` the
    ``SOURCE_TAG`` value, empty when the file could not be read again."""
    return [
        *user_tags,
        (MANAGED_TAG, key),
        *([(TREE_TAG, tree_id)] if tree_id else []),
        (HASH_TAG, content_hash),
        *([(BODY_TAG, body)] if body else []),
        (REV_TAG, str(revision)),
        (SYNCED_TAG, synced.strftime("%Y-%m-%dT%H:%M:%SZ")),
        *([(COMMIT_TAG, commit[:12])] if commit else []),
        *([(RUN_TAG, run_id)] if run_id else []),
        *([(SOURCE_TAG, source)] if source else []),
        *assets,
    ]


def pulled_page_tags(tags: Iterable[Mapping[str, str]], content_hash: str, revision: int) -> list[dict[str, str]]:
    """A pulled page's tags with the hash and revision of what git now holds; the others as they are."""
    values = {HASH_TAG: content_hash, REV_TAG: str(revision)}
    return [{"name": t["name"], "value": values[t["name"]]} if t["name"] in values else dict(t) for t in tags]


def asset_tag(target: str, sha: str) -> Tag:
    return (ASSET_TAG, f"{sha[:12]} {asset_record(target)}")


def asset_record(target: str) -> str:
    """How an asset's path is written in its tag after the 12-character sha: whole when it fits BookStack's
    191-character column, else its head and a hash of the whole path — stable, unique, never cut."""
    room = TEXT_MAX - 13
    if len(target) <= room:
        return target
    digest = hashlib.sha256(target.encode()).hexdigest()[:16]
    return f"{target[: room - 17]}#{digest}"
