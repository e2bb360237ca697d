"""What every writer of a run shares: the client, the desired and remote state, the matching filled as
objects are created, the slugs and revisions known so far, and the outcomes recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..bookstack import BookStackClient
from ..bookstack.errors import BookStackError
from ..docs.tree import DocsTree
from ..model import Action, EntityKind, Outcome
from ..plan.desired import DesiredPage, DesiredState
from ..plan.matching import Matching
from ..plan.remote import RemoteState
from ..plan.resolve import canonical_markdown, slug_folder_path
from ..plan.tags import page_write_tags

log = logging.getLogger("bookstack_sync.apply")


EMPTY_PAGE = "<!-- empty page -->"  # BookStack refuses empty markdown on create (422)


@dataclass
class ApplyContext:
    client: BookStackClient
    desired: DesiredState
    remote: RemoteState
    matching: Matching
    tree: DocsTree
    strip_title_heading: bool = True
    forge_markdown: bool = True
    commit: str = ""
    run_id: str = ""  # written as RUN_TAG: a lost answer's lookup takes only this run's objects for its own
    tree_id: str = ""  # written as TREE_TAG on everything this run writes: the docs tree that owns it
    progress: Callable[[Outcome], None] | None = None
    # a tag to add to one page write, from its id and payload: the sync record riding on a run's only write
    extra_tag: Callable[[int, dict[str, Any]], tuple[str, str] | None] | None = None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    # each docs file's hash by its path (``plan.record.file_shares``), hashed once a run: pages carry theirs
    sources: Mapping[str, str] = field(default_factory=dict)
    # filled while applying
    slugs: dict[tuple[EntityKind, str], str] = field(default_factory=dict)
    revisions: dict[int, int] = field(default_factory=dict)  # page id -> revision_count after our last write
    # (kind, id) -> BookStack's answer to this run's last update of it
    answered: dict[tuple[EntityKind, int], dict[str, Any]] = field(default_factory=dict)
    failed_keys: set[tuple[EntityKind, str]] = field(default_factory=set)
    pending_rewrite: set[str] = field(default_factory=set)  # pages written before all their links/assets could be
    sort_rule_books: set[str] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)  # as they happen, so a run that stops keeps them
    refusals_in_a_row: int = 0  # 403s on writes since the last write BookStack took
    stop: BookStackError | None = None  # set when the run must end after recording the current outcome
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # for the checks above, across writes

    def __post_init__(self) -> None:
        # the plan's matching stays as the planner made it: the ids this run creates go into a copy
        self.matching = replace(self.matching, ids=dict(self.matching.ids))

    def note_once(self, message: str) -> bool:
        """Add a message for people unless it is there already; whether it was added."""
        with self.lock:
            if message in self.messages:
                return False
            self.messages.append(message)
            return True

    def page_tags(
        self, page: DesiredPage, content_hash: str, revision: int, assets: list[tuple[str, str]], *, body: str = ""
    ) -> list[tuple[str, str]]:
        """The tags this run writes a page with (the same on every route)."""
        return page_write_tags(
            page.tags,
            page.key,
            content_hash,
            revision,
            synced=self.now(),
            commit=self.commit,
            run_id=self.run_id,
            assets=assets,
            body=body,
            tree_id=self.tree_id,
            source=self.source_tag(page),
        )

    def source_tag(self, page: DesiredPage) -> str:
        """The page's ``SOURCE_TAG`` value: its file's share of the docs digest (``sources``), and its
        priority; empty when the run did not hash it (the run without git history then reads everything
        for it)."""
        share = self.sources.get(page.key)
        return f"{share} {page.priority}" if share else ""

    def canonical(self, page: DesiredPage) -> str | None:
        """The page's text as its stored hash covers it, with this run's ids and settings."""
        return canonical_markdown(
            page,
            self.matching,
            self.tree,
            self.desired,
            strip_title_heading=self.strip_title_heading,
            forge_markdown=self.forge_markdown,
        )


def outcome_url(ctx: ApplyContext, path: str | None) -> str | None:
    """The address a report gives for an object: its path on BookStack's own address (APP_URL, what
    readers of a pull request comment can open), else on the address the plugin uses."""
    return f"{ctx.remote.app_url or ctx.client.base_url}{path}" if path is not None else None


@dataclass(frozen=True)
class ImportResult:
    """What one ZIP import did: outcomes of what it created, and what must still be created per object."""

    outcomes: tuple[Outcome, ...] = ()
    fallback: tuple[Action, ...] = ()  # route=API now; their detail says why
    follow_ups: tuple[Action, ...] = ()  # writes the import could not do (a page's priority), done with the pages


def object_url(ctx: ApplyContext, kind: EntityKind, key: str) -> str | None:
    if kind is EntityKind.PAGE:
        page_id = ctx.matching.id_of(kind, key)
        return outcome_url(ctx, f"/link/{page_id}" if page_id is not None else None)
    return outcome_url(ctx, slug_folder_path(ctx.slugs, key))
