"""The pairing criteria: a new key continues an old one only where a criterion is unambiguous."""

from __future__ import annotations

from bookstack_sync.model import EntityKind
from bookstack_sync.plan.identity import (
    PageFacts,
    pair_by_history,
    pair_containers,
    pair_pages,
    stem,
    translate,
)


def pages(loose: dict[str, PageFacts], wanted: dict[str, str], **kwargs: object) -> dict[str, str]:
    bodies: dict[str, str | None] = kwargs.pop("bodies", {})  # type: ignore[assignment]
    renames: dict[str, str] = kwargs.pop("renames", {})  # type: ignore[assignment]
    moved: dict[str, str] = kwargs.pop("moved", {})  # type: ignore[assignment]
    pairs = pair_pages(loose, wanted, lambda key: bodies.get(key), lambda key: None, renames, moved)
    return {new: pair.old for new, pair in pairs.items()}


def facts(title: str, body: str | None = None) -> PageFacts:
    return PageFacts(title, body)


def test_stem_and_translate() -> None:
    assert stem("s/b/c/02-setup-guide.md") == "setup-guide.md"
    moved = {"s/b": "t/b", "s/b/c": "t/b/d"}
    assert translate("s/b/c/01-x.md", moved) == "t/b/d/01-x.md"  # the deepest moved folder wins
    assert translate("s/b/01-x.md", moved) == "t/b/01-x.md"
    assert translate("s/other/01-x.md", moved) == "s/other/01-x.md"
    assert translate("s/b", moved) == "s/b"  # a key is not its own ancestor


def test_insert_and_renumber_pairs_by_name_without_number() -> None:
    loose = {"s/b/c/01-style.md": facts("Style"), "s/b/c/02-review.md": facts("Review")}
    wanted = {"s/b/c/01-principles.md": "Principles", "s/b/c/02-style.md": "Style", "s/b/c/03-review.md": "Review"}
    assert pages(loose, wanted) == {
        "s/b/c/02-style.md": "s/b/c/01-style.md",
        "s/b/c/03-review.md": "s/b/c/02-review.md",
    }


def test_an_ambiguous_signature_pairs_nothing() -> None:
    # two old pages called "Notes" in the folder, one new: which one it continues is a guess, so neither
    loose = {"s/b/c/01-a.md": facts("Notes"), "s/b/c/02-b.md": facts("Notes")}
    assert pages(loose, {"s/b/c/03-c.md": "Notes"}) == {}
    # one old, two new of the same title: no pair either
    assert pages({"s/b/c/01-a.md": facts("Notes")}, {"s/b/c/02-x.md": "Notes", "s/b/c/03-y.md": "Notes"}) == {}


def test_git_wins_over_every_other_criterion() -> None:
    # git saw alpha renamed to gamma; a new file took the name alpha
    loose = {"s/b/c/01-alpha.md": facts("Alpha")}
    wanted = {"s/b/c/01-gamma.md": "Gamma", "s/b/c/02-alpha.md": "Other"}
    assert pages(loose, wanted, renames={"s/b/c/01-alpha.md": "s/b/c/01-gamma.md"}) == {
        "s/b/c/01-gamma.md": "s/b/c/01-alpha.md"
    }
    assert pages(loose, wanted) == {"s/b/c/02-alpha.md": "s/b/c/01-alpha.md"}  # without history: by name


def test_a_renamed_and_retitled_page_is_found_by_its_body() -> None:
    loose = {"s/b/c/01-restart.md": facts("Restart", body="h1")}
    wanted = {"s/b/c/01-restart-services.md": "Restart services", "s/b/c/02-new.md": "New"}
    assert pages(loose, wanted, bodies={"s/b/c/01-restart-services.md": "h1", "s/b/c/02-new.md": "h2"}) == {
        "s/b/c/01-restart-services.md": "s/b/c/01-restart.md"
    }
    # without the stored body hash (a page written by an older version) nothing tells them apart
    assert pages({"s/b/c/01-restart.md": facts("Restart")}, wanted, bodies={"s/b/c/01-restart-services.md": "h1"}) == {}


