"""Apply a plan: parents before children, a new page created with its final content and tags in one
request where its links and assets allow, deletes last (pages, chapters, books, shelves).

Writes run on up to ``concurrency`` threads (the client's shared rate limiter still bounds the rate),
each after what it needs: books before the shelves that list them and the chapters in them, chapters
before their pages, a page after the new pages it links to, a second write of a page after every first
one, deletes level by level. ZIP imports run one at a time, alone (the ids they hand out are predicted).
The outcomes, the ids linked and the final state are those of a serial run; only the order of the log
lines and of the ids BookStack hands out may differ.

A failed action is recorded and the run goes on with what does not depend on it; the next run
finishes the job, because every created object carries its source key from its first request.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ..model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Plan, Route
from ..plan.matching import ImportUnit
from .context import ApplyContext, ImportResult
from .steps import Step, guarded, run_steps
from .writers import delete_object, rewrite_page, write_book, write_chapter, write_pages, write_shelf


class Importer(Protocol):
    """Carries out the creates of one import unit (``zipimport.ZipImporter``)."""

    def run(self, ctx: ApplyContext, unit: ImportUnit, actions: list[Action]) -> ImportResult: ...


def apply_plan(plan: Plan, ctx: ApplyContext, importer: Importer | None = None) -> list[Outcome]:
    """Carry out ``plan``. Returns one outcome per action (unchanged ones included).

    Order: books, then ZIP imports (their books need nothing; a chapter import needs its book), shelves
    (their book lists need the books' ids), chapters, pages, pages that waited for a link target, deletes.
    """
    for obj in ctx.remote.of(EntityKind.SHELF).values():
        ctx.slugs[(EntityKind.SHELF, obj.key or f"#{obj.id}")] = obj.slug
    _remember_slugs(ctx)
    outcomes = ctx.outcomes
    by_entity: dict[EntityKind, list[Action]] = {kind: [] for kind in EntityKind}
    for action in plan.actions:
        if action.route is not Route.IMPORT:
            by_entity[action.entity].append(action)

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if ctx.progress is not None:
            ctx.progress(outcome)
        if ctx.stop is not None:
            raise ctx.stop

    deletes = [a for a in plan.actions if a.kind is ActionKind.DELETE]
    run_steps(ctx, [Step(a, write_book) for a in by_entity[EntityKind.BOOK] if a.kind is not ActionKind.DELETE], record)
    imported: list[Action] = []
    for unit, unit_actions in _import_order(ctx, plan):
        if importer is None:
            result = ImportResult(fallback=tuple(replace(a, route=Route.API) for a in unit_actions))
        else:
            result = importer.run(ctx, unit, unit_actions)
        for outcome in result.outcomes:
            record(outcome)
            if outcome.action.entity is EntityKind.PAGE and outcome.status is OutcomeStatus.CREATED:
                imported.append(outcome.action)
        by_entity[EntityKind.PAGE].extend(result.follow_ups)
        for action in result.fallback:
            if action.entity is EntityKind.BOOK:
                record(guarded(ctx, action, write_book))  # before the shelves, which list it
            else:
                by_entity[action.entity].append(action)
    # shelves and chapters need only the books, which are all written now
    containers = [Step(a, write_shelf) for a in by_entity[EntityKind.SHELF] if a.kind is not ActionKind.DELETE]
    containers += [Step(a, write_chapter) for a in by_entity[EntityKind.CHAPTER] if a.kind is not ActionKind.DELETE]
    run_steps(ctx, containers, record)
    second_pass = write_pages(ctx, [a for a in by_entity[EntityKind.PAGE] if a.kind is not ActionKind.DELETE], record)
    # imported before a page it links to had an id: one more write now that every id is known
    second_pass += [a for a in imported if a.key in ctx.pending_rewrite]
    run_steps(ctx, [Step(a, rewrite_page, failures_only=True) for a in second_pass], record)
    order = {
        EntityKind.PAGE: 0,
        EntityKind.ATTACHMENT: 0,
        EntityKind.IMAGE: 0,
        EntityKind.CHAPTER: 1,
        EntityKind.BOOK: 2,
        EntityKind.SHELF: 3,
    }
    for level in sorted(set(order.values())):
        level_deletes = [a for a in deletes if order[a.entity] == level]
        run_steps(ctx, [Step(a, delete_object) for a in level_deletes], record)
    return outcomes


def _import_order(ctx: ApplyContext, plan: Plan) -> list[tuple[ImportUnit, list[Action]]]:
    """The import units with their actions, link targets first where the links allow it (as pages are),
    and a book's own import before the imports of its other chapters."""
    units = ctx.matching.import_units
    if not units:
        return []
    routed = {(a.entity, a.key): a for a in plan.actions if a.route is Route.IMPORT}
    unit_of_page = {key: n for n, unit in enumerate(units) for key in unit.page_keys}
    book_unit = {unit.key: n for n, unit in enumerate(units) if unit.kind is EntityKind.BOOK}
    ordered: list[int] = []
    placed: set[int] = set()

    def place(n: int, trail: frozenset[int]) -> None:
        if n in placed or n in trail:
            return
        unit = units[n]
        if unit.kind is EntityKind.CHAPTER:
            parent = book_unit.get(ctx.desired.chapters[unit.key].book_key)
            if parent is not None:
                place(parent, trail | {n})
        for key in unit.page_keys:
            for target in ctx.desired.pages[key].linked_pages:
                other = unit_of_page.get(target)
                if other is not None and other != n:
                    place(other, trail | {n})
        placed.add(n)
        ordered.append(n)

    for n in range(len(units)):
        place(n, frozenset())
    result = []
    for n in ordered:
        unit = units[n]
        keys = [(unit.kind, unit.key)]
        keys += [(EntityKind.CHAPTER, c) for c in unit.chapter_keys]
        keys += [(EntityKind.PAGE, p) for p in unit.page_keys]
        result.append((unit, [routed[k] for k in keys if k in routed]))
    return result


def _remember_slugs(ctx: ApplyContext) -> None:
    for kind in (EntityKind.SHELF, EntityKind.BOOK, EntityKind.CHAPTER):
        for obj in ctx.remote.of(kind).values():
            if obj.key:
                ctx.slugs[(kind, obj.key)] = obj.slug
    for (kind, key), obj_id in ctx.matching.ids.items():
        matched = ctx.remote.of(kind).get(obj_id) or ctx.remote.foreign[kind].get(obj_id)  # a shared shelf
        if matched is not None:
            ctx.slugs[(kind, key)] = matched.slug
