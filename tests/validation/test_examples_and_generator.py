"""The shipped example tree validates cleanly; the benchmark's tree generator writes valid trees of
the shape asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.gen_tree import generate_tree, page_stem

from bookstack_sync.check.validate import validate_docs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "docs"


def test_example_tree_is_clean_even_under_strict() -> None:
    validation = validate_docs(EXAMPLES, EXAMPLES / "bookstack" / "bookstack-structure.yaml")
    assert [d.format() for d in validation.diagnostics] == []
    assert validation.tree is not None
    assert len(validation.tree.pages) == 23
    assert {"engineering/architecture/overview/images/architecture.png"} <= set(validation.tree.assets)
    assert {"operations/runbooks/emergency/checklist.pdf"} <= set(validation.tree.assets)
    statuses = {page.frontmatter.get("status") for page in validation.tree.pages}
    assert {"draft", "review", "published"} <= statuses
    assert any(page.frontmatter.get("deprecated") is True for page in validation.tree.pages)


def test_example_image_is_a_real_png() -> None:
    data = (EXAMPLES / "engineering/architecture/overview/images/architecture.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")


def test_generated_default_shape(tmp_path: Path) -> None:
    docs = generate_tree(tmp_path / "docs", 2, 2, 3, 4)
    validation = validate_docs(docs, docs / "bookstack" / "bookstack-structure.yaml")
    assert validation.diagnostics == []
    assert validation.tree is not None and len(validation.tree.pages) == 2 * 2 * 3 * 4
    assert validation.structure is not None
    assert [len(book.chapters) for _, book in validation.structure.books()] == [3, 3, 3, 3]


def test_generated_tree_with_book_pages_and_without_links(tmp_path: Path) -> None:
    docs = generate_tree(tmp_path / "docs", 1, 1, 5, 99, with_links=False, book_pages=3)
    validation = validate_docs(docs, docs / "bookstack" / "bookstack-structure.yaml")
    assert validation.diagnostics == []
    assert validation.tree is not None and len(validation.tree.pages) == 5 * 99 + 3
    body = (docs / "shelf-01/book-01/chapter-01" / f"{page_stem(1)}.md").read_text(encoding="utf-8")
    assert "](" not in body


def test_generated_links_point_at_existing_pages(tmp_path: Path) -> None:
    docs = generate_tree(tmp_path / "docs", 1, 1, 2, 2, book_pages=2)
    page = docs / "shelf-01/book-01/chapter-01" / f"{page_stem(1)}.md"
    text = page.read_text(encoding="utf-8")
    assert f"]({page_stem(2)}.md)" in text
    assert f"](../chapter-02/{page_stem(1)}.md#procedure)" in text
    assert (page.parent / "../chapter-02" / f"{page_stem(1)}.md").is_file()
    assert "## Procedure" in (docs / "shelf-01/book-01/chapter-02" / f"{page_stem(1)}.md").read_text()


def test_generator_is_deterministic(tmp_path: Path) -> None:
    first = generate_tree(tmp_path / "a", 1, 2, 2, 3)
    second = generate_tree(tmp_path / "b", 1, 2, 2, 3)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)


@pytest.mark.parametrize("shape", [(0, 1, 1, 1), (1, 1, 1, 100), (1, 1, 1, 0)])
def test_generator_refuses_impossible_shapes(tmp_path: Path, shape: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        generate_tree(tmp_path / "docs", *shape)


def test_page_stems_are_unique_up_to_99() -> None:
    stems = [page_stem(n) for n in range(1, 100)]
    assert len(set(stems)) == 99 and all(s[:2] == f"{n:02d}" for n, s in enumerate(stems, start=1))