def test_pages_follow_their_moved_folder() -> None:
    loose = {"s/ops/run/01-a.md": facts("A"), "s/ops/run/02-b.md": facts("B")}
    wanted = {"t/ops/run/01-a.md": "A", "t/ops/run/02-b.md": "B"}
    assert pages(loose, wanted, moved={"s/ops": "t/ops"}) == {
        "t/ops/run/01-a.md": "s/ops/run/01-a.md",
        "t/ops/run/02-b.md": "s/ops/run/02-b.md",
    }


def test_containers_pair_by_history_slug_name_or_parent() -> None:
    # a chapter renamed in place: same name in the same book
    pairs = pair_containers(
        EntityKind.CHAPTER, {"s/b/practice": "Best Practices"}, {"s/b/best": "Best Practices"}, {}, {}
    )
    assert {k: p.old for k, p in pairs.items()} == {"s/b/best": "s/b/practice"}
    # a book moved to another shelf: same slug
    pairs = pair_containers(EntityKind.BOOK, {"eng/ops": "Operations"}, {"team/ops": "Ops"}, {}, {})
    assert {k: p.old for k, p in pairs.items()} == {"team/ops": "eng/ops"}
    # a chapter whose book was renamed: its parent moved
    pairs = pair_containers(EntityKind.CHAPTER, {"s/a/c": "C"}, {"s/b/c": "C", "s/x/c": "C"}, {}, {"s/a": "s/b"})
    assert {k: p.old for k, p in pairs.items()} == {"s/b/c": "s/a/c"}
    # two loose chapters of the same name and slug elsewhere: ambiguous
    pairs = pair_containers(EntityKind.CHAPTER, {"s/a/c": "C", "s/d/c": "C"}, {"s/b/c": "C"}, {}, {})
    assert pairs == {}


def test_history_pairs_containers_by_the_majority_of_their_pages() -> None:
    renames = {
        "s/b/old/01-a.md": "s/b/new/01-a.md",
        "s/b/old/02-b.md": "s/b/new/02-b.md",
        "s/b/old/03-c.md": "s/b/x/03-c.md",
    }
    pairs = pair_by_history(EntityKind.CHAPTER, ["s/b/old"], ["s/b/new", "s/b/x"], renames)
    assert {k: p.old for k, p in pairs.items()} == {"s/b/new": "s/b/old"}
    # an even split is no majority
    renames = {"s/b/old/01-a.md": "s/b/new/01-a.md", "s/b/old/03-c.md": "s/b/x/03-c.md"}
    assert pair_by_history(EntityKind.CHAPTER, ["s/b/old"], ["s/b/new", "s/b/x"], renames) == {}


def containers(
    kind: EntityKind, loose: dict[str, str], wanted: dict[str, str], **kwargs: dict[str, str]
) -> dict[str, str]:
    pairs = pair_containers(kind, loose, wanted, kwargs.get("renames", {}), kwargs.get("moved", {}))
    return {new: pair.old for new, pair in pairs.items()}


def test_a_chapter_renamed_in_slug_and_name_is_found_by_git_alone() -> None:
    loose, wanted = {"s/b/practice": "Best Practices"}, {"s/b/coding": "Coding Practices"}
    renames = {"s/b/practice/01-style.md": "s/b/coding/01-style.md"}
    assert containers(EntityKind.CHAPTER, loose, wanted, renames=renames) == {"s/b/coding": "s/b/practice"}
    assert containers(EntityKind.CHAPTER, loose, wanted) == {}  # nothing else in common: created, and an orphan


def test_merged_folders_continue_the_one_that_gave_most_pages() -> None:
    # two chapters merged into one: the one that sent two of the three pages continues, whatever their order
    renames = {
        "s/b/a/01-x.md": "s/b/new/01-x.md",
        "s/b/a/02-y.md": "s/b/new/02-y.md",
        "s/b/z/01-w.md": "s/b/new/03-w.md",
    }
    loose = {"s/b/a": "A", "s/b/z": "Z"}
    assert containers(EntityKind.CHAPTER, loose, {"s/b/new": "New"}, renames=renames) == {"s/b/new": "s/b/a"}


