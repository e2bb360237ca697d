"""Create a new book, or a new chapter in an existing book, with one BookStack ZIP import (v25.07+).

The archive comes from ``zipbuild``: ``data.json`` and ``files/`` in BookStack's portable format, pages with
their final markdown and the same tags the per-object path writes, images and attachments inside the ZIP
so they work at once.

Links between pages of the same import are written as ``/link/<predicted id>``, not as
``[[bsexport:page:N]]``: the import would turn those into slug URLs, which break on renames (before
v25.12) and would need one more write per linking page to become ``/link/<id>`` — a thousand writes for
a thousand-page tree. BookStack hands out ids in sequence, and the import creates in a known order
(``ZipImportRunner``), so the ids can be predicted from the highest id we know; the stored hash is taken over
the predicted links. After the run the real ids are read (one tag search, matched by source key, never
by position); a page whose links were predicted wrongly (other activity on the server, items in the
recycle bin) is written again in the same run. If even that write fails, its stored hash no longer
matches the real ids, so the next run rewrites it: a wrong prediction costs requests, never a wrong link
for long.

The executor then sets a chapter's priority where the import appended it in the wrong place, and falls
back to per-object creates where the import cannot be used: no ``content-import`` permission (for the
rest of the run), a failed upload or run (for that unit; a failed run's pending import is deleted).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ..bookstack import normalise_chapter_id
from ..bookstack.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BookStackError,
    NotFoundError,
    PermissionDeniedError,
    is_deadlock,
)
from ..model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Route
from ..plan.matching import ImportUnit
from ..plan.remote import RemoteObject, find_created
from ..plan.resolve import slug_folder_path
from ..plan.tags import HASH_TAG, MANAGED_TAG, TREE_TAG
from .context import ApplyContext, ImportResult, outcome_url
from .zipbuild import BuiltImport, ImportBuildError, ZipInputs, build_import, known_ids, predict_ids

log = logging.getLogger("bookstack_sync.zipimport")


# A run MariaDB chose as a deadlock victim was rolled back whole (seen on real v25.02 and v26.03 servers): running it again is
# safe. Attempts in all, and the pause before the second (doubled each time).
DEADLOCK_ATTEMPTS = 3


DEADLOCK_PAUSE_S = 1.0


PERMISSION_MESSAGE = (
    'ZIP import refused: the token\'s role lacks the "Import content" permission (content-import); '
    "new books and chapters are created object by object for the rest of this run"
)


@dataclass
class ZipImporter:
    """Runs import units for ``apply_plan``; remembers a refused permission for the rest of the run."""

    disabled: str | None = None  # why imports are off for the rest of the run
    mispredicted: int = 0  # page ids that did not come out as predicted (each costs a write or so)
    imported: list[tuple[EntityKind, str]] = field(default_factory=list)  # units that went by import
    uploaded: list[int] = field(default_factory=list)  # ids of this run's uploads (none may stay pending)
    deadlocks: int = 0  # runs MariaDB rolled back as deadlock victims (each run again, or fallen back)

    def run(self, ctx: ApplyContext, unit: ImportUnit, actions: list[Action]) -> ImportResult:
        if self.disabled is not None:
            return _fall_back(actions, self.disabled)
        inputs = ZipInputs(
            desired=ctx.desired,
            tree=ctx.tree,
            matching=ctx.matching,
            slugs=ctx.slugs,
            predicted=predict_ids(ctx.desired, unit, known_ids(ctx), ctx.remote.version),
            strip_title_heading=ctx.strip_title_heading,
            forge_markdown=ctx.forge_markdown,
        )
        try:
            built = build_import(inputs, unit, ctx)
        except (ImportBuildError, OSError) as exc:
            return self._failed(ctx, unit, actions, f"the ZIP could not be built ({exc})")
        client = ctx.client
        log.info(
            "importing %s %s by ZIP: %d chapter(s), %d page(s), %d KB",
            unit.kind.value,
            unit.key,
            len(unit.chapter_keys) + (unit.kind is EntityKind.CHAPTER),
            unit.size,
            (len(built.data) + 1023) // 1024,
        )
        try:
            upload = client.upload_import(built.filename, built.data)
        except PermissionDeniedError as exc:
            return self._refused(ctx, actions, exc)
        except AuthenticationError:
            raise
        except BookStackError as exc:
            # a lost answer to an upload created nothing but a pending import: per object is safe
            return self._failed(ctx, unit, actions, f"the upload failed: {_said(exc)}")
        import_id = int(upload["id"])
        self.uploaded.append(import_id)
        try:
            created = self._run_import(ctx, unit, import_id)
        except PermissionDeniedError as exc:
            self._delete(ctx, import_id)
            return self._refused(ctx, actions, exc)
        except AuthenticationError:
            raise
        except BookStackError as exc:
            # BookStack keeps a failed import pending (``ImportApiController``): remove it, then go per object
            self._delete(ctx, import_id)
            return self._failed(ctx, unit, actions, f"the run failed: {_said(exc)}")
        self.imported.append((unit.kind, unit.key))
        outcomes, follow_ups = self._learn(ctx, unit, actions, built, created)
        return ImportResult(outcomes=tuple(outcomes), follow_ups=tuple(follow_ups))

    def _run_import(self, ctx: ApplyContext, unit: ImportUnit, import_id: int) -> dict[str, Any]:
        """POST the run; after a lost answer, look for what it made before running it again."""
        parent_type, parent_id = None, None
        if unit.kind is EntityKind.CHAPTER:
            parent_type = "book"
            parent_id = ctx.matching.id_of(EntityKind.BOOK, ctx.desired.chapters[unit.key].book_key)
            if parent_id is None:
                raise BookStackError(f"its book {ctx.desired.chapters[unit.key].book_key} was not created")
        try:
            return self._run_through_deadlocks(ctx, import_id, parent_type, parent_id)
        except AmbiguousWriteError as exc:
            if is_deadlock(exc):
                raise  # rolled back every time: nothing was made; the caller deletes the import
            found = _find_root(ctx, unit)
            if found is not None:
                log.warning(
                    "the run of the import of %s lost its answer but had happened; using id %s", unit.key, found["id"]
                )
                return found
            try:
                return self._run_through_deadlocks(ctx, import_id, parent_type, parent_id)
            except NotFoundError:
                # the import is gone, so the first run did happen after all: look once more
                found = _find_root(ctx, unit)
                if found is None:
                    raise
                return found

    def _run_through_deadlocks(
        self, ctx: ApplyContext, import_id: int, parent_type: str | None, parent_id: int | None
    ) -> dict[str, Any]:
        """Run the import, again after a deadlock: MariaDB rolled that attempt back whole."""
        attempt = 1
        while True:
            try:
                return ctx.client.run_import(import_id, parent_type=parent_type, parent_id=parent_id)
            except AmbiguousWriteError as exc:
                if not is_deadlock(exc):
                    raise
                self.deadlocks += 1
                if attempt >= DEADLOCK_ATTEMPTS:
                    raise
                pause = DEADLOCK_PAUSE_S * 2 ** (attempt - 1)
                log.warning(
                    "the run of import %s was rolled back by a database deadlock (another import at the same "
                    "time); running it again in %.1f s",
                    import_id,
                    pause,
                )
                time.sleep(pause)
                attempt += 1

    def _learn(
        self, ctx: ApplyContext, unit: ImportUnit, actions: list[Action], built: BuiltImport, created: dict[str, Any]
    ) -> tuple[list[Outcome], list[Action]]:
        """Map what the import made to source keys (one tag search), remember the ids, fix what the
        import cannot do (a chapter appended in the wrong place)."""
        root_id = int(created["id"])
        root_kind = unit.kind
        ctx.matching.ids[(root_kind, unit.key)] = root_id
        ctx.slugs[(root_kind, unit.key)] = str(created.get("slug", ""))
        book_id = root_id if root_kind is EntityKind.BOOK else int(created.get("book_id") or 0)
        wanted = {(EntityKind.CHAPTER, c) for c in built.unit.chapter_keys}
        wanted |= {(EntityKind.PAGE, p) for p in built.unit.page_keys}
        found: dict[tuple[EntityKind, str], dict[str, Any]] = {}
        tree = f" [{TREE_TAG}={ctx.tree_id}]" if ctx.tree_id else ""
        for hit in ctx.client.search(f"[{MANAGED_TAG}like{unit.key}/%]{tree}"):
            kind = {"chapter": EntityKind.CHAPTER, "page": EntityKind.PAGE}.get(str(hit.get("type")))
            key = next((str(t.get("value")) for t in hit.get("tags", []) if t.get("name") == MANAGED_TAG), None)
            if kind is None or key is None or (kind, key) not in wanted or int(hit.get("book_id") or 0) != book_id:
                continue
            if root_kind is EntityKind.CHAPTER and normalise_chapter_id(hit.get("chapter_id")) != root_id:
                continue
            found.setdefault((kind, key), hit)
        for kind, key in sorted(wanted - set(found)):
            # the like-search missed it (unexpected): ask for this key alone before giving up
            for hit in ctx.client.search(f"[{MANAGED_TAG}={key}]{tree}"):
                if str(hit.get("type")) == kind.value and int(hit.get("book_id") or 0) == book_id:
                    found[(kind, key)] = hit
                    break
        outcomes: list[Outcome] = []
        follow_ups: list[Action] = []
        self._check_predictions(ctx, built, found)
        for action in actions:
            entity_key = (action.entity, action.key)
            if entity_key == (root_kind, unit.key):
                outcomes.append(self._root_outcome(ctx, action, created))
                continue
            match = found.get(entity_key)
            if match is None:
                ctx.failed_keys.add(entity_key)
                outcomes.append(
                    Outcome(
                        action, OutcomeStatus.FAILED, None, None, "created by the ZIP import but not found afterwards"
                    )
                )
                continue
            obj_id = int(match["id"])
            ctx.matching.ids[entity_key] = obj_id
            if action.entity is EntityKind.CHAPTER:
                ctx.slugs[entity_key] = str(match.get("slug", ""))
                url = outcome_url(ctx, slug_folder_path(ctx.slugs, action.key))
                outcomes.append(self._fix_chapter_priority(ctx, action, obj_id, url))
                continue
            self._remember_page(ctx, action.key, obj_id, match, built)
            if "priority" in action.changes:
                # the renumbered place is wrong among siblings made another way: a page write (a
                # priority alone still makes a revision, so the tags go with it: apply's REORDER)
                follow_ups.append(
                    Action(
                        ActionKind.REORDER,
                        EntityKind.PAGE,
                        action.key,
                        action.name,
                        obj_id,
                        ("priority",),
                        "put in its place after the ZIP import",
                        Route.IMPORT,
                    )
                )
            outcomes.append(Outcome(action, OutcomeStatus.CREATED, obj_id, outcome_url(ctx, f"/link/{obj_id}")))
        return outcomes, follow_ups

    def _check_predictions(
        self, ctx: ApplyContext, built: BuiltImport, found: dict[tuple[EntityKind, str], dict[str, Any]]
    ) -> None:
        """Pages whose links to pages of this import went to a predicted id that did not come true are
        written again once every id is known (``apply_plan`` does that after the page creates)."""
        wrong = {
            key
            for key, page_id in built.predicted.items()
            if (EntityKind.PAGE, key) in found and int(found[(EntityKind.PAGE, key)]["id"]) != page_id
        }
        if not wrong:
            return
        stale = {key for key in built.unit.page_keys if set(ctx.desired.pages[key].linked_pages) & wrong}
        self.mispredicted += len(wrong)
        built.waiting_more.update(stale)
        message = (
            f"ZIP import of {built.unit.kind.value} {built.unit.key}: {len(wrong)} page id(s) came out other than "
            f"predicted (other activity on the server, or items in the recycle bin); {len(stale)} page(s) are "
            "written once more to correct their links"
        )
        ctx.messages.append(message)

    def _root_outcome(self, ctx: ApplyContext, action: Action, created: dict[str, Any]) -> Outcome:
        obj_id = int(created["id"])
        url = outcome_url(ctx, slug_folder_path(ctx.slugs, action.key))
        if action.entity is EntityKind.CHAPTER:
            return self._fix_chapter_priority(ctx, action, obj_id, url)
        return Outcome(action, OutcomeStatus.CREATED, obj_id, url)

    def _fix_chapter_priority(self, ctx: ApplyContext, action: Action, obj_id: int, url: str | None) -> Outcome:
        """A chapter import is appended after everything in the book, and a book import renumbers
        (``ZipImportRunner``): where the planner found that out of order, set the desired priority."""
        if "priority" in action.changes:
            try:
                ctx.client.update("chapters", obj_id, {"priority": ctx.desired.chapters[action.key].priority})
            except (AuthenticationError, PermissionDeniedError):
                raise
            except BookStackError as exc:
                ctx.failed_keys.add((EntityKind.CHAPTER, action.key))
                return Outcome(action, OutcomeStatus.FAILED, obj_id, None, f"imported, but not put in its place: {exc}")
        return Outcome(action, OutcomeStatus.CREATED, obj_id, url)

    def _remember_page(
        self, ctx: ApplyContext, key: str, page_id: int, hit: dict[str, Any], built: BuiltImport
    ) -> None:
        ctx.revisions[page_id] = 1
        page = ctx.desired.pages[key]
        tags = built.page_tags[key]
        # what a later write in this run (a page that waited for a link target) needs: the recorded
        # assets, so the images the import stored are reused, not uploaded again
        ctx.remote.objects[EntityKind.PAGE][page_id] = RemoteObject(
            kind=EntityKind.PAGE,
            id=page_id,
            name=page.name,
            slug=str(hit.get("slug", "")),
            book_id=int(hit.get("book_id") or 0),
            chapter_id=normalise_chapter_id(hit.get("chapter_id")),
            priority=int(hit.get("priority") or 0),
            revision_count=1,
            tags=[{"name": n, "value": v} for n, v in tags],
        )
        if key in built.waiting or key in built.waiting_more or dict(tags).get(HASH_TAG) == "pending":
            ctx.pending_rewrite.add(key)

    def _delete(self, ctx: ApplyContext, import_id: int) -> None:
        try:
            ctx.client.delete("imports", import_id)
        except NotFoundError:
            pass  # already gone: its run did happen, or it was deleted before
        except BookStackError as exc:
            log.warning(
                "the failed import %s could not be deleted (%s); remove it under Settings > Imports", import_id, exc
            )

    def _refused(self, ctx: ApplyContext, actions: list[Action], exc: PermissionDeniedError) -> ImportResult:
        self.disabled = PERMISSION_MESSAGE
        if PERMISSION_MESSAGE not in ctx.messages:
            ctx.messages.append(PERMISSION_MESSAGE)  # shown once, with the run's other warnings
            log.info("ZIP import refused: %s", _said(exc))
        return _fall_back(actions, "no content-import permission")

    def _failed(self, ctx: ApplyContext, unit: ImportUnit, actions: list[Action], why: str) -> ImportResult:
        message = f"ZIP import of {unit.kind.value} {unit.key}: {why}; created object by object instead"
        ctx.messages.append(message)  # shown with the run's other warnings
        return _fall_back(actions, f"ZIP import failed: {why}")


def _said(exc: BookStackError) -> str:
    """BookStack's own words where it gave some (either error shape), else our description."""
    return exc.server_message or str(exc)


def _fall_back(actions: list[Action], why: str) -> ImportResult:
    return ImportResult(
        fallback=tuple(replace(a, route=Route.API, detail=f"{a.detail}; {why}" if a.detail else why) for a in actions)
    )


def _find_root(ctx: ApplyContext, unit: ImportUnit) -> dict[str, Any] | None:
    """The book (or chapter) a run whose answer was lost may have made: it carries the source key and
    this run's id (another run's import of the same book is not ours)."""
    return find_created(ctx.client, unit.kind, unit.key, ctx.run_id)
