"""A small docs tree built in a temporary folder, and resolvers for rendering it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bookstack_sync.docs.structure import Structure, parse_structure
from bookstack_sync.docs.tree import DocsTree, PageSource, discover_tree
from tests.images import png

STRUCTURE = """\
structure:
  - shelf:
      name: Docs
      books:
        - book:
            name: Guide
            chapters:
              - chapter:
                  name: Setup
"""

PAGE = "docs/guide/01-intro.md"  # the page under test


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    return png((0x10, 0x20, 0x30), width, height)


def page_text(body: str, *, title: str = "Intro", category: str = "guide", **fields: Any) -> str:
    front: dict[str, Any] = {
        "title": title,
        "order": 1,
        "category": category,
        "tags": ["t"],
        "last_updated": "2025-01-19",
        "author": "me",
        **fields,
    }
    return "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n" + body


# The neighbours every test tree has, besides the page under test.
DEFAULT_FILES: dict[str, str | bytes] = {
    "docs/guide/02-other.md": page_text(
        "# Other\n\n## Install steps\n\nText.\n\n## Install steps\n\nAgain.\n", title="Other", order=2
    ),
    "docs/guide/setup/01-setup.md": page_text("## Ports & firewalls\n", title="Setup", category="setup"),
    "docs/guide/img/x.png": png_bytes(),
    "docs/guide/img/a b.png": png_bytes(),
    "docs/guide/files/spec.pdf": b"%PDF-1.4\n%%EOF\n",
    "docs/guide/setup/img/y.png": png_bytes(),
}


class Built:
    def __init__(self, root: Path, structure: Structure, tree: DocsTree) -> None:
        self.root = root
        self.structure = structure
        self.tree = tree

    def page(self, path: str = PAGE) -> PageSource:
        for page in self.tree.pages:
            if page.path == path:
                return page
        raise AssertionError(f"{path} not in the tree: {self.tree.diagnostics}")


BuildTree = Callable[..., Built]


@pytest.fixture
def build_tree(tmp_path: Path) -> BuildTree:
    def build(files: Mapping[str, str | bytes], *, defaults: bool = True, structure: str = STRUCTURE) -> Built:
        root = tmp_path / "site"
        everything = {**(DEFAULT_FILES if defaults else {}), **files}
        for rel, content in everything.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        (root / "bookstack").mkdir(parents=True, exist_ok=True)
        (root / "bookstack" / "bookstack-structure.yaml").write_text(structure, encoding="utf-8")
        parsed, problems = parse_structure(structure, "bookstack/bookstack-structure.yaml")
        assert parsed is not None, problems
        tree = discover_tree(root, parsed, skip_dir=root / "bookstack")
        return Built(root, parsed, tree)

    return build


class MapResolver:
    """Pages get /link/<n> in sorted order; everything else a recognisable URL."""

    def __init__(self, tree: DocsTree, *, anchors: Mapping[tuple[str, str], str] | None = None) -> None:
        self.ids = {path: n for n, path in enumerate(sorted(tree.page_paths()), start=1)}
        self.anchors = dict(anchors or {})

    def page_url(self, page_path: str) -> str | None:
        return f"/link/{self.ids[page_path]}" if page_path in self.ids else None

    def folder_url(self, key: str) -> str | None:
        return f"/folder/{key}"

    def image_url(self, asset_path: str) -> str | None:
        return f"/uploads/images/gallery/{PurePosixPath(asset_path).name}"

    def attachment_url(self, asset_path: str) -> str | None:
        return "/attachments/9"

    def heading_anchor(self, page_path: str, fragment: str) -> str | None:
        return self.anchors.get((page_path, fragment))


class NoneResolver:
    """Nothing exists in BookStack yet."""

    def page_url(self, page_path: str) -> str | None:
        return None

    def folder_url(self, key: str) -> str | None:
        return None

    def image_url(self, asset_path: str) -> str | None:
        return None

    def attachment_url(self, asset_path: str) -> str | None:
        return None

    def heading_anchor(self, page_path: str, fragment: str) -> str | None:
        return None
