"""Where a page's link destinations, image sources and headings are, read from pulldown-cmark's events.

The parsing is pulldown-cmark's (through ``pyromark``): CommonMark 0.31 plus the extensions BookStack's
league/commonmark enables (tables, task lists, strikethrough), linear on any input. Its events carry
byte ranges; a link's range is the whole ``[text](destination "title")``, so a small locator finds the
destination inside it and accepts it only when it decodes to the URL the parser read.

Nothing here rewrites text: it reports *where* each destination is (offsets into the scanned text), so the
caller replaces exactly those characters and every other byte stays as written. It also renders a
skeleton HTML of the text content, which is what BookStack's heading ids are computed from.
"""

from __future__ import annotations

import html
import re
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pyromark

# ------------------------------------------------------------------------------------------ results


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


@dataclass(frozen=True)
class HeadingBlock:
    """A Markdown heading (ATX or setext) and where its lines are."""

    level: int
    start: int  # offset of the heading's first line
    end: int  # offset just past its last line's newline (or the end of the text)
    text: str  # the heading's raw inline source (ATX markers and closing sequence removed)
    top_level: bool  # a child of the document, not inside a block quote or list


@dataclass(frozen=True)
class _Found:
    destinations: tuple[Destination, ...]
    headings: tuple[HeadingBlock, ...]
    first_block: HeadingBlock | None


