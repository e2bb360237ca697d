"""What a page becomes in BookStack: its markdown, its tags, whether it is published. Pure functions, no HTTP.

BookStack never resolves relative paths, so every relative link, image and attachment reference that
points into the docs tree is rewritten to what BookStack can serve (``/link/<id>``, a gallery URL, an
attachment URL), asked of a :class:`Resolver` the sync engine supplies. Only destination text is
replaced; every other character of the body reaches BookStack as written (after BookStack's own trim).
The Markdown is located by :mod:`bookstack_sync.markdown.links` (pulldown-cmark's events).
"""

from __future__ import annotations

import html
import multiprocessing
import os
import posixpath
import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, quote_plus, unquote

from ..docs.diagnostics import Diagnostic, Rule, error, warning
from ..docs.structure import Structure
from ..docs.tree import DocsTree, PageSource
from .forge_markdown import forge_to_bookstack
from .links import DestForm, Destination, HeadingBlock, scan

# ------------------------------------------------------------------------------------------ model


class RefKind(StrEnum):
    PAGE = "page"
    FOLDER = "folder"
    IMAGE = "image"
    ATTACHMENT = "attachment"


@dataclass(frozen=True)
class Reference:
    """One relative link or image in a page body that points into the docs tree."""

    kind: RefKind
    target: str  # page path / folder key / asset path, relative to docs_dir
    fragment: str | None  # "#section" without '#', for page links
    line: int  # line of the page file


class Resolver(Protocol):
    """What the sync engine knows at write time. ``None`` means "not created yet"."""

    def page_url(self, page_path: str) -> str | None: ...

    def folder_url(self, key: str) -> str | None: ...

    def image_url(self, asset_path: str) -> str | None: ...

    def attachment_url(self, asset_path: str) -> str | None: ...

    def heading_anchor(self, page_path: str, fragment: str) -> str | None: ...


@dataclass(frozen=True)
class RenderedPage:
    markdown: str  # what BookStack receives, already trimmed as BookStack trims every input
    unresolved: tuple[Reference, ...]  # references the resolver could not resolve yet
    warnings: tuple[str, ...]


# BookStack takes these for gallery images: `image_extension` + `mimes:jpeg,png,gif,webp`
# (app/Http/Controller.php getImageValidationRules, app/Uploads/ImageService.php).
IMAGE_EXTENSIONS = frozenset({"gif", "jpeg", "jpg", "png", "webp"})
DEPRECATED_NOTICE = "This page is deprecated."

# ------------------------------------------------------------------------------------------ status and tags


def is_published(page: PageSource, *, publish_drafts: bool) -> bool:
    """Drafts are validated but only published when ``publish_drafts`` is set."""
    return publish_drafts or page.frontmatter.get("status") != "draft"


_FIELD_TAGS = ("last_updated", "author", "version", "status", "toc", "search_exclude")


def page_tags(page: PageSource) -> list[dict[str, str]]:
    """BookStack tags of a page: its ``tags`` in order (blank and repeated ones dropped), then metadata fields.

    A tag is a name (``networking``: no value) or a one-key mapping (``{topic: api}``: name and value).
    ``toc`` and ``search_exclude`` are recorded as tags because BookStack has no per-page switch for them.
    """
    tags: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    raw_tags = page.frontmatter.get("tags")
    if isinstance(raw_tags, list):
        for raw in raw_tags:
            pairs = list(raw.items()) if isinstance(raw, dict) else [(raw, "")]
            for raw_name, raw_value in pairs:
                name, value = str(raw_name).strip(), _tag_value(raw_value)
                if name and (name, value) not in seen:
                    seen.add((name, value))
                    tags.append({"name": name, "value": value})
    for key in _FIELD_TAGS:
        field_value = page.frontmatter.get(key)
        if field_value is None or field_value == "":
            continue
        tags.append({"name": key, "value": _tag_value(field_value)})
    if page.frontmatter.get("deprecated") is True:
        tags.append({"name": "deprecated", "value": ""})
    return tags


def _tag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


# ------------------------------------------------------------------------------------------ BookStack ids


