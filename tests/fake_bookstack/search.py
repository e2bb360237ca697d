"""``GET /api/search``: BookStack's search syntax over the in-memory content (§4).

Supported: plain terms (prefix match on words of name and body, all terms required), ``"exact phrases"``,
tag terms ``[name]``, ``[name=value]``, ``[=value]`` with ``= != < > <= >= like`` (case-insensitive;
numeric when the search value is: see ``_compare``), ``{type:page|chapter|book|bookshelf}``,
``{updated_after:…}``, and ``-`` negation of any term, taken out of the query in BookStack's order
(``parse_query``). Other ``{filters}`` are ignored, as BookStack ignores unknown ones. Ranking is a plain score
(name hits weigh more), then type and id, so results are deterministic.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from .markdown import html_to_text
from .state import Book, Chapter, Page, Shelf, Tag, iso

if TYPE_CHECKING:
    from .api import Api

TYPE_ORDER = {"bookshelf": 0, "book": 1, "chapter": 2, "page": 3}
# SearchOptions::addOptionsFromString takes the special terms out of the query in this order, each
# pattern over what the ones before left: "exact phrases" (backslash escapes), then [tags] (a tag term
# ends at its first `]`), then {filters}; a `-` right before one negates it. What is left is split on
# spaces into plain terms.
_SPECIAL = (
    ("exact", re.compile(r'-?"((?:\\.|[^"\\])*)"')),
    ("tag", re.compile(r"-?\[(.*?)\]")),
    ("filter", re.compile(r"-?\{(.*?)\}")),
)
_WORD = re.compile(r"(-?)(\S+)")
# BookStack's TagSearchOption::getParts: the first operator after the shortest name, nothing trimmed
# (so `[name like value]` compares the value " value", with its leading space, and finds nothing).
_TAG_OP = re.compile(r"^(.*?)(<=|>=|=|<|>|like|!=)(.*)$")
# PHP's is_numeric (PHP 8: surrounding whitespace allowed): SearchRunner::applyTagSearch compares such a
# search value as a number
_PHP_NUMERIC = re.compile(r"[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*")
# MySQL casting a string to a number: its longest numeric start, else 0 ("42/docs" is 42, "abc" is 0)
_MYSQL_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@dataclass
class _Terms:
    types: set[str]
    words: list[tuple[bool, str]]  # (negated, term)
    phrases: list[tuple[bool, str]]
    tags: list[tuple[bool, str, str | None, str | None]]  # (negated, name, op, value)
    updated_after: list[tuple[bool, datetime]] = field(default_factory=list)  # {updated_after:...}


def parse_query(query: str, zone: tzinfo = UTC) -> _Terms:
    terms = _Terms(types=set(TYPE_ORDER), words=[], phrases=[], tags=[])
    rest = query
    for kind, pattern in _SPECIAL:
        for match in pattern.finditer(rest):
            negated = match.group(0).startswith("-")
            if kind == "exact":
                terms.phrases.append((negated, _decode_escapes(match.group(1)).lower()))
            elif kind == "tag":
                terms.tags.append(_tag_term(negated, match.group(1)))
            else:
                _filter_term(terms, negated, match.group(1), zone)
        rest = pattern.sub("", rest)
    for match in _WORD.finditer(rest):
        terms.words.append((bool(match.group(1)), match.group(2).lower()))
    return terms


def _decode_escapes(text: str) -> str:
    """``SearchOptions::decodeEscapes``: a backslash keeps the character after it, whatever it is."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def _tag_term(negated: bool, content: str) -> tuple[bool, str, str | None, str | None]:
    op_match = _TAG_OP.match(content)
    if op_match is None:
        return negated, content, None, None
    # MySQL's PAD SPACE collation ignores trailing spaces in `=`, so only those are dropped from the name
    name, op, value = op_match.group(1).rstrip(" "), op_match.group(2), op_match.group(3)
    if value in ("", "0"):
        # applyTagSearch: `empty($value)` (PHP: "" and "0" are empty) searches by the name alone
        return negated, name, None, None
    return negated, name, op, value


def _filter_term(terms: _Terms, negated: bool, content: str, zone: tzinfo) -> None:
    """``FilterSearchOption::fromContentString``: the name before the first `:`, the value after it."""
    name, _, value = content.partition(":")
    if name.strip().lower() == "type":
        wanted = {t.strip().lower() for t in value.split("|")} & set(TYPE_ORDER)
        terms.types = (set(TYPE_ORDER) - wanted) if negated else wanted
    elif name.strip().lower() == "updated_after":
        # SearchRunner::filterUpdatedAfter: updated_at >= date_create(value); a date is its midnight in
        # APP_TIMEZONE, compared with the stored wall time of that zone
        moment = _date_create(value.strip(), zone)
        if moment is not None:
            terms.updated_after.append((negated, moment))


