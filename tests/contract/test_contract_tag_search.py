"""How BookStack reads the tag terms the sync searches by: ``[bookstack-sync-tree=<tree id>]`` (ids like
``acme/handbook:docs``), ``[bookstack-sync-state]``, ``{updated_after:<date>}``.

Settled from BookStack's source, the same in v25.02 and v26.03: ``SearchOptions::addOptionsFromString``
takes ``"exact phrases"`` out of the query first, then ``[tag terms]`` (each ends at its first ``]``),
then ``{filters}`` (name before the first ``:``); ``TagSearchOption::getParts`` splits a tag term at its
first operator (``<= >= = < > like !=``) and keeps the rest whole, so ``/ : @ + . _ =`` in a value are
plain characters. ``SearchRunner::applyTagSearch`` searches by the name alone when the value is PHP-empty
(``""`` or ``"0"``), compares a value PHP's ``is_numeric`` accepts as a number (MySQL then reads each
stored value by its numeric start: ``42/docs`` is 42), and anything else with SQL ``=`` in the default
collation. ``filterUpdatedAfter`` is ``updated_at >= date_create(value)``: a date is its midnight.

Each test uses a tag name of its own run, so other objects in the wiki cannot match.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient
from tests.bookstack_target import BookStackTarget

pytestmark = pytest.mark.real_bookstack


def _tagged(bookstack: BookStackTarget, client: BookStackClient, book: Any, name: str, value: str, **extra: Any) -> int:
    payload = {
        "book_id": book["id"],
        "name": bookstack.unique_name("p"),
        "markdown": extra.pop("markdown", "Body"),
        "tags": [{"name": name, "value": value}],
        **extra,
    }
    return int(bookstack.create("pages", payload, client)["id"])


def _found(client: BookStackClient, query: str) -> list[int]:
    return sorted(int(hit["id"]) for hit in client.search(query) if hit.get("type") == "page")


def _tag_name(bookstack: BookStackTarget, what: str) -> str:
    # letters, digits and `-` only: no operator (`like` included) may hide in a tag name
    return f"bssync{what}-{bookstack.run_id}"


def test_a_tree_id_value_is_matched_whole_with_its_slashes_and_colons(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    name = _tag_name(bookstack, "tree")
    tree = f"acme/handbook-{bookstack.run_id}:docs"
    own = _tagged(bookstack, client, book, name, tree)
    _tagged(bookstack, client, book, name, f"{tree}/more")  # a longer id: another tree
    _tagged(bookstack, client, book, name, f"acme/handbook-{bookstack.run_id}")  # a prefix of it
    _tagged(bookstack, client, book, name, f"{tree}:x@y+z.w_v=u")  # every other character an id may hold
    assert _found(client, f"[{name}={tree}]") == [own]
    assert _found(client, f"[bssyncnone-{bookstack.run_id}] [{name}={tree}]") == []  # terms are ANDed
    # the value after the first operator is taken whole, `=` and `:` included
    odd = _found(client, f"[{name}={tree}:x@y+z.w_v=u]")
    assert len(odd) == 1 and odd != [own]


def test_a_name_only_term_finds_every_value_and_an_empty_or_zero_value_is_name_only(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    name = _tag_name(bookstack, "state")
    ids = sorted(
        [_tagged(bookstack, client, book, name, "v1;s=3;t=1700000000"), _tagged(bookstack, client, book, name, "x")]
    )
    assert _found(client, f"[{name}]") == ids
    assert _found(client, f"[{name}=]") == ids  # `empty($value)`: the name alone
    assert _found(client, f"[{name}=0]") == ids  # PHP's empty("0") is true too


def test_a_numeric_search_value_compares_numbers(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    """Why a tree id may not be a number (settings.check_tree_id): `[name=42]` is `value = 42` in SQL,
    and MySQL reads `42/docs` and `042` as 42."""
    name = _tag_name(bookstack, "num")
    plain = _tagged(bookstack, client, book, name, "42")
    slashed = _tagged(bookstack, client, book, name, "42/docs")
    padded = _tagged(bookstack, client, book, name, "042")
    other = _tagged(bookstack, client, book, name, "43/docs")
    assert _found(client, f"[{name}=42]") == sorted([plain, slashed, padded])
    # a value that is not a number is compared as text: whole and exact
    assert _found(client, f"[{name}=42/docs]") == [slashed]
    assert other not in _found(client, f"[{name}<43]")
    assert other in _found(client, f"[{name}<44]")


def test_quotes_are_taken_out_of_a_query_before_its_tag_terms(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    """Why a tree id may not hold `"`: `[name="x"]` is the exact phrase `x` and the tag term `[name=]`."""
    name = _tag_name(bookstack, "quote")
    word = f"zq{bookstack.run_id}"
    in_body = _tagged(bookstack, client, book, name, "something else", markdown=f"Text with {word} in it")
    _tagged(bookstack, client, book, name, word)
    assert _found(client, f'[{name}="{word}"]') == [in_body]


def test_updated_after_a_date_finds_what_changed_on_or_after_that_day(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    # whole days on each side: BookStack reads the date as midnight in its APP_TIMEZONE
    name = _tag_name(bookstack, "after")
    page = _tagged(bookstack, client, book, name, "x")
    today = datetime.now(UTC).date()
    before, after = (today - timedelta(days=2)).isoformat(), (today + timedelta(days=2)).isoformat()
    assert _found(client, f"[{name}] {{updated_after:{before}}}") == [page]
    assert _found(client, f"[{name}] {{updated_after:{after}}}") == []
    assert _found(client, f"[{name}] -{{updated_after:{after}}}") == [page]


def test_key_ranges_order_as_the_sync_cuts_them(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    """The edit path cuts ranges of ``[bookstack-sync>=a] [bookstack-sync<=b]`` by the keys' order without
    case (``plan/edit.ranges``: Python's ``str.casefold`` order). The keys' characters — lowercase letters,
    digits, ``- . /`` — must come in that order in BookStack's collation (``utf8mb4_unicode_ci``) too, or
    the ranges miss keys and the sync pays a search per key."""
    name = _tag_name(bookstack, "range")
    values = ["s/b", "s/b-c", "s/b.md", "s/b/01-a.md", "s/b0", "s/ba", "s/c"]
    ids = {value: _tagged(bookstack, client, book, name, value) for value in values}
    ordered = sorted(values, key=str.casefold)
    assert ordered == values
    for low, high in itertools.pairwise(ordered):
        assert _found(client, f"[{name}>={low}] [{name}<={high}]") == sorted([ids[low], ids[high]]), (low, high)