class _Element:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Element | str] = []

    def text(self) -> str:
        # without recursion: a page may nest elements thousands deep
        out: list[str] = []
        pending: list[_Element | str] = [self]
        while pending:
            node = pending.pop()
            if isinstance(node, str):
                out.append(node)
            else:
                pending.extend(reversed(node.children))
        return "".join(out)


_VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


class _TreeBuilder(HTMLParser):
    """A DOM-ish tree of HTML: enough to read each element's text content and id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("body", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _dom(skeleton: str) -> _Element:
    builder = _TreeBuilder()
    builder.feed(skeleton)
    builder.close()
    return builder.root


# PHP's trim() default character list, and PCRE's \s without the /u flag (ASCII whitespace only).
_PHP_TRIM = " \t\n\r\0\x0b"
_PCRE_SPACES = re.compile(r"[ \t\n\x0b\x0c\r]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _php_urlencode(text: str) -> str:
    # PHP urlencode: RFC 1738 style, keeps only [A-Za-z0-9_.-], space -> '+', so '~' is encoded too
    return quote_plus(text, safe="").replace("~", "%7E")


def bookstack_id_base(text: str) -> str:
    """``bkmrk-`` + the first 20 characters of an element's text, as BookStack builds it (before urlencode).

    BookStack ``PageContent::setUniqueId`` (app/Entities/Tools/PageContent.php):
    ``'bkmrk-' . mb_substr(strtolower(preg_replace('/\\s+/', '-', trim($nodeValue))), 0, 20)``.
    ``strtolower`` lowercases ASCII only and ``\\s`` without ``/u`` is ASCII whitespace, so a non-breaking
    space or ``É`` survive as they are (then urlencoded).
    """
    slugged = _PCRE_SPACES.sub("-", text.strip(_PHP_TRIM)).translate(_ASCII_LOWER)
    return "bkmrk-" + slugged[:20]


def _assign_ids(root: _Element) -> list[tuple[_Element, str, str]]:
    """Mirror ``PageContent::updateIdsRecursively``: (element, id it had, id BookStack gives it), in order.

    Top-level elements, headings at any depth and any element with an id get one; pre-order, so a
    block quote takes its id before the heading inside it. A taken id gets ``-1``, ``-2``...
    """
    used: set[str] = set()
    out: list[tuple[_Element, str, str]] = []

    def unique(element: _Element) -> str:
        existing = element.attrs.get("id", "")
        if existing.startswith("bkmrk") and existing not in used:
            used.add(existing)
            return existing
        base = bookstack_id_base(element.text())
        new_id = _php_urlencode(base)
        index = 1
        while new_id in used:
            new_id = _php_urlencode(f"{base}-{index}")
            index += 1
        used.add(new_id)
        return new_id

    # pre-order without recursion (a page may nest elements thousands deep)
    pending: list[tuple[_Element, bool]] = [(c, True) for c in reversed(root.children) if isinstance(c, _Element)]
    while pending:
        child, top = pending.pop()
        # PHP: `$child->getAttribute('id')` is truthy, so an id of "0" counts as none
        if top or child.tag in _HEADING_TAGS or child.attrs.get("id", "") not in ("", "0"):
            old = child.attrs.get("id", "")
            new = unique(child)
            child.attrs["id"] = new
            out.append((child, old, new))
        pending.extend((c, False) for c in reversed(child.children) if isinstance(c, _Element))
    return out


def github_slug(text: str) -> str:
    """A heading's anchor as GitHub (github-slugger) makes it: lowercase, punctuation dropped, spaces to '-'."""
    kept = []
    for ch in text.lower():
        category = unicodedata.category(ch)
        if ch in " -" or category[0] in "LMN" or category == "Pc":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


@dataclass(frozen=True)
class _Anchors:
    by_key: Mapping[str, str]  # GitHub slug of a heading, or an id written in raw HTML -> BookStack id
    ids: frozenset[str]  # every id BookStack gives an element of the page


