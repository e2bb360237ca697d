"""The guards a plan must pass before anything is written: the drift policy and the prune limit."""

from __future__ import annotations

from ..errors import SyncError
from ..model import ActionKind, EntityKind, Plan
from .remote import RemoteState


def check_drift_policy(plan: Plan) -> None:
    """``on_drift: fail``: refuse before writing anything."""
    drifted = [a for a in plan.actions if a.kind is ActionKind.DRIFT]
    if drifted:
        names = ", ".join(a.key for a in drifted[:10])
        raise SyncError(
            f"{len(drifted)} page(s) were edited in BookStack since the last sync: {names}",
            hint="review them, then rerun with on_drift: overwrite (git wins) or skip",
        )


def check_prune_guard(plan: Plan, remote: RemoteState, limit_percent: int) -> None:
    """Refuse a run that would delete more than ``limit_percent`` of the managed pages."""
    managed = sum(len(objs) for objs in remote.managed(EntityKind.PAGE).values())
    deleting = sum(
        1
        for a in plan.actions
        if a.kind is ActionKind.DELETE and a.entity is EntityKind.PAGE and "duplicate" not in a.detail
    )
    if managed and deleting and deleting * 100 > limit_percent * managed:
        raise SyncError(
            f"refusing to prune {deleting} of {managed} managed pages ({deleting * 100 // managed}% > prune_limit {limit_percent}%)",
            hint="check docs_dir and the structure file; if this is intended, raise `prune_limit`",
        )
