"""One call makes the plan: git history, pairing and the actions (``planner``), the history notes, the content
checks of adopted pages and of a full resync (``verify``), and the guards. What it returns is frozen: nothing
after it changes the plan or its matching (``apply`` extends a copy of the matching with the ids it creates).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from ..bookstack import BookStackClient
from ..docs.tree import DocsTree
from ..errors import SyncError
from ..model import ActionKind, EntityKind, Plan
from ..settings import ImportMode, OnDrift, Settings
from .desired import DesiredPage, DesiredState
from .edit import Edit
from .guards import check_drift_policy, check_prune_guard
from .history import read_history
from .matching import CanonicalRender, Matching, PlanOptions
from .planner import page_action, plan_sync
from .remote import RemoteState
from .resolve import canonical_markdown
from .tags import COMMIT_TAG
from .verify import check_adopted_contents, verify_contents


@dataclass(frozen=True)
class MadePlan:
    plan: Plan
    matching: Matching
    head: str | None  # the commit checked out (what this run's writes record), when git knows it
    refusal: SyncError | None  # a guard the plan fails: raised by a run that would write, once the plan is shown
    timings: dict[str, float] = field(default_factory=dict)  # seconds: "history", "plan"


def make_plan(
    desired: DesiredState,
    remote: RemoteState,
    tree: DocsTree,
    client: BookStackClient,
    settings: Settings,
    *,
    full: bool,
) -> MadePlan:
    """The plan for this run. ``full``: every page's content is read back and compared (a full resync)."""
    started = time.monotonic()
    history = read_history(settings.docs_dir, gone_pages(desired, remote))
    timings = {"history": round(time.monotonic() - started, 3)}

    render = page_renderer(tree, desired, settings)
    options = PlanOptions(
        adopt=settings.adopt,
        on_drift=settings.on_drift,
        prune=settings.prune,
        prune_limit=settings.prune_limit,
        use_import=settings.import_mode is ImportMode.AUTO,
        import_max_pages=settings.import_max_pages,
    )
    started = time.monotonic()
    plan, matching = plan_sync(desired, remote, render, options, history.renames)
    plan = replace(plan, notes=plan.notes + history.notes)
    plan = check_adopted_contents(plan, desired, matching, client, remote)
    if full:
        plan = verify_contents(plan, desired, matching, client, settings, tree, remote)
    timings["plan"] = round(time.monotonic() - started, 3)
    return MadePlan(plan, matching, history.head, _refusal(plan, remote, settings), timings)


def make_edit_plan(
    edit: Edit, desired: DesiredState, tree: DocsTree, settings: Settings, *, repair: bool = False
) -> Plan | None:
    """The plan when BookStack changed nothing since the last sync and git changed a few pages: one
    update of each one's text, title or tags; or (``repair``) when the docs stayed and a person changed a
    few pages in BookStack: each one put back (``on_drift: overwrite``). None when a page needs more than
    that (the run then reads everything)."""
    options = PlanOptions(on_drift=settings.on_drift)
    render = page_renderer(tree, desired, settings)
    actions = []
    for page in edit.pages:
        action = page_action(page, edit.remote.of(EntityKind.PAGE), render, options, edit.matching)
        put_back = action.kind in (ActionKind.UPDATE, ActionKind.MOVE, ActionKind.REORDER)
        if repair and put_back and "key" not in action.changes:
            actions.append(action)
            continue
        if repair or action.kind is not ActionKind.UPDATE or set(action.changes) - {"content", "name"}:
            return None
        actions.append(action)
    if repair:
        note = f"{', '.join(a.key for a in actions)} changed in BookStack since the last sync; the docs did not"
    else:
        note = f"only {', '.join(a.key for a in actions)} changed since the last sync"
    return Plan(actions=tuple(actions), notes=(note,))


def page_renderer(tree: DocsTree, desired: DesiredState, settings: Settings) -> CanonicalRender:
    """A page as this run writes it to BookStack: what the plan compares with the stored hashes."""

    def render(page: DesiredPage, matching: Matching) -> str | None:
        return canonical_markdown(
            page,
            matching,
            tree,
            desired,
            strip_title_heading=settings.strip_title_heading,
            forge_markdown=settings.forge_markdown,
        )

    return render


def _refusal(plan: Plan, remote: RemoteState, settings: Settings) -> SyncError | None:
    try:
        if settings.on_drift is OnDrift.FAIL:
            check_drift_policy(plan)
        if settings.prune:
            check_prune_guard(plan, remote, settings.prune_limit)
    except SyncError as refused:
        return refused
    return None


def gone_pages(desired: DesiredState, remote: RemoteState) -> dict[str, str | None]:
    """Managed pages whose file is gone, with the commit each was last written from: git may know
    where the file went."""
    kept = set(desired.pages) | set(desired.skipped)
    return {
        key: objs[0].tag(COMMIT_TAG) or None for key, objs in remote.managed(EntityKind.PAGE).items() if key not in kept
    }