@lru_cache(maxsize=512)
def _anchors(markdown: str) -> _Anchors:
    root = _dom(scan(markdown).skeleton)
    assigned = _assign_ids(root)
    by_key: dict[str, str] = {}
    occurrences: dict[str, int] = {}
    for element, _old, new in assigned:
        if element.tag in _HEADING_TAGS and "data-md-heading" in element.attrs:
            slug = _dedupe_slug(github_slug(element.text().strip()), occurrences)
            if slug:
                by_key.setdefault(slug, new)
    for _element, old, new in assigned:
        # an id written in raw HTML is renamed by BookStack; links to the old name follow it
        if old and old != new:
            by_key.setdefault(old, new)
    return _Anchors(by_key, frozenset(new for _e, _o, new in assigned))


def _dedupe_slug(slug: str, occurrences: dict[str, int]) -> str:
    # github-slugger: "x", "x-1", "x-2"..., skipping suffixes another heading already took
    original = slug
    while slug in occurrences:
        occurrences[original] += 1
        slug = f"{original}-{occurrences[original]}"
    occurrences[slug] = 0
    return slug


def heading_ids(markdown: str) -> dict[str, str]:
    """GitHub-style slug of each Markdown heading -> the ``bkmrk-`` id BookStack gives that heading.

    ``markdown`` is what BookStack receives; every top-level block takes an id in document order,
    so a paragraph whose first 20 characters equal a heading's pushes that heading to ``-1``.
    """
    root = _dom(scan(markdown).skeleton)
    found: dict[str, str] = {}
    occurrences: dict[str, int] = {}
    for element, _old, new in _assign_ids(root):
        if element.tag in _HEADING_TAGS and "data-md-heading" in element.attrs:
            slug = _dedupe_slug(github_slug(element.text().strip()), occurrences)
            if slug:
                found.setdefault(slug, new)
    return found


def _match_fragment(fragment: str, anchors: _Anchors) -> str | None:
    if fragment.startswith("bkmrk") and fragment in anchors.ids:
        return fragment
    for key in (fragment, fragment.lower(), github_slug(fragment)):
        if key in anchors.by_key:
            return anchors.by_key[key]
    return None


# ------------------------------------------------------------------------------------------ preparing a body

# Laravel's TrimStrings middleware trims every input: Unicode whitespace, BOM and zero-width space.
_TRIM = " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u200b"


def _norm_title(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class _Prepared:
    """A page's markdown before its references are rewritten, and how to find file lines in it."""

    text: str
    prefix_len: int  # characters generated by us at the start (callout, redirect body)
    body_offset: int  # offset in page.body of text[prefix_len]
    prefix_line: int  # file line reported for references in the generated part


_BLANK_LINES = re.compile(r"(?:[ \t]*\n)*")
_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|$)")


def _title_cut(page: PageSource, strip_title_heading: bool) -> int:
    """Offset in the body after a leading H1 equal to the title (0 when there is none to drop)."""
    if not strip_title_heading or not page.title:
        return 0
    # the first block ends at the first blank line at the latest: scanning up to there is enough
    lead = _BLANK_LINES.match(page.body)
    assert lead is not None
    gap = _BLANK_LINE.search(page.body, lead.end())
    chunk = page.body if gap is None else page.body[: gap.end()]
    if "#" not in chunk and "=" not in chunk:
        return 0  # an H1 is "# ..." or underlined with "="
    result = scan(chunk)
    first: HeadingBlock | None = result.first_block
    if first is None or first.level != 1:
        return 0
    title = _norm_title(page.title)
    # the rendered text (the skeleton) only when the source differs, e.g. "# *Setup*" for "Setup"
    if _norm_title(first.text) != title and _norm_title(_heading_plain_text(result.skeleton)) != title:
        return 0
    return first.end


def _heading_plain_text(skeleton: str) -> str:
    for child in _dom(skeleton).children:
        if isinstance(child, _Element) and "data-md-heading" in child.attrs:
            return child.text()
    return ""


