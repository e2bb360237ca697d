"""Heading ids: the ``id`` BookStack gives each heading (its ``bkmrk-`` form, computed as BookStack's PHP
does) and GitHub's anchor slugs, so a link's ``#fragment`` written for the forge finds its heading in BookStack.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import quote_plus

from .links import plain_heading_texts, scan


class HtmlElement:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[HtmlElement | str] = []

    def text(self) -> str:
        # without recursion: a page may nest elements thousands deep
        out: list[str] = []
        pending: list[HtmlElement | str] = [self]
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
        self.root = HtmlElement("body", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = HtmlElement(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(HtmlElement(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def html_tree(skeleton: str) -> HtmlElement:
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


def _assign_ids(root: HtmlElement) -> list[tuple[HtmlElement, str, str]]:
    """Mirror ``PageContent::updateIdsRecursively``: (element, id it had, id BookStack gives it), in order.

    Top-level elements, headings at any depth and any element with an id get one; pre-order, so a
    block quote takes its id before the heading inside it. A taken id gets ``-1``, ``-2``...
    """
    used: set[str] = set()
    out: list[tuple[HtmlElement, str, str]] = []

    def unique(element: HtmlElement) -> str:
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
    pending: list[tuple[HtmlElement, bool]] = [(c, True) for c in reversed(root.children) if isinstance(c, HtmlElement)]
    while pending:
        child, top = pending.pop()
        # PHP: `$child->getAttribute('id')` is truthy, so an id of "0" counts as none
        if top or child.tag in _HEADING_TAGS or child.attrs.get("id", "") not in ("", "0"):
            old = child.attrs.get("id", "")
            new = unique(child)
            child.attrs["id"] = new
            out.append((child, old, new))
        pending.extend((c, False) for c in reversed(child.children) if isinstance(c, HtmlElement))
    return out


@lru_cache(maxsize=4096)  # pages repeat their headings, and links their fragments
def github_slug(text: str) -> str:
    """A heading's anchor as GitHub (github-slugger) makes it: lowercase, punctuation dropped, spaces to '-'."""
    kept = []
    for ch in text.lower():
        category = unicodedata.category(ch)
        if ch in " -" or category[0] in "LMN" or category == "Pc":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


@dataclass(frozen=True)
class Anchors:
    by_key: Mapping[str, str]  # GitHub slug of a heading, or an id written in raw HTML -> BookStack id
    ids: frozenset[str]  # every id BookStack gives an element of the page


@lru_cache(maxsize=512)
def anchors_of(markdown: str) -> Anchors:
    assigned = _assign_ids(html_tree(scan(markdown).skeleton))
    by_key: dict[str, str] = {}
    headings = [(element, new) for element, _old, new in assigned if _is_markdown_heading(element)]
    for slug, (_element, new) in zip(_heading_slugs(e.text() for e, _ in headings), headings, strict=True):
        if slug:
            by_key.setdefault(slug, new)
    for _element, old, new in assigned:
        # an id written in raw HTML is renamed by BookStack; links to the old name follow it
        if old and old != new:
            by_key.setdefault(old, new)
    return Anchors(by_key, frozenset(new for _e, _o, new in assigned))


def _is_markdown_heading(element: HtmlElement) -> bool:
    return element.tag in _HEADING_TAGS and "data-md-heading" in element.attrs


def _heading_slugs(texts: Iterable[str]) -> list[str]:
    """The GitHub slug of each heading (by its text content, in document order); "" for none.

    github-slugger numbers repeats: "x", "x-1", "x-2"..., skipping suffixes another heading already took.
    """
    occurrences: dict[str, int] = {}
    slugs: list[str] = []
    for text in texts:
        slug = original = github_slug(text.strip())
        while slug in occurrences:
            occurrences[original] += 1
            slug = f"{original}-{occurrences[original]}"
        occurrences[slug] = 0
        slugs.append(slug)
    return slugs


@lru_cache(maxsize=4096)
def _plain_heading_slugs(markdown: str) -> frozenset[str] | None:
    """The heading slugs :func:`anchors_of` finds, without rendering the page, when that is exact: the page
    has no raw HTML and its headings hold only text (see :func:`plain_heading_texts`). None otherwise."""
    if "<" in markdown:
        return None
    texts = plain_heading_texts(markdown)
    if texts is None:
        return None
    return frozenset(slug for slug in _heading_slugs(texts) if slug)


def heading_ids(markdown: str) -> dict[str, str]:
    """GitHub-style slug of each Markdown heading -> the ``bkmrk-`` id BookStack gives that heading.

    ``markdown`` is what BookStack receives; every top-level block takes an id in document order,
    so a paragraph whose first 20 characters equal a heading's pushes that heading to ``-1``.
    """
    assigned = _assign_ids(html_tree(scan(markdown).skeleton))
    headings = [(element, new) for element, _old, new in assigned if _is_markdown_heading(element)]
    found: dict[str, str] = {}
    for slug, (_element, new) in zip(_heading_slugs(e.text() for e, _ in headings), headings, strict=True):
        if slug:
            found.setdefault(slug, new)
    return found


def _fragment_keys(fragment: str) -> tuple[str, str, str]:
    """What a ``#fragment`` may name, in order: a key as written, lowercased, or as a heading's slug."""
    return fragment, fragment.lower(), github_slug(fragment)


def match_fragment(fragment: str, anchors: Anchors) -> str | None:
    if fragment.startswith("bkmrk") and fragment in anchors.ids:
        return fragment
    for key in _fragment_keys(fragment):
        if key in anchors.by_key:
            return anchors.by_key[key]
    return None


def has_fragment(markdown: str, fragment: str) -> bool:
    """Whether a link to ``#fragment`` of the page BookStack receives as ``markdown`` finds its target.

    Most pages need no rendering for it: :func:`_plain_heading_slugs` holds the keys a slug can match.
    """
    slugs = None if fragment.startswith("bkmrk") else _plain_heading_slugs(markdown)
    if slugs is not None:
        return any(key in slugs for key in _fragment_keys(fragment))
    return match_fragment(fragment, anchors_of(markdown)) is not None
