"""The planner on its own: a snapshot of BookStack taken after a real sync (into the fake), then changed
in memory the way people and other runs change BookStack, then planned again. No request is made by
``plan_sync`` itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bookstack_sync.bookstack import BookStackClient
from bookstack_sync.check.validate import validate_docs
from bookstack_sync.cli import main
from bookstack_sync.docs.tree import DocsTree
from bookstack_sync.errors import SyncError
from bookstack_sync.model import ActionKind, EntityKind, Plan
from bookstack_sync.plan.desired import DesiredPage, DesiredState, build_desired, desired_keys
from bookstack_sync.plan.matching import Matching, PlanOptions
from bookstack_sync.plan.planner import check_tree_takeover, own_part_changed, plan_sync, shelf_books_order
from bookstack_sync.plan.remote import RemoteState, fetch_remote
from bookstack_sync.plan.resolve import canonical_markdown
from bookstack_sync.settings import OnDrift
from tests.e2e.conftest import Docs, standard_docs
from tests.fake_bookstack import FakeBookStack


class Snapshot:
    def __init__(self, docs: Docs, fake: FakeBookStack) -> None:
        self.docs = docs
        self.fake = fake

    def desired(self) -> tuple[DesiredState, DocsTree]:
        validation = validate_docs(self.docs.docs_dir, self.docs.docs_dir / "bookstack" / "bookstack-structure.yaml")
        assert validation.structure is not None and validation.tree is not None and not validation.failed()
        return build_desired(validation.structure, validation.tree), validation.tree

    def remote(self, desired: DesiredState) -> RemoteState:
        with BookStackClient(self.fake.url, self.fake.token_id, self.fake.token_secret, rate_limit=0) as client:
            return fetch_remote(
                client, shelf_names={s.name for s in desired.shelves.values()}, shelf_keys=set(desired.shelves)
            )

    def plan(self, remote: RemoteState | None = None, **options: object) -> tuple[Plan, Matching]:
        desired, tree = self.desired()
        remote = remote if remote is not None else self.remote(desired)

        def render(page: DesiredPage, matching: Matching) -> str | None:
            return canonical_markdown(page, matching, tree, desired, strip_title_heading=True, forge_markdown=True)

        return plan_sync(desired, remote, render, PlanOptions(**options))  # type: ignore[arg-type]


@pytest.fixture
def snapshot(tmp_path: Path) -> Iterator[Snapshot]:
    with FakeBookStack() as fake:
        docs = standard_docs(tmp_path, "p")
        env = {
            "CI_PIPELINE_EVENT": "push",
            "PLUGIN_URL": fake.url,
            "PLUGIN_TOKEN_ID": fake.token_id,
            "PLUGIN_TOKEN_SECRET": fake.token_secret,
            "PLUGIN_DOCS_DIR": str(docs.docs_dir),
            "PLUGIN_RATE_LIMIT": "0",
            "PLUGIN_REPORT": "",
            "PLUGIN_SUMMARY": "",
        }
        assert main([], env) == 0
        yield Snapshot(docs, fake)


def kinds(plan: Plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for action in plan.actions:
        if action.kind is not ActionKind.UNCHANGED:
            found.setdefault(action.kind.value, []).append(f"{action.entity.value}:{action.key}")
    return found


def test_into_an_empty_bookstack_everything_is_created(tmp_path: Path) -> None:
    with FakeBookStack() as fake:
        snap = Snapshot(standard_docs(tmp_path, "p"), fake)
        plan, _ = snap.plan()
    counts = plan.counts()
    assert counts == {"create": 2 + 3 + 4 + 7}


def test_after_a_sync_nothing_changes(snapshot: Snapshot) -> None:
    plan, _ = snapshot.plan()
    assert kinds(plan) == {}


def test_description_whitespace_from_bookstack_is_not_a_change(snapshot: Snapshot) -> None:
    desired, _ = snapshot.desired()
    remote = snapshot.remote(desired)
    shelf = next(o for o in remote.of(EntityKind.SHELF).values() if o.key == "p-eng")
    shelf.description = "How  we\nbuild things "
    plan, _ = snapshot.plan(remote)
    assert kinds(plan) == {}
    shelf.description = "How we build other things"
    plan, _ = snapshot.plan(remote)
    assert kinds(plan) == {"update": ["shelf:p-eng"]}


def test_a_person_edit_is_drift_and_the_option_decides(snapshot: Snapshot) -> None:
    desired, _ = snapshot.desired()
    remote = snapshot.remote(desired)
    page = next(o for o in remote.of(EntityKind.PAGE).values() if o.key == "p-eng/guide/practice/01-style.md")
    synced = page.revision_count
    page.revision_count += 1
    page.updated_by_name = "Ana Editor"
    overwrite, _ = snapshot.plan(remote)
    assert kinds(overwrite) == {"update": ["page:p-eng/guide/practice/01-style.md"]}
    update = next(a for a in overwrite.actions if a.kind is ActionKind.UPDATE)
    assert update.detail == f"edited in BookStack by Ana Editor, revision {synced + 1} after our {synced}; git wins"
    assert update.drifted
    words = {OnDrift.SKIP: "kept (on_drift: skip)", OnDrift.FAIL: "the run stops (on_drift: fail)"}
    for policy in (OnDrift.SKIP, OnDrift.FAIL):
        plan, _ = snapshot.plan(remote, on_drift=policy)
        assert kinds(plan) == {"drift": ["page:p-eng/guide/practice/01-style.md"]}
        assert next(a for a in plan.actions if a.drifted).detail.endswith(words[policy])


def test_a_tag_missing_from_bookstack_is_a_content_change(snapshot: Snapshot) -> None:
    desired, _ = snapshot.desired()
    remote = snapshot.remote(desired)
    page = next(o for o in remote.of(EntityKind.PAGE).values() if o.key == "p-team/handbook/onboarding/01-welcome.md")
    page.tags = [t for t in page.tags if t["name"] != "bookstack-sync-hash"]
    plan, _ = snapshot.plan(remote)
    action = next(a for a in plan.actions if a.key == "p-team/handbook/onboarding/01-welcome.md")
    assert action.kind is ActionKind.UPDATE and action.changes == ("content",)


def test_a_gone_source_is_an_orphan_and_prune_deletes_it(snapshot: Snapshot) -> None:
    snapshot.docs.path("eng/ops/runbooks/01-restart.md").unlink()
    plan, _ = snapshot.plan()
    assert kinds(plan) == {"orphan": ["page:p-eng/ops/runbooks/01-restart.md"]}
    plan, _ = snapshot.plan(prune=True)
    assert kinds(plan) == {"delete": ["page:p-eng/ops/runbooks/01-restart.md"]}


def test_duplicates_from_concurrent_runs_keep_the_lowest_id(snapshot: Snapshot) -> None:
    desired, _ = snapshot.desired()
    remote = snapshot.remote(desired)
    original = next(o for o in remote.of(EntityKind.PAGE).values() if o.key == "p-eng/guide/practice/01-style.md")
    twin = type(original)(**{**original.__dict__, "id": original.id + 1000, "tags": list(original.tags)})
    remote.of(EntityKind.PAGE)[twin.id] = twin
    plan, matching = snapshot.plan(remote)
    assert matching.id_of(EntityKind.PAGE, "p-eng/guide/practice/01-style.md") == original.id
    deletes = [a for a in plan.actions if a.kind is ActionKind.DELETE]
    assert [(a.remote_id, "duplicate" in a.detail) for a in deletes] == [(twin.id, True)]


def test_an_unmanaged_page_of_the_same_name_is_adopted_unless_told_not_to(snapshot: Snapshot) -> None:
    desired, _ = snapshot.desired()
    remote = snapshot.remote(desired)
    page = next(o for o in remote.of(EntityKind.PAGE).values() if o.key == "p-eng/guide/practice/02-review.md")
    page.tags = []  # as if a person had made it by hand
    plan, _ = snapshot.plan(remote)
    assert kinds(plan) == {"adopt": ["page:p-eng/guide/practice/02-review.md"]}
    plan, _ = snapshot.plan(remote, adopt=False)
    assert kinds(plan) == {"create": ["page:p-eng/guide/practice/02-review.md"]}


@pytest.mark.parametrize(
    ("managed", "current", "expected"),
    [
        ([1, 2], [], [1, 2]),
        ([1, 2], [9, 2, 1], [1, 2, 9]),
        ([2, 1], [1, 8, 2, 9], [2, 1, 8, 9]),
        ([], [5, 4], [5, 4]),
    ],
)
def test_shelf_order_keeps_other_books_after_the_managed_ones(
    managed: list[int], current: list[int], expected: list[int]
) -> None:
    assert shelf_books_order(managed, current) == expected


def test_a_rename_in_place_shows_the_old_and_the_new_name(snapshot: Snapshot) -> None:
    desired, _ = snapshot.desired()
    remote = snapshot.remote(desired)
    page = next(o for o in remote.of(EntityKind.PAGE).values() if o.key == "p-eng/guide/practice/01-style.md")
    shelf = next(o for o in remote.of(EntityKind.SHELF).values() if o.key == "p-eng")
    new_page_name, new_shelf_name = page.name, shelf.name
    page.name, shelf.name = "Old Style", "Old Engineering"
    plan, _ = snapshot.plan(remote)
    by_key = {(a.entity, a.key): a for a in plan.actions}
    page_action = by_key[(EntityKind.PAGE, "p-eng/guide/practice/01-style.md")]
    assert page_action.kind is ActionKind.UPDATE and "name" in page_action.changes
    assert page_action.detail == f"renamed 'Old Style' → {new_page_name!r}"
    shelf_action = by_key[(EntityKind.SHELF, "p-eng")]
    assert shelf_action.detail == f"renamed 'Old Engineering' → {new_shelf_name!r}"


# --- many trees in one wiki -------------------------------------------------------------------------


def _as_tree(snapshot: Snapshot, tree_id: str, drop_page: bool = False) -> tuple[DesiredState, RemoteState]:
    desired, _ = snapshot.desired()
    if drop_page:
        del desired.pages[next(iter(desired.pages))]
    with BookStackClient(snapshot.fake.url, snapshot.fake.token_id, snapshot.fake.token_secret, rate_limit=0) as client:
        remote = fetch_remote(
            client,
            shelf_names={s.name for s in desired.shelves.values()},
            shelf_keys=set(desired.shelves),
            tree_id=tree_id,
            wanted=desired_keys(desired),
        )
    return desired, remote


def test_the_same_keys_under_another_tree_id_touch_nothing_of_the_first_tree(snapshot: Snapshot) -> None:
    # the snapshot's tree synced under its default id; another tree with the very same keys
    desired, remote = _as_tree(snapshot, "someone/else:docs")
    assert not remote.managed(EntityKind.PAGE) and len(remote.foreign[EntityKind.PAGE]) == 7
    with pytest.raises(SyncError) as info:
        check_tree_takeover(desired, remote, explicit=False)
    assert "tree: " in str(info.value) and "someone/else:docs" in str(info.value)
    check_tree_takeover(desired, remote, explicit=True)  # set on purpose: a tree of its own
    plan, matching = snapshot.plan(remote, prune=True)
    found = kinds(plan)
    assert "delete" not in found and "orphan" not in found and "adopt" not in found and "move" not in found
    assert sorted(found["create"]) == sorted(
        [f"book:{k}" for k in desired.books]
        + [f"chapter:{k}" for k in desired.chapters]
        + [f"page:{k}" for k in desired.pages]
    )
    # the shelves are shared: this tree lists its books there, and never renames them
    assert set(matching.shared) == set(desired.shelves)
    assert {a.key for a in plan.actions if a.entity is EntityKind.SHELF and a.kind is ActionKind.REORDER} == set(
        desired.shelves
    )
    assert sum("this tree gets its own" in note for note in plan.notes) == len(desired.books)


def test_objects_without_a_tree_are_claimed_only_for_this_trees_keys(snapshot: Snapshot) -> None:
    for store in (snapshot.fake.state.pages, snapshot.fake.state.chapters, snapshot.fake.state.books):
        for item in store.values():
            item.tags = [t for t in item.tags if t.name != "bookstack-sync-tree"]
    for shelf in snapshot.fake.state.shelves.values():
        shelf.tags = [t for t in shelf.tags if t.name != "bookstack-sync-tree"]
    gone = next(iter(snapshot.desired()[0].pages))
    desired, remote = _as_tree(snapshot, "team/docs:docs", drop_page=True)
    wanted = desired_keys(desired)
    assert all((kind, remote.of(kind)[obj_id].key) in wanted for kind, obj_id in remote.claims)
    assert len(remote.claims) == 2 + 3 + 4 + 6
    assert [obj.key for obj in remote.foreign[EntityKind.PAGE].values()] == [gone]  # not its key now: left alone


def test_a_shared_shelf_is_written_only_when_this_trees_part_changed() -> None:
    others = [7, 8]
    assert not own_part_changed([1, 2], [7, 1, 8, 2], set())
    assert own_part_changed([2, 1], [7, 1, 8, 2], set())
    assert own_part_changed([1, 2, 3], [7, 1, 8, 2], set())
    assert own_part_changed([1], [7, 1, 8, 2], {2})  # 2 belongs on another shelf now
    assert shelf_books_order([1, 2, 3], [7, 1, 8, 2]) == [1, 2, 3, *others]