def _prepare(page: PageSource, tree: DocsTree, *, strip_title_heading: bool = True) -> _Prepared:
    prefix_parts: list[str] = []
    redirect = page.frontmatter.get("redirect_to")
    page_dir = posixpath.dirname(page.path)
    redirect_link: tuple[str, str] | None = None
    if isinstance(redirect, str) and redirect.strip():
        target = redirect_target(page, tree)
        if target is not None:
            title = _page_title(tree, target)
            rel = posixpath.relpath(target, page_dir or ".")
            fragment = redirect.strip().partition("#")[2]
            redirect_link = (quote(rel, safe="/._-~") + (f"#{fragment}" if fragment else ""), title)
        else:
            redirect_link = (redirect.strip(), redirect.strip())
    if page.frontmatter.get("deprecated") is True:
        notice = DEPRECATED_NOTICE
        if redirect_link is not None:
            href, title = redirect_link
            notice += f' See <a href="{html.escape(href)}">{html.escape(title, quote=False)}</a>.'
        prefix_parts.append(f'<p class="callout warning">{notice}</p>')
    if redirect_link is not None:
        href, title = redirect_link
        prefix_parts.append(f"This page has moved to [{_escape_link_text(title)}]({href}).")
        prefix = "\n\n".join(prefix_parts)
        line = page.line_of("redirect_to")
        return _Prepared(prefix, len(prefix), len(page.body), line)

    cut = _title_cut(page, strip_title_heading)
    body = page.body[cut:]
    if prefix_parts:
        prefix = "\n\n".join(prefix_parts) + "\n\n"
        skip = re.match(r"(?:[ \t]*\n)*", body)
        assert skip is not None
        rest = body[skip.end() :].rstrip(_TRIM)
        text = prefix + rest if rest else prefix.rstrip(_TRIM)
        return _Prepared(text, len(prefix), cut + skip.end(), page.line_of("deprecated"))
    lead = len(body) - len(body.lstrip(_TRIM))
    return _Prepared(body.strip(_TRIM), 0, cut + lead, page.frontmatter_line)


def _escape_link_text(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>&!~|])", r"\\\1", text)


def _page_title(tree: DocsTree, path: str) -> str:
    page = _index(tree).pages.get(path)
    return path if page is None else page.title or page.stem


def redirect_target(page: PageSource, tree: DocsTree) -> str | None:
    """The page ``redirect_to`` names: a path relative to the page's folder, else to docs_dir."""
    raw = page.frontmatter.get("redirect_to")
    if not isinstance(raw, str) or not raw.strip():
        return None
    path = unquote(raw.strip().partition("#")[0])
    pages = _index(tree).pages
    page_dir = posixpath.dirname(page.path)
    # relative to the page first; a leading "/" can only mean the docs folder
    bases = ("",) if path.startswith("/") else (page_dir, "")
    for base in bases:
        for candidate in (path.lstrip("/"), path.lstrip("/") + ".md"):
            joined = posixpath.normpath(posixpath.join(base, candidate))
            if joined in pages and joined != page.path:
                return joined
    return None


def _line_of(page: PageSource, prepared: _Prepared, offset: int) -> int:
    if offset < prepared.prefix_len:
        return prepared.prefix_line
    body_offset = prepared.body_offset + (offset - prepared.prefix_len)
    return page.body_line + page.body.count("\n", 0, body_offset)


# ------------------------------------------------------------------------------------------ classifying


@dataclass(frozen=True)
class _Target:
    kind: RefKind
    path: str  # normalised, relative to docs_dir
    fragment: str | None
    outside: bool  # the path climbs out of the docs tree
    same_page: bool = False  # a pure "#anchor"


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def classify_destination(
    url: str, page_path: str, image: bool, folder_keys: frozenset[str], root: Path
) -> _Target | None:
    """What a destination points at, or None when it is not ours to rewrite (external, absolute, empty)."""
    if not url or _SCHEME.match(url) or url.startswith("/"):
        return None  # schemes (https:, mailto:, data:), protocol-relative and absolute paths on the wiki
    raw_path, hash_mark, raw_fragment = url.partition("#")
    fragment = unquote(raw_fragment) if hash_mark and raw_fragment else None
    raw_path = raw_path.partition("?")[0]
    if not raw_path:
        if fragment is None:
            return None
        return _Target(RefKind.PAGE, page_path, fragment, outside=False, same_page=True)
    decoded = unquote(raw_path)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), decoded))
    outside = joined == ".." or joined.startswith("../")
    extension = decoded.rpartition(".")[2].lower() if "." in posixpath.basename(decoded) else ""
    if image:
        kind = RefKind.IMAGE
    elif extension == "md":
        kind = RefKind.PAGE
    elif decoded.endswith("/") or joined in folder_keys or (not outside and (root / joined).is_dir()):
        kind = RefKind.FOLDER
    elif extension in IMAGE_EXTENSIONS:
        kind = RefKind.IMAGE  # a plain link to an image file goes to its gallery copy
    else:
        kind = RefKind.ATTACHMENT
    return _Target(kind, joined, fragment, outside)


