"""Reading every hit of a BookStack search when its pages cannot be trusted to add up.

``GET /api/search`` pages with ``LIMIT``/``OFFSET``, each page a new SQL query, and only search terms
order it (``SearchRunner::applyTermSearch`` adds ``ORDER BY score``). A query of tags and filters alone
has no ``ORDER BY`` in any version (before v25.11 each type is its own query; from v25.11 one query over
the ``entities`` table), so MySQL may return page 1 and page 2 in different orders: hits repeat and
others are never seen, while ``total`` still counts them. Seen on v25.02.4: with 107 managed pages, the
two whose tags had just been rewritten were on neither page.

What does hold: one answer holds every row of a query whose matches fit in it (``count`` 100, per type
before v25.11). So when paging brings fewer distinct hits than ``total``, the hits are read again in
ranges of one tag's value (``[name>=a] [name<b]``, compared as strings when the bound is not numeric),
each range small enough to come back whole, split again where it is not. Any bounds cover every value
(a value below the first bound is in the first range; else in the range of the last bound not above
it), so a split never loses a hit, whatever BookStack's collation makes of the order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

RANGE_TARGET = 80  # hits a range aims at, under an answer's 100, so the hits not seen yet fit too

# BookStack's tag operators (``TagSearchOption``): a tag name holding one cannot be searched by range
_OPERATORS = ("<=", ">=", "!=", "=", "<", ">", "like")
_TAG_TERM = re.compile(r"(?:^|\s)\[([^\]]*)\]")
# a bound is the longest start of a value without what the query syntax reads (``SearchOptions``:
# brackets, braces, quotes, spaces) or escapes
_BOUND = re.compile(r'[^\s\[\]{}"\\]+')
# PHP's is_numeric: such a bound would be compared as a number (``SearchRunner::applyTagSearch``)
_NUMERIC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def compares_as_number(value: str) -> bool:
    """Whether BookStack compares a tag term's value as a number (PHP's ``is_numeric``), not as a string."""
    return _NUMERIC.fullmatch(value) is not None


def split_tag(query: str) -> str | None:
    """The tag whose values a query's hits can be split by: the name of its first tag term that is not
    negated, preferring one without a value (``[name]``), then one with ``like``."""
    terms = [term.strip() for term in _TAG_TERM.findall(query)]
    ranked: list[tuple[int, str]] = []
    for term in terms:
        at = min((i for i in (term.find(op) for op in _OPERATORS) if i >= 0), default=-1)
        name = (term if at < 0 else term[:at]).rstrip(" ")
        if not name or any(op in name for op in _OPERATORS):
            continue
        rest = term[at:] if at >= 0 else ""
        ranked.append((0 if at < 0 else 1 if rest.startswith("like") else 2, name))
    return min(ranked)[1] if ranked else None


def range_query(query: str, tag: str, low: str | None, high: str | None) -> str:
    """``query`` restricted to hits whose ``tag`` value is at least ``low`` and below ``high``."""
    return query + (f" [{tag}>={low}]" if low is not None else "") + (f" [{tag}<{high}]" if high is not None else "")


def range_bounds(values: Iterable[str], low: str | None, high: str | None, total: int) -> list[str]:
    """Bounds that cut the values seen in ``[low, high)`` into ranges of about ``RANGE_TARGET`` of
    ``total`` hits each, at the values' quantiles; empty when the values give no bound inside."""
    candidates = []
    for value in values:
        found = _BOUND.match(value)
        bound = found.group(0) if found else ""
        if not bound or compares_as_number(bound):
            continue
        key = bound.casefold()
        if (low is None or key > low.casefold()) and (high is None or key < high.casefold()):
            candidates.append(bound)
    candidates.sort(key=str.casefold)
    pieces = max(2, math.ceil(total / RANGE_TARGET))
    bounds: list[str] = []
    for n in range(1, pieces):
        if not candidates:
            break
        bound = candidates[min(len(candidates) - 1, n * len(candidates) // pieces)]
        if not bounds or bound.casefold() > bounds[-1].casefold():
            bounds.append(bound)
    return bounds
