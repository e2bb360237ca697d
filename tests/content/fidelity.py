"""The fidelity fixture tree (``tests/fixtures/content``) and the resolver its expected pages assume.

The sync engine's end-to-end test reuses both: pages map to ``/link/<n>`` in sorted path order, images to
``/uploads/images/gallery/<file name>``, attachments to ``/attachments/<n>`` in sorted path order.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from bookstack_sync.docs.structure import Structure, read_structure
from bookstack_sync.docs.tree import DocsTree, discover_tree
from bookstack_sync.markdown.content import IMAGE_EXTENSIONS

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "content"
DOCS = FIXTURE / "docs"
EXPECTED = FIXTURE / "expected"
STRUCTURE_FILE = DOCS / "bookstack" / "bookstack-structure.yaml"


def load_fixture() -> tuple[Structure, DocsTree]:
    structure, problems = read_structure(STRUCTURE_FILE, display="bookstack/bookstack-structure.yaml")
    assert structure is not None, problems
    tree = discover_tree(DOCS, structure, skip_dir=STRUCTURE_FILE.parent)
    assert not tree.diagnostics, tree.diagnostics
    return structure, tree


class FixtureResolver:
    """Every target already exists in BookStack, with ids handed out in sorted path order."""

    def __init__(self, tree: DocsTree, structure: Structure) -> None:
        self.pages = {path: n for n, path in enumerate(sorted(tree.page_paths()), start=1)}
        attachments = sorted(p for p in tree.assets if PurePosixPath(p).suffix.lower()[1:] not in IMAGE_EXTENSIONS)
        self.attachments = {path: n for n, path in enumerate(attachments, start=1)}
        self.folders: dict[str, str] = {}
        for shelf in structure.shelves:
            self.folders[shelf.key] = f"/shelves/{shelf.slug}"
            for book in shelf.books:
                self.folders[book.key] = f"/books/{book.slug}"
                for chapter in book.chapters:
                    self.folders[chapter.key] = f"/books/{book.slug}/chapter/{chapter.slug}"

    def page_url(self, page_path: str) -> str | None:
        n = self.pages.get(page_path)
        return None if n is None else f"/link/{n}"

    def folder_url(self, key: str) -> str | None:
        return self.folders.get(key)

    def image_url(self, asset_path: str) -> str | None:
        return f"/uploads/images/gallery/{PurePosixPath(asset_path).name}"

    def attachment_url(self, asset_path: str) -> str | None:
        n = self.attachments.get(asset_path)
        return None if n is None else f"/attachments/{n}"

    def heading_anchor(self, page_path: str, fragment: str) -> str | None:
        return None