@dataclass(frozen=True)
class _Index:
    """Look-ups over a tree, built once: rendering a page must not cost a walk over every page."""

    pages: Mapping[str, PageSource]
    folder_keys: frozenset[str]


_INDEX_CACHE: list[tuple[DocsTree, tuple[int, int, int], _Index]] = []


def _index(tree: DocsTree) -> _Index:
    # A tree is not mutated once discovered; the fingerprint still catches pages added in tests.
    fingerprint = (len(tree.pages), len(tree.assets), id(tree.pages[-1]) if tree.pages else 0)
    for cached_tree, cached_print, index in _INDEX_CACHE:
        if cached_tree is tree and cached_print == fingerprint:
            return index
    keys: set[str] = set()
    for shelf in {id(page.folder.shelf): page.folder.shelf for page in tree.pages}.values():
        keys.add(shelf.key)
        for book in shelf.books:
            keys.add(book.key)
            keys.update(chapter.key for chapter in book.chapters)
    index = _Index({page.path: page for page in tree.pages}, frozenset(keys))
    _INDEX_CACHE[:] = [*_INDEX_CACHE[-3:], (tree, fingerprint, index)]
    return index


def _tree_folder_keys(tree: DocsTree) -> frozenset[str]:
    return _index(tree).folder_keys


def _structure_folder_keys(structure: Structure) -> frozenset[str]:
    return frozenset(structure.shelf_and_book_keys() | set(structure.folder_index()))


def _exists(target: _Target, tree: DocsTree, folder_keys: frozenset[str]) -> bool:
    if target.outside:
        return False
    if target.kind is RefKind.PAGE:
        return target.path in _index(tree).pages
    if target.kind is RefKind.FOLDER:
        return target.path in folder_keys
    return target.path in tree.assets


@dataclass(frozen=True)
class _Found:
    dest: Destination
    target: _Target
    line: int
    generated: bool  # in the callout or redirect body we wrote, not in the author's text


def _references(page: PageSource, tree: DocsTree, prepared: _Prepared, folder_keys: frozenset[str]) -> Iterator[_Found]:
    for dest in scan(prepared.text).destinations:
        target = classify_destination(dest.url, page.path, dest.image, folder_keys, tree.root)
        if target is not None:
            yield _Found(dest, target, _line_of(page, prepared, dest.start), dest.start < prepared.prefix_len)


def find_references(page: PageSource, tree: DocsTree) -> list[Reference]:
    """Relative links and images of the page as published whose target exists in the tree, in order.

    Broken ones are left out (validation reports them); so are pure ``#anchors``. A redirect page's
    reference is its target; a deprecated page's callout link counts too.
    """
    folder_keys = _tree_folder_keys(tree)
    prepared = _prepare(page, tree)
    found: list[Reference] = []
    for item in _references(page, tree, prepared, folder_keys):
        target = item.target
        if target.same_page or not _exists(target, tree, folder_keys):
            continue
        fragment = target.fragment if target.kind is RefKind.PAGE else None
        found.append(Reference(target.kind, target.path, fragment, item.line))
    return found


# ------------------------------------------------------------------------------------------ rendering


