"""The plan and its matching are made once (``plan.make.make_plan``) and nothing after changes them: the writers
record the ids they create in their own copy of the matching."""

from __future__ import annotations

import dataclasses

import pytest

from bookstack_sync.apply.context import ApplyContext
from bookstack_sync.model import EntityKind, Plan
from bookstack_sync.plan.make import MadePlan
from bookstack_sync.plan.matching import Matching


def test_the_writers_extend_a_copy_of_the_matching() -> None:
    planned = Matching(ids={(EntityKind.BOOK, "eng/guide"): 7})
    ctx = ApplyContext(client=None, desired=None, remote=None, matching=planned, tree=None)  # type: ignore[arg-type]
    ctx.matching.ids[(EntityKind.PAGE, "eng/guide/01-start.md")] = 12
    assert ctx.matching.id_of(EntityKind.BOOK, "eng/guide") == 7
    assert planned.ids == {(EntityKind.BOOK, "eng/guide"): 7}


def test_the_made_plan_cannot_be_changed() -> None:
    made = MadePlan(Plan(), Matching(), head=None, refusal=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.plan = Plan(notes=("changed",))  # type: ignore[misc]