def _date_create(value: str, zone: tzinfo) -> datetime | None:
    """PHP's ``date_create`` for the forms a filter takes: a date (its midnight) or an ISO datetime, in
    PHP's default timezone (BookStack's ``APP_TIMEZONE``) unless it names one."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _mysql_number(text: str) -> float:
    found = _MYSQL_NUMBER.match(text)
    return float(found.group(0)) if found else 0.0


def _compare(actual: str, op: str, wanted: str) -> bool:
    """``SearchRunner::applyTagSearch``'s comparison of a stored tag value with a search value: ``like``
    as SQL LIKE; a search value PHP calls numeric compared as numbers, the stored value cast by MySQL
    (its numeric start, else 0); anything else as text in the default collation (no case, trailing
    spaces ignored)."""
    if op == "like":
        regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in wanted)
        return re.fullmatch(regex, actual, re.I | re.S) is not None
    left: Any
    right: Any
    if _PHP_NUMERIC.fullmatch(wanted):
        left, right = _mysql_number(actual), float(wanted)
    else:
        left, right = actual.lower().rstrip(" "), wanted.lower().rstrip(" ")
    results: dict[str, bool] = {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        ">": left > right,
        "<=": left <= right,
        ">=": left >= right,
    }
    return results[op]


def _tag_matches(tags: list[Tag], name: str, op: str | None, value: str | None) -> bool:
    """Whether one of the tags fits a tag term: by name alone (``[name]``, even an empty one), else by
    its value and, unless the name is PHP-empty ("" or "0": ``[=value]``), its name."""
    for tag in tags:
        by_name = op is None or name not in ("", "0")
        if by_name and tag.name.lower().rstrip(" ") != name.lower():
            continue
        if op is None or value is None or _compare(tag.value, op, value):
            return True
    return False


def _body(item: Any) -> str:
    if isinstance(item, Page):
        return html_to_text(item.html)
    return str(getattr(item, "description", ""))


@dataclass
class _Match:
    score: int
    kind: str
    item: Any


def _matches(api: Api, terms: _Terms) -> list[_Match]:
    """Every visible item the terms select, ranked: score, then type, then id."""
    store = api.store
    candidates: list[tuple[str, Any]] = []
    if "bookshelf" in terms.types:
        candidates += [("bookshelf", s) for s in store.shelves.values()]
    if "book" in terms.types:
        candidates += [("book", b) for b in store.books.values()]
    if "chapter" in terms.types:
        candidates += [("chapter", c) for c in store.chapters.values()]
    if "page" in terms.types:
        candidates += [("page", p) for p in store.pages.values() if not p.draft]
    found: list[_Match] = []
    for kind, item in candidates:
        if any((item.updated_at >= after) == negated for negated, after in terms.updated_after):
            continue
        score = _score(item, terms)
        if score is not None:
            found.append(_Match(score, kind, item))
    found.sort(key=lambda m: (-m.score, TYPE_ORDER[m.kind], m.item.id))
    return found


def search_page(api: Api, query: str, page_no: int, count: int) -> tuple[list[dict[str, Any]], int]:
    """One page of hits and ``total``, as ``SearchRunner::searchEntities`` cuts them.

    Before v25.11 each type is its own query, paged alone (so a page holds up to 4 x ``count``) and
    ``total`` is the sum. Only search terms order the SQL (``applyTermSearch`` adds ``ORDER BY score``);
    a query of tags and filters alone has no ``ORDER BY`` in any version, and each page is a new query
    with its own ``LIMIT``/``OFFSET``, so MySQL may read page 1 through the tags index (in ``tags`` row
    order: the item whose tags were written last comes last) and later pages through the table (id
    order). With ``api.unordered_tag_search`` the fake answers so: a page can then repeat hits of
    another and miss items whose tags were just written. Seen on v25.02.4: the sync after a pull, with
    107 managed pages, found no tags on the two pages the pull had just re-tagged.
    """
    terms = parse_query(query, api.store.app_timezone)
    matches = _matches(api, terms)
    driving = next(((n, op, v) for neg, n, op, v in terms.tags if not neg), None)
    unordered = api.unordered_tag_search and not terms.words and driving is not None
    groups = [matches] if api.modern else [[m for m in matches if m.kind == kind] for kind in TYPE_ORDER]
    chosen: list[_Match] = []
    for group in groups:
        if unordered and driving is not None and page_no == 1:
            group = sorted(group, key=lambda m: _tag_row(m.item.tags, *driving))
        chosen += group[(page_no - 1) * count : page_no * count]
    if not unordered:
        rank = {id(m): n for n, m in enumerate(matches)}
        chosen.sort(key=lambda m: rank[id(m)])
    positive = [w for neg, w in terms.words if not neg] + [p for neg, p in terms.phrases if not neg]
    return [_result(api, m.kind, m.item, positive) for m in chosen], len(matches)


def _tag_row(tags: list[Tag], name: str, op: str | None, value: str | None) -> int:
    """The lowest ``tags`` row of the item's tags that the driving tag term matches."""
    return min(tag.row for tag in tags if _tag_matches([tag], name, op, value))


