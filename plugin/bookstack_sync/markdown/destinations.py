"""The locator: where, inside a link's source range, its destination is — ``[text](<dest> "title")``, a
reference definition, an ``href``/``src`` in raw HTML — accepted only when it decodes to the URL the parser read.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import StrEnum


class DestForm(StrEnum):
    """How a destination is written, which decides how a replacement must be escaped."""

    BARE = "bare"  # [x](a.md)
    ANGLE = "angle"  # [x](<a b.md>)
    HTML = "html"  # <a href="a.md">, <img src='x.png'>


@dataclass(frozen=True)
class Destination:
    """One link destination or image source in the scanned text."""

    start: int  # offsets of the destination text (inside quotes / angle brackets) in the scanned text
    end: int
    url: str  # the destination as the renderer reads it: escapes and entities decoded, not percent-decoded
    form: DestForm
    image: bool
    quote: str = ""  # the attribute's quote character for DestForm.HTML ("" when unquoted)


def locate_inline(text: str, start: int, end: int, label_end: int, url: str, image: bool) -> Destination | None:
    """The destination of the inline link or image ``text[start:end]`` that decodes to ``url``.

    The link text ends at or after ``label_end`` (the end of the last event inside it); the destination
    follows the first ``](`` from there whose destination reads as ``url`` and whose title and ``)``
    close the link exactly at ``end``. Searching from the link's start is the fallback.
    """
    for origin in (label_end, start):
        at = text.find("](", origin, end)
        while at >= 0:
            found = _destination_at(text, at + 2, end, url, image)
            if found is not None:
                return found
            at = text.find("](", at + 1, end)
    return None


def _destination_at(text: str, i: int, end: int, url: str, image: bool) -> Destination | None:
    i = _skip_space(text, i, end)
    parsed = _parse_destination(text, i, end)
    if parsed is None:
        return None
    d_start, d_end, after, form = parsed
    if unescape_markdown(text[d_start:d_end]) != url:
        return None
    t = _skip_space(text, after, end)
    if t < end and t > after and text[t] in "\"'(":
        title_end = _title_end(text, t, end)
        if title_end is not None:
            t = _skip_space(text, title_end, end)
    if t != end - 1 or text[t] != ")":
        return None
    return Destination(d_start, d_end, url, form, image)


def definition_destinations(text: str, definitions: list[tuple[int, int, str]]) -> list[Destination]:
    """Destinations of the link reference definitions (where reference links take theirs from), given
    each definition's (start, end, URL) as the parser read it."""
    found: list[Destination] = []
    for start, end, url in definitions:
        label_close = _label_close(text, start, end)
        if label_close is None:
            continue
        i = _skip_space(text, label_close + 2, end, container_prefix=True)
        parsed = _parse_destination(text, i, end)
        if parsed is None:
            continue
        d_start, d_end, _after, form = parsed
        if unescape_markdown(text[d_start:d_end]) == url:
            found.append(Destination(d_start, d_end, url, form, False))
    return found


def _label_close(text: str, start: int, end: int) -> int | None:
    """The ``]`` of ``]:`` closing a definition's label (escaped brackets are label text)."""
    i = text.find("[", start, end)
    while 0 <= i < end:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "]":
            return i if text.startswith(":", i + 1) else None
        i += 1
    return None


_ESCAPABLE = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


_ESCAPE = re.compile(r"\\([" + re.escape(_ESCAPABLE) + "])")


