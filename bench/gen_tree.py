"""Generate a large, valid docs tree (pages, structure file, links) for benchmarks and tests.

The tree follows the input contract: ``<shelf>/<book>/<chapter>/NN-kebab-case.md`` pages with complete
frontmatter, and ``bookstack/bookstack-structure.yaml`` describing them. The output is deterministic:
the same arguments always write the same bytes, so timings and sync plans can be compared across runs.

    python bench/gen_tree.py OUT_DIR [--shelves 4] [--books-per-shelf 5] [--chapters-per-book 5]
                                     [--pages-per-chapter 10] [--book-pages 0] [--no-links | --dense-links]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MAX_PAGES_PER_FOLDER = 99  # file names carry a two-digit prefix, 01-99

_TOPICS = (
    "overview",
    "setup",
    "configuration",
    "deployment",
    "monitoring",
    "backup",
    "restore",
    "upgrades",
    "security",
    "troubleshooting",
    "networking",
    "storage",
)


def page_stem(number: int) -> str:
    """The file stem of the ``number``-th page of a folder: ``01-overview``, ``02-setup``, ..."""
    topic = _TOPICS[(number - 1) % len(_TOPICS)]
    round_ = (number - 1) // len(_TOPICS)
    return f"{number:02d}-{topic}" + (f"-part-{round_ + 1}" if round_ else "")


def _title(stem: str) -> str:
    return stem[3:].replace("-", " ").capitalize()


def _body(title: str, *, shelf: int, book: int, links: list[tuple[str, str]]) -> str:
    lines = [
        f"# {title}",
        "",
        f"This page describes {title.lower()} for service {shelf}.{book}. It is generated, but it reads like "
        "the pages a small team writes: a short introduction, a procedure, a table and a code sample.",
        "",
        "## Before you start",
        "",
        "- You have shell access to the host.",
        "- You have read the runbook for the service.",
        "- The change is announced in the team channel.",
        "",
        "## Procedure",
        "",
        "1. Check the current state of the service.",
        "2. Apply the change with the command below.",
        "3. Verify the result and record it in the change log.",
        "",
        "```bash",
        f"systemctl status service-{shelf}-{book}",
        f"./scripts/apply.sh --service service-{shelf}-{book} --dry-run",
        "```",
        "",
        "| Setting | Default | Meaning |",
        "| --- | --- | --- |",
        "| `timeout` | `30` | Seconds to wait for the service to answer. |",
        "| `retries` | `3` | How often a failed step is repeated. |",
        "",
        "## Verification",
        "",
        "The service answers on its health endpoint and the dashboard shows no new errors for ten minutes.",
        "",
    ]
    if links:
        lines += ["## Related pages", ""]
        lines += [f"- [{text}]({target})" for text, target in links]
        lines.append("")
    return "\n".join(lines)


def _frontmatter(title: str, order: int, category: str, tags: list[str]) -> str:
    tag_text = ", ".join(f'"{t}"' for t in tags)
    return (
        "---\n"
        f'title: "{title}"\n'
        f"order: {order:02d}\n"
        f'category: "{category}"\n'
        f"tags: [{tag_text}]\n"
        "last_updated: 2025-01-19\n"
        'author: "bench"\n'
        'version: "1.0"\n'
        'status: "published"\n'
        "---\n"
    )


def generate_tree(
    root: Path,
    shelves: int = 4,
    books_per_shelf: int = 5,
    chapters_per_book: int = 5,
    pages_per_chapter: int = 10,
    *,
    with_links: bool = True,
    dense_links: bool = False,
    book_pages: int = 0,
) -> Path:
    """Write a valid docs tree under ``root`` (the docs_dir) and return ``root``.

    The structure file is ``root/bookstack/bookstack-structure.yaml``. Pages: ``shelves *
    books_per_shelf * (chapters_per_book * pages_per_chapter + book_pages)``; the defaults give 4 shelves,
    20 books, 100 chapters and 1,000 pages, and e.g. ``generate_tree(root, 4, 5, 20, 25)`` gives 10,000.
    Every fifth chapter has no ``pages`` list (any valid page file is allowed there). With ``with_links``
    each page links to the next page of its folder and to a heading of the first page of the next chapter.
    With ``dense_links`` every chapter page also links to the previous page of its folder, to a heading of
    the page with its number in the next chapter and to the same page of the next book (every page links
    to others, and most pages are the target of a ``#fragment``).
    """
    for name, value, low, high in (
        ("shelves", shelves, 1, None),
        ("books_per_shelf", books_per_shelf, 1, None),
        ("chapters_per_book", chapters_per_book, 0, None),
        ("pages_per_chapter", pages_per_chapter, 1, MAX_PAGES_PER_FOLDER),
        ("book_pages", book_pages, 0, MAX_PAGES_PER_FOLDER),
    ):
        if value < low or (high is not None and value > high):
            raise ValueError(f"{name} must be between {low} and {high or 'any'}, got {value}")
    root.mkdir(parents=True, exist_ok=True)
    yaml_lines = ["# Generated by bench/gen_tree.py", "structure:"]
    for s in range(1, shelves + 1):
        shelf_slug = f"shelf-{s:02d}"
        shelf_dir = root / shelf_slug
        yaml_lines += [
            "  - shelf:",
            f'      name: "Shelf {s}"',
            f"      slug: {shelf_slug}",
            f'      description: "Generated shelf {s}"',
            "      books:",
        ]
        for b in range(1, books_per_shelf + 1):
            book_slug = f"book-{b:02d}"
            book_dir = shelf_dir / book_slug
            book_dir.mkdir(parents=True, exist_ok=True)
            yaml_lines += ["        - book:", f'            name: "Book {s}.{b}"', f"            slug: {book_slug}"]
            book_stems = [page_stem(n) for n in range(1, book_pages + 1)]
            if book_stems:
                yaml_lines.append("            pages: [" + ", ".join(f'"{p}"' for p in book_stems) + "]")
            for n, stem in enumerate(book_stems, start=1):
                links = []
                if with_links and n < len(book_stems):
                    links.append(("Next page", f"{book_stems[n]}.md"))
                if with_links and chapters_per_book:
                    links.append(("First chapter", f"chapter-01/{page_stem(1)}.md#procedure"))
                _write_page(book_dir / f"{stem}.md", stem, n, book_slug, s, b, links)
            if chapters_per_book:
                yaml_lines.append("            chapters:")
            for c in range(1, chapters_per_book + 1):
                chapter_slug = f"chapter-{c:02d}"
                chapter_dir = book_dir / chapter_slug
                chapter_dir.mkdir(exist_ok=True)
                stems = [page_stem(n) for n in range(1, pages_per_chapter + 1)]
                yaml_lines += [
                    "              - chapter:",
                    f'                  name: "Chapter {c}"',
                    f"                  slug: {chapter_slug}",
                ]
                if c % 5 != 0:
                    yaml_lines.append("                  pages: [" + ", ".join(f'"{p}"' for p in stems) + "]")
                for n, stem in enumerate(stems, start=1):
                    links = []
                    if with_links and n < len(stems):
                        links.append(("Next page", f"{stems[n]}.md"))
                    if with_links and c < chapters_per_book:
                        links.append(("Next chapter", f"../chapter-{c + 1:02d}/{page_stem(1)}.md#procedure"))
                    if dense_links:
                        links += _dense_links(stems, n, c, chapters_per_book, b, books_per_shelf)
                    _write_page(chapter_dir / f"{stem}.md", stem, n, chapter_slug, s, b, links)
    structure_dir = root / "bookstack"
    structure_dir.mkdir(exist_ok=True)
    (structure_dir / "bookstack-structure.yaml").write_text("\n".join(yaml_lines) + "\n", encoding="utf-8")
    return root


def page_files(docs: Path) -> list[Path]:
    """The page files of a docs tree, sorted: every ``.md`` file but those of the ``bookstack`` folder."""
    return sorted(p for p in docs.rglob("*.md") if "bookstack" not in p.parts)


def _dense_links(stems: list[str], n: int, chapter: int, chapters: int, book: int, books: int) -> list[tuple[str, str]]:
    """More links of page ``n`` of a chapter: the previous page, its peers in the next chapter and book."""
    stem = stems[n - 1]
    links = [("Previous page", f"{stems[n - 2]}.md")] if n > 1 else []
    next_chapter = chapter % chapters + 1
    links.append(("Same step, next chapter", f"../chapter-{next_chapter:02d}/{stem}.md#verification"))
    next_book = book % books + 1
    links.append(("Same page, next book", f"../../book-{next_book:02d}/chapter-{chapter:02d}/{stem}.md"))
    return links


def _write_page(
    file: Path, stem: str, order: int, category: str, shelf: int, book: int, links: list[tuple[str, str]]
) -> None:
    title = _title(stem)
    text = _frontmatter(title, order, category, ["generated", stem[3:].split("-")[0]]) + "\n"
    text += _body(title, shelf=shelf, book=book, links=links)
    file.write_text(text, encoding="utf-8")


def add_shape_arguments(
    parser: argparse.ArgumentParser,
    shelves: int = 4,
    books_per_shelf: int = 5,
    chapters_per_book: int = 5,
    pages_per_chapter: int = 10,
    book_pages: int | None = None,
) -> None:
    """The options that shape a generated tree, with these defaults: --shelves, --books-per-shelf,
    --chapters-per-book, --pages-per-chapter, and --book-pages unless ``book_pages`` is None."""
    parser.add_argument("--shelves", type=int, default=shelves)
    parser.add_argument("--books-per-shelf", type=int, default=books_per_shelf)
    parser.add_argument("--chapters-per-book", type=int, default=chapters_per_book)
    parser.add_argument("--pages-per-chapter", type=int, default=pages_per_chapter)
    if book_pages is not None:
        parser.add_argument("--book-pages", type=int, default=book_pages)


def shape_of(args: argparse.Namespace) -> tuple[int, int, int, int]:
    """(shelves, books per shelf, chapters per book, pages per chapter) as the options gave them."""
    return (args.shelves, args.books_per_shelf, args.chapters_per_book, args.pages_per_chapter)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="docs_dir to write (created if missing)")
    add_shape_arguments(parser, book_pages=0)
    links = parser.add_mutually_exclusive_group()
    links.add_argument("--no-links", action="store_true")
    links.add_argument("--dense-links", action="store_true", help="every page links to several others")
    args = parser.parse_args(argv)
    try:
        generate_tree(
            args.out,
            *shape_of(args),
            with_links=not args.no_links,
            dense_links=args.dense_links,
            book_pages=args.book_pages,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
