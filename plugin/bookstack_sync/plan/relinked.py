"""A page BookStack saved itself: its links into the wiki rewritten after a rename or move there.

When an item's URL changes (a rename gives it a new slug; a move, another book), BookStack saves every
page holding a link to it by BookStack's own address (``APP_URL``): the old URL replaced by the new one
in the page's HTML and in its markdown links, ``revision_count`` + 1, ``updated_by`` left as it was
(``References/ReferenceUpdater.php``, v25.02 and v26.03). A docs page linking to a wiki page by its full
address therefore moves on a revision when someone renames that wiki page, though no person edited it.

Such a revision is not a person's edit, so ``on_drift`` does not apply to it: git stays the source and
the page is written from it as usual, and the plan says which link points at a renamed or moved page
(before v25.12, which keeps old slugs, the old address no longer resolves). It is told apart by two
facts: the page was last saved by the sync's own BookStack user (the one that saved the tree's other
pages as the sync left them), and its text differs from what the sync writes only in link destinations
into the wiki. Anything else stays a person's edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from ..model import Action, ActionKind, EntityKind
from .remote import RemoteObject

# link destinations in markdown: inline `](dest` (links and images) and reference definitions `[x]: dest`
_DESTINATION = re.compile(r"\]\(\s*<?([^\s)>]+)|^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]+)", re.M)
# the sync's own stand-ins in the text its page hash covers (plan/resolve.CanonicalResolver): written as
# real upload URLs or /books/... paths, which BookStack's rewrite never touches
_OWN_FORMS = ("asset:", "folder:")


def sync_users(pages: Iterable[RemoteObject]) -> set[int]:
    """Who saved the tree's pages that are as the sync left them (their recorded revision): its user."""
    return {
        page.updated_by
        for page in pages
        if page.kind is EntityKind.PAGE
        and page.updated_by is not None
        and page.recorded_revision is not None
        and not page.drifted
    }


def relinked(
    page: RemoteObject, written: str | None, users: set[int], app_url: str | None
) -> list[tuple[str, str]] | None:
    """For a drifted page: the links BookStack rewrote (as the sync writes them, as BookStack holds them
    now) when that is all that happened to it — empty when its text is as the sync writes it (a link by
    full permalink, ``/link/<id>``, is saved again unchanged); None when it is a person's edit or cannot
    be told."""
    stored = page.stored_markdown
    if written is None or stored is None or not app_url or page.updated_by not in users:
        return None
    ours, theirs = _split(written.strip()), _split(stored.strip())
    if ours[0] != theirs[0]:
        return None
    wiki = app_url.rstrip("/").lower() + "/"
    changed: list[tuple[str, str]] = []
    for mine, now in zip(ours[1], theirs[1], strict=True):
        if mine == now or mine.startswith(_OWN_FORMS):
            continue
        if not (mine.lower().startswith(wiki) and now.lower().startswith(wiki)):
            return None
        changed.append((mine, now))
    return changed


def _split(text: str) -> tuple[list[str], list[str]]:
    """The text around its link destinations, and the destinations."""
    rest: list[str] = []
    destinations: list[str] = []
    at = 0
    for match in _DESTINATION.finditer(text):
        group = 1 if match.group(1) is not None else 2
        rest.append(text[at : match.start(group)])
        destinations.append(match.group(group))
        at = match.end(group)
    rest.append(text[at:])
    return rest, destinations


def unless_relinked(
    action: Action, obj: RemoteObject, written: str | None, users: set[int], app_url: str | None
) -> tuple[Action, str | None]:
    """A drifted page's action, or — when BookStack saved the page itself — its update from git, not
    drift, and the note that tells which docs link points at a renamed or moved wiki page."""
    links = relinked(obj, written, users, app_url)
    if links is None:
        return action, None
    changes = tuple(dict.fromkeys([*action.changes, "content"]))
    if links:
        shown = ", ".join(f"{old} → {new}" for old, new in links)
        detail = f"saved by BookStack after a rename or move in the wiki ({shown}); git wins"
        note = (
            f"{action.key} links to a wiki page that was renamed or moved ({shown}): BookStack rewrote the "
            "link and this run writes the docs' address back; update the link in git (before BookStack "
            "v25.12 the old address no longer works)"
        )
    else:
        detail = "saved again by BookStack, not a person (it links by full address to a renamed or moved wiki page)"
        note = (
            f"{action.key} was saved again by BookStack itself: it links by full address to a wiki page that "
            "was renamed or moved"
        )
    return replace(action, kind=ActionKind.UPDATE, changes=changes, detail=detail), note