_ENTITY = re.compile(r"&(?:#[xX][0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_markdown(s: str) -> str:
    """Backslash escapes and entity references in a destination, as CommonMark reads them."""
    if "\\" in s:
        s = _ESCAPE.sub(lambda m: m.group(1), s)
    if "&" in s:
        s = _ENTITY.sub(lambda m: html.unescape(m.group(0)), s)
    return s


def _skip_space(text: str, i: int, end: int, *, container_prefix: bool = False) -> int:
    """Past spaces, tabs and at most one line end (and, for a definition, a block quote's ``>`` after it)."""
    while i < end and text[i] in " \t":
        i += 1
    if i < end and text[i] == "\n":
        i += 1
        while i < end and (text[i] in " \t" or (container_prefix and text[i] == ">")):
            i += 1
    return i


_PLAIN_RUN = re.compile(r"[^\\()\x00-\x20\x7f]+")


def _parse_destination(s: str, i: int, end: int) -> tuple[int, int, int, DestForm] | None:
    """A link destination at ``s[i]``: (content start, content end, next index, form)."""
    if i < end and s[i] == "<":
        j = i + 1
        while j < end:
            ch = s[j]
            if ch == "\\" and j + 1 < end:
                j += 2
                continue
            if ch in "\n<":
                return None
            if ch == ">":
                return i + 1, j, j + 1, DestForm.ANGLE
            j += 1
        return None
    depth = 0
    j = i
    while j < end:
        plain = _PLAIN_RUN.match(s, j, end)  # characters the loop below would only step over
        if plain is not None:
            j = plain.end()
            if j >= end:
                break
        ch = s[j]
        if ch == "\\" and j + 1 < end and s[j + 1] in _ESCAPABLE:
            j += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        elif ch in " \t\n" or ord(ch) < 0x20 or ch == "\x7f":
            break
        j += 1
    return i, j, j, DestForm.BARE


def _title_end(s: str, i: int, end: int) -> int | None:
    """The index after a link title starting at ``s[i]``."""
    closer = {'"': '"', "'": "'", "(": ")"}[s[i]]
    j = i + 1
    while j < end:
        ch = s[j]
        if ch == "\\" and j + 1 < end:
            j += 2
            continue
        if ch == closer:
            return j + 1
        j += 1
    return None


_ATTRIBUTE = r"""(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""


_OPEN_TAG = r"<[A-Za-z][A-Za-z0-9-]*" + _ATTRIBUTE + r"*\s*/?>"


_TAG_NAME = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)")


_ATTR = re.compile(r"""\s([A-Za-z_:][A-Za-z0-9_.:-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


_LINK_ATTRS = {"a": "href", "img": "src"}


def html_tag_destinations(tag: str, offset: int) -> list[Destination]:
    """The ``href`` of an ``<a>`` / ``src`` of an ``<img>`` open tag starting at ``offset``."""
    m = _TAG_NAME.match(tag)
    if m is None:
        return []
    name = m.group(1).lower()
    wanted = _LINK_ATTRS.get(name)
    if wanted is None:
        return []
    for attr in _ATTR.finditer(tag, m.end()):
        if attr.group(1).lower() != wanted or attr.group(2) is None:
            continue
        value = attr.group(2)
        start = attr.start(2)
        quote = value[0] if value[0] in "\"'" else ""
        inner_start = start + (1 if quote else 0)
        inner_end = attr.end(2) - (1 if quote else 0)
        url = html.unescape(tag[inner_start:inner_end])
        return [Destination(offset + inner_start, offset + inner_end, url, DestForm.HTML, name == "img", quote)]
    return []


_HTML_SKIP = re.compile(r"<!--.*?-->|<(script|style|textarea)\b.*?</\1\s*>", re.S | re.I)


_HTML_OPEN_TAG = re.compile(_OPEN_TAG, re.S)


def html_block_destinations(text: str, start: int, end: int) -> list[Destination]:
    """Link and image destinations in raw HTML, skipping comments and script/style/textarea content."""
    found: list[Destination] = []
    i = start
    skip, tag = _HTML_SKIP, _HTML_OPEN_TAG
    while i < end:
        lt = text.find("<", i, end)
        if lt < 0:
            break
        m = skip.match(text, lt, end)
        if m:
            i = m.end()
            continue
        m = tag.match(text, lt, end)
        if m:
            found.extend(html_tag_destinations(m.group(0), lt))
            i = m.end()
            continue
        i = lt + 1
    return found
