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