def render_page(
    page: PageSource,
    tree: DocsTree,
    resolver: Resolver,
    *,
    strip_title_heading: bool = True,
    forge_markdown: bool = True,
) -> RenderedPage:
    """The markdown BookStack receives for ``page``: body only, references rewritten through ``resolver``,
    then (``forge_markdown``) alerts, footnotes and bare URLs in BookStack's own Markdown."""
    folder_keys = _tree_folder_keys(tree)
    prepared = _prepare(page, tree, strip_title_heading=strip_title_heading)
    text = prepared.text
    replacements: list[tuple[Destination, str]] = []
    unresolved: list[Reference] = []
    warnings: list[str] = []
    for item in _references(page, tree, prepared, folder_keys):
        target, line = item.target, item.line
        if target.same_page:
            assert target.fragment is not None
            anchor = _anchor_for(page.path, target.fragment, resolver, lambda: _anchors(text))
            if anchor is None:
                if f'id="{target.fragment}"' not in text:
                    warnings.append(f"line {line}: in-page link #{target.fragment} matches no heading; left as is")
            elif anchor != target.fragment:
                replacements.append((item.dest, "#" + anchor))
            continue
        if target.outside:
            warnings.append(f"line {line}: {item.dest.url} points outside the docs tree; left as is")
            continue
        if not _exists(target, tree, folder_keys):
            warnings.append(f"line {line}: {item.dest.url} points at nothing in the docs tree; left as is")
            continue
        reference = Reference(target.kind, target.path, target.fragment if target.kind is RefKind.PAGE else None, line)
        url = _resolve(reference, target.fragment, tree, resolver, warnings)
        if url is None:
            unresolved.append(reference)
            continue
        replacements.append((item.dest, url))
    markdown = apply_replacements(text, replacements)
    if forge_markdown:
        markdown = forge_to_bookstack(markdown).rstrip(_TRIM)
    return RenderedPage(markdown, tuple(unresolved), tuple(warnings))


def _anchor_for(page_path: str, fragment: str, resolver: Resolver, anchors: Callable[[], _Anchors]) -> str | None:
    override = resolver.heading_anchor(page_path, fragment)
    if override is not None:
        return override.lstrip("#")
    return _match_fragment(fragment, anchors())


def _resolve(
    reference: Reference, fragment: str | None, tree: DocsTree, resolver: Resolver, warnings: list[str]
) -> str | None:
    kind = reference.kind
    if kind is RefKind.PAGE:
        url = resolver.page_url(reference.target)
        if url is None or reference.fragment is None:
            return url
        target_page = _index(tree).pages[reference.target]
        anchor = _anchor_for(
            reference.target, reference.fragment, resolver, lambda: _anchors(_prepare(target_page, tree).text)
        )
        if anchor is None:
            warnings.append(
                f"line {reference.line}: #{reference.fragment} matches no heading of {reference.target}; "
                "the link goes to the top of the page"
            )
            return url
        return f"{url}#{anchor}"
    if kind is RefKind.FOLDER:
        return resolver.folder_url(reference.target)
    url = resolver.image_url(reference.target) if kind is RefKind.IMAGE else resolver.attachment_url(reference.target)
    if url is not None and fragment and kind is RefKind.ATTACHMENT:
        url += "#" + fragment  # e.g. a PDF page: viewers read it
    return url


def apply_replacements(text: str, replacements: Iterable[tuple[Destination, str]]) -> str:
    """``text`` with each destination replaced by its new URL, escaped for how it is written."""
    out: list[str] = []
    at = 0
    for dest, url in sorted(replacements, key=lambda r: r[0].start):
        out.append(text[at : dest.start])
        out.append(_escape_destination(url, dest))
        at = dest.end
    out.append(text[at:])
    return "".join(out)


def _escape_destination(url: str, dest: Destination) -> str:
    safe = quote(url, safe="!#$%&'()*+,/:;=?@[]~-._")
    if dest.form is DestForm.HTML:
        return html.escape(safe, quote=True)
    # an '&' that reads as an entity reference, or parentheses in a bare destination, would change the URL
    safe = re.sub(r"&(?=#?[A-Za-z0-9]+;)", r"\\&", safe)
    if dest.form is DestForm.BARE:
        safe = safe.replace("(", "%28").replace(")", "%29")
    return safe


# ------------------------------------------------------------------------------------------ validation


# Pages are checked in two processes from this many on: below it, starting one costs more than it saves.
PARALLEL_MIN_PAGES = 2000


def check_references(tree: DocsTree, structure: Structure, *, max_upload_mb: int = 50) -> list[Diagnostic]:
    """Link checking for ``validate``: every relative link, image and ``redirect_to`` of every page.

    Pages are independent, so a large tree is split among the CPUs (see :func:`_parallel_workers`);
    the diagnostics are the same, in the same order, either way.
    """
    limit = upload_limit(max_upload_mb)
    ordered = checking_order(tree)
    workers = _parallel_workers(len(ordered))
    if workers > 1:
        found = _check_in_parallel(tree, structure, limit, ordered, workers)
        if found is not None:
            return found
    return _check_pages(tree, structure, limit, ordered)


