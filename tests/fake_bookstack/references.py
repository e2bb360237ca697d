"""BookStack's ``ReferenceUpdater``: when an item's URL changes, the pages linking to it are saved again.

Settled from the source (v25.02 and v26.03; ``BaseRepo::update``, ``BookChild::changeBook`` /
``ParentChanger::changeBook``, ``References/ReferenceUpdater.php``, ``CrossLinkParser``): a rename (a new
slug) or a move to another book changes an item's URL; every page holding a link that resolves to it —
an ``<a href>`` starting with BookStack's own address (``APP_URL``): ``/books/<book>[/page|/chapter/<slug>]``,
``/shelves/<slug>`` or a page's ``/link/<id>``; for a book, also links to its chapters and pages — is
then saved once per changed item: the old URL replaced by the new one in its hrefs (``str_ireplace``)
and its markdown links, ``revision_count`` + 1, a new ``updated_at``, ``updated_by`` kept (nothing sets
it), and a new revision. A relative link (``/link/5``) is no reference: it never matches ``APP_URL``.
Descriptions of shelves, books and chapters that link are left out here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Api

_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.I)


@dataclass(frozen=True)
class Target:
    kind: str  # page | chapter | book | shelf
    item_id: int
    url: str
    permalinks: tuple[str, ...]  # /link/<id> of the page, or of a book's pages


def url_of(api: Api, kind: str, item: Any) -> str:
    if kind == "page":
        return api.page_url(item)
    if kind == "chapter":
        return api.chapter_url(item)
    if kind == "book":
        return api.book_url(item)
    return api.url(f"/shelves/{item.slug}")


def targets(api: Api, kind: str, item: Any) -> list[Target]:
    """The items whose URL a change of ``item`` may change, each with its URL now: the item; for a chapter
    its pages too (a move takes them along)."""
    found = [_target(api, kind, item)]
    if kind == "chapter":
        found += [_target(api, "page", p) for p in api.store.pages.values() if p.chapter_id == item.id]
    return found


def _target(api: Api, kind: str, item: Any) -> Target:
    if kind == "page":
        links: tuple[str, ...] = (api.url(f"/link/{item.id}"),)
    elif kind == "book":
        links = tuple(api.url(f"/link/{p.id}") for p in api.store.pages.values() if p.book_id == item.id)
    else:
        links = ()
    return Target(kind, item.id, url_of(api, kind, item), links)


def update_references(api: Api, before: list[Target]) -> None:
    """After a change: the pages linking to each item whose URL changed are saved with the new URL."""
    tables: dict[str, dict[int, Any]] = {
        "page": api.store.pages,
        "chapter": api.store.chapters,
        "book": api.store.books,
        "shelf": api.store.shelves,
    }
    for old in before:
        item = tables[old.kind].get(old.item_id)
        if item is None:
            continue
        new_url = url_of(api, old.kind, item)
        if new_url == old.url:
            continue
        for page in list(api.store.pages.values()):
            if not page.draft and any(_resolves(href, old) for href in _hrefs(page.html)):
                _rewrite(api, page, old.url, new_url)


def _hrefs(html: str) -> list[str]:
    return [match.group(2) for match in _HREF.finditer(html)]


def _resolves(href: str, target: Target) -> bool:
    """Whether ``CrossLinkParser`` would take the link for the target (or, for a book, anything in it)."""
    lowered = href.lower()
    for link in target.permalinks:
        if re.match(re.escape(link.lower()) + r"(?!\d)", lowered):
            return True
    return re.match(re.escape(target.url.lower()) + r"(?![\w-])", lowered) is not None


def _rewrite(api: Api, page: Any, old_url: str, new_url: str) -> None:
    """``ReferenceUpdater::updateReferencesWithinPage``."""
    swap = re.compile(re.escape(old_url), re.I)
    page.html = _HREF.sub(lambda m: m.group(1) + swap.sub(lambda _: new_url, m.group(2)) + m.group(3), page.html)
    if page.markdown:
        old = re.escape(old_url)
        markdown = re.sub(
            r"(\[.*?\]\()" + old + r"(.*?\))", lambda m: m.group(1) + new_url + m.group(2), page.markdown, flags=re.I
        )
        page.markdown = re.sub(
            r"(\[.*?\]:\s?)" + old + r"(.*?)($|\s)",
            lambda m: m.group(1) + new_url + m.group(2) + m.group(3),
            markdown,
            flags=re.I,
        )
    page.revision_count += 1
    page.updated_at = api.store.now()