def test_a_container_follows_its_moved_parent_before_any_name() -> None:
    # book a renamed to b, its chapter c retitled; a new chapter elsewhere took the slug and the old name
    loose, wanted = {"s/a/c": "C"}, {"s/b/c": "C, revised", "s/x/c": "C"}
    assert containers(EntityKind.CHAPTER, loose, wanted, moved={"s/a": "s/b"}) == {"s/b/c": "s/a/c"}


def test_a_container_renamed_in_slug_keeps_its_name_in_its_parents_new_place() -> None:
    # book a renamed to b, its chapter renamed in slug only; another new chapter elsewhere has the same name
    loose, wanted = {"s/a/old": "C"}, {"s/b/new": "C", "s/x/other": "C"}
    assert containers(EntityKind.CHAPTER, loose, wanted, moved={"s/a": "s/b"}) == {"s/b/new": "s/a/old"}


def test_a_book_moved_and_renamed_in_slug_is_found_by_its_name() -> None:
    loose, wanted = {"eng/ops": "Operations"}, {"team/operations": "Operations", "team/other": "Other"}
    assert containers(EntityKind.BOOK, loose, wanted) == {"team/operations": "eng/ops"}


def test_a_page_moved_keeps_its_file_name_where_its_stem_is_ambiguous() -> None:
    loose = {"s/b/c/01-notes.md": facts("Notes")}
    wanted = {"s/b/d/01-notes.md": "Notes", "s/b/e/02-notes.md": "More notes"}
    assert pages(loose, wanted) == {"s/b/d/01-notes.md": "s/b/c/01-notes.md"}


def test_a_page_renumbered_in_its_folder_wins_over_a_namesake_elsewhere() -> None:
    loose = {"s/b/c/01-setup.md": facts("Setup")}
    wanted = {"s/b/c/02-setup.md": "Set up", "s/b/d/03-setup.md": "Setup"}
    assert pages(loose, wanted) == {"s/b/c/02-setup.md": "s/b/c/01-setup.md"}


def test_a_page_moved_renamed_and_retitled_is_found_by_its_body_elsewhere() -> None:
    loose = {"s/b/c/01-a.md": facts("A", body="h1")}
    wanted = {"s/b/d/01-z.md": "Z", "s/b/d/02-y.md": "Y"}
    assert pages(loose, wanted, bodies={"s/b/d/01-z.md": "h1", "s/b/d/02-y.md": "h2"}) == {
        "s/b/d/01-z.md": "s/b/c/01-a.md"
    }


def test_a_page_renamed_with_its_title_kept_is_found_by_title_in_its_folder() -> None:
    loose = {"s/b/c/01-a.md": facts("Title", body="h1")}
    wanted = {"s/b/c/01-b.md": "Title", "s/b/d/01-a2.md": "Other"}
    assert pages(loose, wanted, bodies={"s/b/c/01-b.md": "h2"}) == {"s/b/c/01-b.md": "s/b/c/01-a.md"}


def test_a_page_in_a_moved_folder_is_compared_where_its_folder_went() -> None:
    # chapter c renamed to d; in it a page renamed and retitled, body kept; a copy of its body elsewhere
    loose = {"s/a/c/01-x.md": facts("X", body="h1")}
    wanted = {"s/a/d/01-y.md": "Y", "s/a/e/01-z.md": "Z"}
    bodies = {"s/a/d/01-y.md": "h1", "s/a/e/01-z.md": "h1"}
    assert pages(loose, wanted, bodies=bodies, moved={"s/a/c": "s/a/d"}) == {"s/a/d/01-y.md": "s/a/c/01-x.md"}


def test_an_older_page_is_found_by_its_full_hash_where_its_folder_went() -> None:
    # written before the body tag existed: only the hash over everything; renamed, in a renamed chapter,
    # next to a new page of the same title
    loose = {"s/a/c/01-x.md": PageFacts("T", None, full_hash="f1")}
    wanted = {"s/a/d/01-y.md": "T", "s/a/d/02-z.md": "T"}
    full = {"s/a/d/01-y.md": "f1", "s/a/d/02-z.md": "f2"}
    pairs = pair_pages(loose, wanted, lambda key: None, full.get, {}, {"s/a/c": "s/a/d"})
    assert {new: pair.old for new, pair in pairs.items()} == {"s/a/d/01-y.md": "s/a/c/01-x.md"}