class Scan:
    """What :func:`scan` finds in a text, each part computed when first read.

    A text without ``[`` and ``<`` holds no destination (links, images and definitions start with
    ``[``, raw HTML with ``<``): it is parsed only when its headings are asked for.
    """

    __slots__ = ("_found", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._found: _Found | None = None

    def _parse(self) -> _Found:
        if self._found is None:
            self._found = _scan(self.text)  # two threads may both parse: same result, no harm
        return self._found

    @property
    def destinations(self) -> tuple[Destination, ...]:
        if self._found is None and "[" not in self.text and "<" not in self.text:
            return ()
        return self._parse().destinations

    @property
    def headings(self) -> tuple[HeadingBlock, ...]:
        return self._parse().headings

    @property
    def first_block(self) -> HeadingBlock | None:
        """The document's first block when it is a heading."""
        return self._parse().first_block

    @property
    def skeleton(self) -> str:
        """HTML with the text content and element structure BookStack would render."""
        return skeleton(self.text)

    def __repr__(self) -> str:
        return f"Scan(destinations={self.destinations!r}, headings={self.headings!r}, first_block={self.first_block!r})"


# What BookStack's league/commonmark renders on top of CommonMark (its MarkdownToHtml converter).
BOOKSTACK_OPTIONS = (
    pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_TASKLISTS | pyromark.Options.ENABLE_STRIKETHROUGH
)
_PARSER = pyromark.Markdown(options=BOOKSTACK_OPTIONS)


class _ScanCache:
    """The latest scans by text, least recently used dropped first, bounded by entries and total characters.

    One run scans the same text several times: a page for its own links and again as the target of
    another page's ``#fragment``; validation, ``find_references`` and ``render_page`` during a sync.
    """

    def __init__(self, max_entries: int, max_chars: int) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.chars = 0
        self.entries: OrderedDict[str, Scan] = OrderedDict()
        self.lock = threading.Lock()  # apply renders pages from worker threads

    def get(self, text: str) -> Scan | None:
        with self.lock:
            found = self.entries.get(text)
            if found is not None:
                self.entries.move_to_end(text)
            return found

    def put(self, text: str, result: Scan) -> None:
        if len(text) > self.max_chars:
            return
        with self.lock:
            if text in self.entries:
                return
            self.entries[text] = result
            self.chars += len(text)
            while len(self.entries) > self.max_entries or self.chars > self.max_chars:
                old, _ = self.entries.popitem(last=False)
                self.chars -= len(old)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.chars = 0


# ~10 MB when full of ordinary pages; a run over a larger tree keeps the latest
_CACHE = _ScanCache(max_entries=4096, max_chars=4_000_000)


def scan(text: str) -> Scan:
    """Scan Markdown ``text`` (LF line ends): its destinations and headings, the skeleton when asked for.

    Results are shared through a small cache keyed by the text; a :class:`Scan` is never modified.
    """
    found = _CACHE.get(text)
    if found is None:
        found = Scan(text)
        _CACHE.put(text, found)
    return found


# ------------------------------------------------------------------------------------------ offsets


class CharOffsets:
    """pulldown-cmark's UTF-8 byte offsets as offsets into the Python string (code points)."""

    __slots__ = ("_byte_starts", "_extra")

    def __init__(self, text: str) -> None:
        # for each non-ASCII character: its byte offset, and the extra bytes of it and those before it
        self._byte_starts: list[int] = []
        self._extra: list[int] = [0]
        if text.isascii():
            return
        extra = 0
        for match in _NON_ASCII.finditer(text):
            index = match.start()
            self._byte_starts.append(index + extra)
            extra += len(match.group().encode()) - 1
            self._extra.append(extra)

    def char(self, byte: int) -> int:
        """The string offset of the character starting at UTF-8 offset ``byte``."""
        if not self._byte_starts:
            return byte
        return byte - self._extra[bisect_left(self._byte_starts, byte)]


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def events(text: str, parser: pyromark.Markdown = _PARSER) -> Iterator[tuple[Any, int, int]]:
    """``parser``'s events over ``text`` with their ranges as string offsets: (event, start, end)."""
    offsets = CharOffsets(text)
    char = offsets.char
    for event, span in parser.events_with_range(text):
        yield event, char(span["start"]), char(span["end"])


# ------------------------------------------------------------------------------------------ the scan


def _scan(text: str) -> _Found:
    """One pass over pulldown-cmark's events; offsets are converted only for the events kept."""
    char = CharOffsets(text).char
    destinations: list[Destination] = []
    headings: list[HeadingBlock] = []
    first_tag = ""  # the tag of the document's first block
    depth = 0  # open blocks
    image_depth = 0  # open images: links in an image description are alt text, not links
    links: list[tuple[Any, bool, int, int]] = []  # open links and images: (data, image, start, end) in bytes
    label_ends: list[int] = []  # for each open link or image: the end of the last event inside it so far
    heading: tuple[int, int, bool] | None = None  # (level, start, top level) of the open heading, in bytes
    content: list[int] = []  # start of the first and end of the last event inside the open heading
    event: Any  # pyromark's event types, read as the plain dicts and strings they are
    data: Any
    for event, span in _PARSER.events_with_range(text, merge_text=True):
        if event.__class__ is str:
            if event == "Rule" and not first_tag:
                first_tag = "Rule"
            data = tag = None
        else:
            data = event.get("Start")
            tag = None if data is None else (data if data.__class__ is str else next(iter(data)))
        end_data = None if data is not None or event.__class__ is str else event.get("End")
        closing_link = end_data in ("Link", "Image")
        if label_ends and not closing_link:
            label_ends[-1] = max(label_ends[-1], span["end"])
        if heading is not None and not (end_data.__class__ is dict and "Heading" in end_data):
            content[1:] = [span["end"]] if content else [span["start"], span["end"]]
        if tag is not None:
            if tag == "Link" or tag == "Image":
                image = tag == "Image"
                image_depth += image
                links.append((data[tag], image, span["start"], span["end"]))
                label_ends.append(span["start"] + 1 + image)
            elif tag not in _INLINE_TAGS:
                if not first_tag:
                    first_tag = tag
                if tag == "Heading":
                    heading = (int(data[tag]["level"][1]), span["start"], depth == 0)
                    content = []
                elif tag == "HtmlBlock":
                    destinations.extend(html_block_destinations(text, char(span["start"]), char(span["end"])))
                depth += 1
        elif closing_link:
            info, image, link_start, link_end = links.pop()
            label_end = label_ends.pop()
            image_depth -= image
            if image_depth == 0 and info["link_type"] == "Inline":
                found = _locate_inline(text, char(link_start), char(link_end), char(label_end), info["dest_url"], image)
                if found is not None:
                    destinations.append(found)
        elif end_data is not None:
            end_tag = end_data if end_data.__class__ is str else next(iter(end_data))
            if end_tag not in _INLINE_TAGS:
                depth -= 1
                if end_tag == "Heading" and heading is not None:
                    level, heading_start, top = heading
                    source = text[char(content[0]) : char(content[1])].strip() if content else ""
                    end = _line_end(text, char(span["end"]))
                    headings.append(HeadingBlock(level, char(heading_start), end, source, top))
                    heading = None
        elif image_depth == 0 and event.__class__ is dict and "InlineHtml" in event:
            start = char(span["start"])
            destinations.extend(html_tag_destinations(text[start : char(span["end"])], start))
    destinations.extend(_definition_destinations(text))
    destinations.sort(key=lambda d: d.start)
    first_block = headings[0] if first_tag == "Heading" else None
    return _Found(tuple(destinations), tuple(headings), first_block)


def _tag(data: Any) -> tuple[str, Any]:
    if isinstance(data, str):
        return data, None
    name, info = next(iter(data.items()))
    return str(name), info


_INLINE_TAGS = frozenset({"Emphasis", "Strong", "Strikethrough", "Link", "Image", "Superscript", "Subscript"})


def _line_end(text: str, offset: int) -> int:
    """Offset just past the newline ending the line that holds ``text[offset - 1]``."""
    if offset > 0 and text[offset - 1] == "\n":
        return offset
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1


# ------------------------------------------------------------------------------------------ the locator


def _locate_inline(text: str, start: int, end: int, label_end: int, url: str, image: bool) -> Destination | None:
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


def _definition_destinations(text: str) -> list[Destination]:
    """Destinations of the link reference definitions (where reference links take theirs from)."""
    if "]:" not in text:
        return []
    found: list[Destination] = []
    offsets = CharOffsets(text)
    for definition in _PARSER.reference_definitions(text).values():
        start, end = offsets.char(definition["span"]["start"]), offsets.char(definition["span"]["end"])
        url = definition["dest"]
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


# ------------------------------------------------------------------------------------------ raw HTML

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


# ------------------------------------------------------------------------------------------ skeleton

_BLOCK_HTML = {
    "Paragraph": "p",
    "BlockQuote": "blockquote",
    "Item": "li",
    "Table": "table",
    "TableHead": "thead",
    "TableRow": "tr",
}


def skeleton(text: str, parser: pyromark.Markdown = _PARSER) -> str:
    """The HTML of ``text`` reduced to what BookStack's ids read: elements, their text, raw HTML as written.

    Markdown headings carry ``data-md-heading`` (raw HTML headings do not). Block elements are separated
    by a line end, as league/commonmark separates them: the text content has whitespace between blocks.
    """
    out: list[str] = []
    image_depth = 0
    in_head = False
    tags: list[str] = []  # open block elements, to close them
    event: Any
    data: Any
    for event in parser.events(text):
        if isinstance(event, str):
            if image_depth:
                continue
            out.append({"SoftBreak": "\n", "HardBreak": "<br />\n", "Rule": "<hr />\n"}[event])
            continue
        kind, data = next(iter(event.items()))
        if kind in ("Text", "Code"):
            if not image_depth:
                out.append(html.escape(data, quote=False))
        elif kind in ("Html", "InlineHtml"):
            if not image_depth:
                out.append(data)
        elif kind == "TaskListMarker":
            out.append('<input type="checkbox" disabled="" />')
        elif kind == "Start":
            tag, info = _tag(data)
            if tag == "Image":
                if not image_depth:
                    out.append("<img />")
                image_depth += 1
            elif tag == "Heading":
                level = info["level"][1]
                out.append(f'<h{level} data-md-heading="">')
                tags.append(f"</h{level}>\n")
            elif tag == "CodeBlock":
                out.append("<pre><code>")
                tags.append("</code></pre>\n")
            elif tag == "List":
                name = "ul" if info is None else "ol"
                out.append(f"<{name}>\n")
                tags.append(f"</{name}>\n")
            elif tag == "TableHead":
                in_head = True
                out.append("<thead>\n<tr>\n")
                tags.append("</tr>\n</thead>\n")
            elif tag == "TableCell":
                cell = "th" if in_head else "td"
                out.append(f"<{cell}>")
                tags.append(f"</{cell}>\n")
            elif tag in _BLOCK_HTML:
                name = _BLOCK_HTML[tag]
                out.append(f"<{name}>" + ("\n" if tag != "Paragraph" else ""))
                tags.append(f"</{name}>\n")
            elif tag == "HtmlBlock":
                tags.append("\n")
            elif tag not in _INLINE_TAGS:
                tags.append("")
        elif kind == "End":
            tag, _ = _tag(data)
            if tag == "Image":
                image_depth -= 1
            elif tag not in _INLINE_TAGS:
                if tag == "TableHead":
                    in_head = False
                out.append(tags.pop())
    return "".join(out)


__all__ = [
    "BOOKSTACK_OPTIONS",
    "CharOffsets",
    "DestForm",
    "Destination",
    "HeadingBlock",
    "Scan",
    "events",
    "html_block_destinations",
    "html_tag_destinations",
    "scan",
    "skeleton",
    "unescape_markdown",
]