def upload_limit(max_upload_mb: int) -> int:
    """The largest file size BookStack takes: Laravel `max:<MB*1000>` on files counts kilobytes of 1024 bytes."""
    return max_upload_mb * 1000 * 1024


def checking_order(tree: DocsTree) -> list[PageSource]:
    """The order :func:`check_references` reports pages in (by path)."""
    return sorted(tree.pages, key=lambda p: p.path)


def check_page_references(
    tree: DocsTree, structure: Structure, pages: list[PageSource], *, max_upload_mb: int = 50
) -> list[Diagnostic]:
    """:func:`check_references` of some of the tree's pages, in one process: for callers that split the
    tree themselves (concatenating the parts of :func:`checking_order` gives the same list)."""
    return _check_pages(tree, structure, upload_limit(max_upload_mb), pages)


def _check_pages(tree: DocsTree, structure: Structure, limit: int, ordered: list[PageSource]) -> list[Diagnostic]:
    folder_keys = _structure_folder_keys(structure)
    pages = {page.path: page for page in tree.pages}
    found: list[Diagnostic] = []
    anchors_cache: dict[str, _Anchors] = {}
    for page in ordered:
        found.extend(_check_redirect(page, tree))
        prepared = _prepare(page, tree)
        for item in _references(page, tree, prepared, folder_keys):
            if item.target.same_page or item.generated:
                continue  # generated links come from redirect_to, checked above
            found.extend(_check_one(page, item, tree, pages, folder_keys, limit, anchors_cache))
    return found