def _score(item: Any, terms: _Terms) -> int | None:
    """None when the item does not match; else a relevance score."""
    name, body = item.name.lower(), _body(item).lower()
    name_words = re.findall(r"\w+", name)
    body_words = re.findall(r"\w+", body)
    score = 1
    for negated, word in terms.words:
        clean = re.sub(r"\W+", "", word)
        in_name = any(w.startswith(clean) for w in name_words) if clean else False
        in_body = any(w.startswith(clean) for w in body_words) if clean else False
        if negated == (in_name or in_body):
            return None
        if not negated:
            score += 5 * in_name + sum(w.startswith(clean) for w in body_words)
    for negated, phrase in terms.phrases:
        found = phrase in name or phrase in body
        if negated == found:
            return None
        score += 3 if found else 0
    for negated, tag_name, op, value in terms.tags:
        if negated == _tag_matches(item.tags, tag_name, op, value):
            return None
    return score


def _highlight(text: str, words: list[str]) -> str:
    escaped = html.escape(text)
    for word in sorted({w for w in words if w}, key=len, reverse=True):
        escaped = re.sub(rf"(?i)\b({re.escape(html.escape(word))}\w*)", r"<strong>\1</strong>", escaped)
    return escaped


def _result(api: Api, kind: str, item: Any, words: list[str]) -> dict[str, Any]:
    store = api.store
    data: dict[str, Any]
    if isinstance(item, Page):
        data = {
            "id": item.id, "name": item.name, "slug": item.slug, "book_id": item.book_id,
            "chapter_id": store.chapter_id_out(item), "draft": item.draft, "template": item.template,
            "priority": item.priority, "created_at": iso(item.created_at), "updated_at": iso(item.updated_at),
            "url": api.page_url(item),
        }  # fmt: skip
        if api.modern and item.chapter_id is None:
            # Seen on v26.03: a hit for a page directly in a book has no chapter_id, priority or template
            # keys at all (§12). Applied from v25.11, whose one combined search query over the entities
            # table (null chapter_id) this follows from (inferred).
            for key in ("chapter_id", "priority", "template"):
                del data[key]
    elif isinstance(item, Chapter):
        data = {
            "id": item.id, "book_id": item.book_id, "slug": item.slug, "name": item.name,
            "created_at": iso(item.created_at), "updated_at": iso(item.updated_at), "url": api.chapter_url(item),
        }  # fmt: skip
    elif isinstance(item, Book):
        data = {
            "id": item.id, "slug": item.slug, "name": item.name,
            "created_at": iso(item.created_at), "updated_at": iso(item.updated_at), "url": api.book_url(item),
        }  # fmt: skip
    else:
        assert isinstance(item, Shelf)
        data = {
            "id": item.id, "slug": item.slug, "name": item.name,
            "created_at": iso(item.created_at), "updated_at": iso(item.updated_at),
            "url": api.url(f"/shelves/{item.slug}"),
        }  # fmt: skip
    data["type"] = kind
    data["tags"] = [t.as_json() for t in item.tags]
    if isinstance(item, Page | Chapter):
        book = store.books[item.book_id]
        data["book"] = {"id": book.id, "name": book.name, "slug": book.slug}
    if isinstance(item, Page) and item.chapter_id is not None:
        chapter = store.chapters[item.chapter_id]
        data["chapter"] = {"id": chapter.id, "name": chapter.name, "slug": chapter.slug}
    text = _body(item).strip()
    data["preview_html"] = {"name": _highlight(item.name, words), "content": _highlight(text[:260], words)}
    return data
