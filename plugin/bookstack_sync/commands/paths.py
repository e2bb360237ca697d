"""The ``paths`` command: every place a page may go, from the structure file, as a list or a tree."""

from __future__ import annotations

from typing import TextIO

from ..errors import ExitCode
from ..settings import Settings
from .schema import structure_or_report


def run_paths(settings: Settings, out: TextIO, *, tree: bool, category: str | None) -> ExitCode:
    structure = structure_or_report(settings)
    if structure is None:
        return ExitCode.INVALID_DOCS
    root = settings.docs_dir.as_posix().rstrip("/")
    if not tree:
        for folder in structure.folders():
            if category and folder.category != category:
                continue
            names = [f"{s}.md" for s in folder.listed_pages] if folder.listed_pages is not None else ["NN-*.md"]
            for name in names:
                print(f"{root}/{folder.key}/{name}    (category: {folder.category})", file=out)
        return ExitCode.OK
    print(f"{root}/", file=out)
    for shelf in structure.shelves:
        print(f"  {shelf.slug}/    # shelf: {shelf.name}", file=out)
        for book in shelf.books:
            print(f"    {book.slug}/    # book: {book.name}", file=out)
            for folder in structure.folders():
                if folder.book is not book or (category and folder.category != category):
                    continue
                indent = "      " if folder.chapter is None else "        "
                if folder.chapter is not None:
                    print(f"      {folder.chapter.slug}/    # chapter: {folder.chapter.name}", file=out)
                listed = folder.listed_pages
                for name in [f"{s}.md" for s in listed] if listed is not None else ["NN-*.md"]:
                    print(f"{indent}{name}", file=out)
    return ExitCode.OK