def _parallel_workers(page_count: int) -> int:
    """How many processes check the pages: 1 unless the tree is large and a fork is safe and cheap.

    Only on Linux (fork is the platform's default there and starts at once, sharing the parsed tree
    without pickling it) and only from a process with no other thread running (a fork copies locks
    another thread may hold).
    """
    if page_count < PARALLEL_MIN_PAGES or sys.platform != "linux" or threading.active_count() > 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except OSError:
        return 1
    return max(1, min(cpus, page_count // (PARALLEL_MIN_PAGES // 2)))


# What a forked checker works on: set in the parent just before the fork, inherited, never pickled.
_FORKED: tuple[DocsTree, Structure, int, list[PageSource]] | None = None


def _check_slice(start: int, stop: int) -> list[Diagnostic]:
    assert _FORKED is not None
    tree, structure, limit, ordered = _FORKED
    return _check_pages(tree, structure, limit, ordered[start:stop])


def _check_in_parallel(
    tree: DocsTree, structure: Structure, limit: int, ordered: list[PageSource], workers: int
) -> list[Diagnostic] | None:
    """The pages in ``workers`` contiguous slices, the first checked here, the others in forked processes.

    None when the processes cannot be started or fail: the caller then checks every page itself.
    """
    global _FORKED
    bounds = [len(ordered) * k // workers for k in range(workers + 1)]
    _FORKED = (tree, structure, limit, ordered)
    try:
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_check_slice, bounds[k], bounds[k + 1]) for k in range(1, workers)]
            found = _check_pages(tree, structure, limit, ordered[: bounds[1]])
            for future in futures:
                found.extend(future.result())
        return found
    except (OSError, BrokenProcessPool):
        return None
    finally:
        _FORKED = None


def _check_redirect(page: PageSource, tree: DocsTree) -> Iterator[Diagnostic]:
    raw = page.frontmatter.get("redirect_to")
    if not isinstance(raw, str) or not raw.strip():
        return
    if redirect_target(page, tree) is None:
        yield error(
            page.path,
            page.line_of("redirect_to"),
            Rule.REDIRECT_TARGET,
            f"redirect_to {raw.strip()!r} names no other page of the docs tree (give its path relative to "
            "this page or to the docs folder)",
        )


def _check_one(
    page: PageSource,
    item: _Found,
    tree: DocsTree,
    pages: Mapping[str, PageSource],
    folder_keys: frozenset[str],
    limit: int,
    anchors_cache: dict[str, _Anchors],
) -> Iterator[Diagnostic]:
    target, line, url = item.target, item.line, item.dest.url
    is_image = target.kind is RefKind.IMAGE
    if target.outside:
        if is_image:
            yield error(page.path, line, Rule.IMAGE_BROKEN, f"image {url} is outside the docs tree; move it inside")
        else:
            yield error(
                page.path,
                line,
                Rule.LINK_BROKEN,
                f"link {url} points outside the docs tree, which BookStack cannot resolve; use an https:// URL",
            )
        return
    if target.kind is RefKind.PAGE:
        if target.path not in pages:
            if target.path in tree.page_files:
                why = "cannot be published (see its own errors)"
            elif (tree.root / target.path).is_file():
                why = "is not a page of the hierarchy (see `bookstack-sync paths`)"
            else:
                why = "does not exist"
            yield error(page.path, line, Rule.LINK_BROKEN, f"link {url}: {target.path} {why}")
            return
        if target.fragment is not None:
            if target.path not in anchors_cache:
                anchors_cache[target.path] = _anchors(_prepare(pages[target.path], tree).text)
            if _match_fragment(target.fragment, anchors_cache[target.path]) is None:
                yield warning(
                    page.path,
                    line,
                    Rule.LINK_BROKEN,
                    f"link {url}: no heading of {target.path} matches #{target.fragment}; "
                    "the link will go to the top of the page",
                )
        return
    if target.kind is RefKind.FOLDER:
        if target.path not in folder_keys:
            yield error(
                page.path,
                line,
                Rule.LINK_BROKEN,
                f"link {url}: {target.path or '.'} is not a shelf, book or chapter folder of the structure",
            )
        return
    asset = tree.assets.get(target.path)
    if asset is None:
        if (tree.root / target.path).is_file():
            why = "is not part of the docs content (the structure folder, an ignored path or a refused symlink)"
        else:
            why = "does not exist"
        rule = Rule.IMAGE_BROKEN if is_image else Rule.LINK_BROKEN
        yield error(page.path, line, rule, f"{'image' if is_image else 'link'} {url}: {target.path} {why}")
        return
    if is_image:
        problem = _image_problem(asset.file, target.path)
        if problem is not None:
            yield error(page.path, line, Rule.IMAGE_UNSUPPORTED, f"image {url}: {problem}")
            return
    if asset.size > limit:
        yield error(
            page.path,
            line,
            Rule.FILE_TOO_LARGE,
            f"{target.path} is {asset.size / 1_000_000:.1f} MB, over the upload limit of {limit // 1024 // 1000} MB "
            "(setting `max_upload_mb`, BookStack's FILE_UPLOAD_SIZE_LIMIT)",
        )


_SIGNATURES: tuple[tuple[str, bytes], ...] = (
    ("png", b"\x89PNG\r\n\x1a\n"),
    ("jpeg", b"\xff\xd8\xff"),
    ("gif", b"GIF87a"),
    ("gif", b"GIF89a"),
)


def sniff_image(head: bytes) -> str | None:
    """The image type of a file's first bytes, among the ones BookStack accepts."""
    for name, signature in _SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _image_problem(file: Path, path: str) -> str | None:
    extension = path.rpartition(".")[2].lower() if "." in posixpath.basename(path) else ""
    if extension not in IMAGE_EXTENSIONS:
        return f"BookStack accepts .jpg/.jpeg/.png/.gif/.webp images, not {'.' + extension if extension else 'a file without extension'}"
    try:
        with file.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if sniff_image(head) is None:
        return "its content is not a JPEG, PNG, GIF or WebP image (BookStack checks the bytes, not the name)"
    return None


__all__ = [
    "DEPRECATED_NOTICE",
    "IMAGE_EXTENSIONS",
    "RefKind",
    "Reference",
    "RenderedPage",
    "Resolver",
    "apply_replacements",
    "bookstack_id_base",
    "check_references",
    "classify_destination",
    "find_references",
    "github_slug",
    "heading_ids",
    "is_published",
    "page_tags",
    "redirect_target",
    "render_page",
    "sniff_image",
]
