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
from typing import Any

import pyromark

from .destinations import (
    Destination,
    definition_destinations,
    html_block_destinations,
    html_tag_destinations,
    locate_inline,
)


@dataclass(frozen=True)
class HeadingBlock:
    """A Markdown heading (ATX or setext) and where its lines are."""

    level: int
    start: int  # offset of the heading's first line
    end: int  # offset just past its last line's newline (or the end of the text)
    text: str  # the heading's raw inline source (ATX markers and closing sequence removed)
    top_level: bool  # a child of the document, not inside a block quote or list


class Scan:
    """What :func:`scan` finds in a text, each part computed when first read.

    The link pass finds the destinations and, on the way, the text of headings that hold nothing else
    (what checking a ``#fragment`` needs); the heading pass finds every heading with its place. Validation
    needs the first for every page and the second for few. A text without ``[`` and ``<`` holds no
    destination (links, images and definitions start with ``[``, raw HTML with ``<``).
    """

    __slots__ = ("_destinations", "_headings", "_link_pass", "_quick_pass", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        # two threads may both compute a part: same result, no harm
        self._link_pass: tuple[tuple[Destination, ...], tuple[str, ...] | None] | None = None
        self._quick_pass: _Quick | bool | None = False  # False: not computed yet
        self._destinations: tuple[Destination, ...] | None = None
        self._headings: tuple[tuple[HeadingBlock, ...], HeadingBlock | None] | None = None

    def _links(self) -> tuple[tuple[Destination, ...], tuple[str, ...] | None]:
        if self._link_pass is None:
            self._link_pass = _link_pass(self.text)
        return self._link_pass

    @property
    def destinations(self) -> tuple[Destination, ...]:
        if self._destinations is None:
            text = self.text
            self._destinations = self._links()[0] if "[" in text or "<" in text else ()
        return self._destinations

    def _quick(self) -> _Quick | None:
        if self._quick_pass is False:
            self._quick_pass = _quick_pass(self.text)
        assert self._quick_pass is not True
        return self._quick_pass

    @property
    def inline_urls(self) -> tuple[tuple[str, bool], ...] | None:
        """(URL, is an image) of every inline link and image outside an image's description, in order: what
        :attr:`destinations` holds and more (the locator may refuse some), without where each is. None when
        the text has raw HTML or may define a link reference (their destinations need the full pass).
        Cheaper than :attr:`destinations`: validation asks where a destination is only to report it."""
        quick = self._quick()
        return None if quick is None else quick[0]

    @property
    def plain_heading_texts(self) -> tuple[str, ...] | None:
        """The text of each heading, in order, when every heading holds nothing but text (no markup, code,
        line break or raw HTML in it, so its rendered text content is that text); None otherwise."""
        if self._link_pass is None:
            quick = self._quick()
            if quick is not None:
                return quick[1]
        return self._links()[1]

    def _heading_pass(self) -> tuple[tuple[HeadingBlock, ...], HeadingBlock | None]:
        if self._headings is None:
            self._headings = _headings(self.text)
        return self._headings

    @property
    def headings(self) -> tuple[HeadingBlock, ...]:
        return self._heading_pass()[0]

    @property
    def first_block(self) -> HeadingBlock | None:
        """The document's first block when it is a heading."""
        return self._heading_pass()[1]

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


class _PlainHeadingTexts:
    """The text of each heading while every heading holds nothing but text (:attr:`Scan.plain_heading_texts`),
    read from pulldown-cmark's events: both passes over the events read headings through it."""

    __slots__ = ("open", "texts")

    def __init__(self) -> None:
        self.texts: list[str] | None = []  # None once a heading holds more than text
        self.open: list[str] | None = None  # the text of the open heading so far

    def start(self) -> None:
        """At a heading's start."""
        if self.texts is not None:
            self.open = []

    def read(self, event: Any) -> bool:
        """Read ``event`` inside the open heading; False when it is markup, which the caller then reads as
        any other event (and there are no plain heading texts)."""
        assert self.open is not None and self.texts is not None
        if event.__class__ is dict:
            if "Text" in event:
                self.open.append(event["Text"])
                return True
            end = event.get("End")
            if end.__class__ is dict and "Heading" in end:
                self.texts.append("".join(self.open))
                self.open = None
                return True
        self.texts = self.open = None
        return False

    def result(self) -> tuple[str, ...] | None:
        return None if self.texts is None else tuple(self.texts)


def _link_pass(text: str) -> tuple[tuple[Destination, ...], tuple[str, ...] | None]:
    """The link and image destinations of ``text``, in order, and the text of its headings when they hold
    nothing but text (None otherwise): one pass over pulldown-cmark's events.

    Outside links (nearly every event) only raw HTML, headings and the start of a link or image matter;
    inside one, every event moves the end of its text, which is where the locator starts to look.
    """
    char = CharOffsets(text).char
    found: list[Destination] = []
    image_depth = 0  # open images: links in an image description are alt text, not links
    links: list[tuple[Any, bool, int, int]] = []  # open links and images: (data, image, start, end) in bytes
    label_ends: list[int] = []  # for each open link or image: the end of the last event inside it so far
    plain = _PlainHeadingTexts()
    event: Any  # pyromark's event types, read as the plain dicts and strings they are
    data: Any
    for event, span in _PARSER.events_with_range(text, merge_text=True):
        if plain.open is not None and plain.read(event):
            continue
        if not links:
            if event.__class__ is str:
                continue
            data = event.get("Start")
            if data is None:
                if "InlineHtml" in event:
                    start = char(span["start"])
                    found.extend(html_tag_destinations(text[start : char(span["end"])], start))
            elif data.__class__ is str:
                if data == "HtmlBlock":
                    found.extend(html_block_destinations(text, char(span["start"]), char(span["end"])))
            elif "Link" in data or "Image" in data:
                image = "Image" in data
                image_depth += image
                links.append((data["Image" if image else "Link"], image, span["start"], span["end"]))
                label_ends.append(span["start"] + 1 + image)
            elif "Heading" in data:
                plain.start()
            continue
        data = None if event.__class__ is str else event.get("Start")
        if data is None and event.__class__ is dict and event.get("End") in ("Link", "Image"):
            info, image, link_start, link_end = links.pop()
            label_end = label_ends.pop()
            image_depth -= image
            if image_depth == 0 and info["link_type"] == "Inline":
                located = locate_inline(
                    text, char(link_start), char(link_end), char(label_end), info["dest_url"], image
                )
                if located is not None:
                    found.append(located)
            continue
        label_ends[-1] = max(label_ends[-1], span["end"])
        if data.__class__ is dict and ("Link" in data or "Image" in data):
            image = "Image" in data
            image_depth += image
            links.append((data["Image" if image else "Link"], image, span["start"], span["end"]))
            label_ends.append(span["start"] + 1 + image)
        elif data == "HtmlBlock":
            found.extend(html_block_destinations(text, char(span["start"]), char(span["end"])))
        elif image_depth == 0 and data is None and event.__class__ is dict and "InlineHtml" in event:
            start = char(span["start"])
            found.extend(html_tag_destinations(text[start : char(span["end"])], start))
    found.extend(definition_destinations(text, _reference_definitions(text)))
    found.sort(key=lambda d: d.start)
    return tuple(found), plain.result()


# (URL, is an image) of the inline links and images, and the plain heading texts (see Scan.inline_urls)
_Quick = tuple[tuple[tuple[str, bool], ...], tuple[str, ...] | None]


def _quick_pass(text: str) -> _Quick | None:
    """:attr:`Scan.inline_urls` and :attr:`Scan.plain_heading_texts`; None when the text has raw HTML or
    may define a link reference. Read from pulldown-cmark's HTML when that is exact (:func:`_html_pass`),
    else from its events."""
    if "]:" in text:
        return None  # a reference definition's destination is found by its range
    if "<" not in text:
        found = _html_pass(text)
        if found is not None:
            return found
    return _events_pass(text)


# In pulldown-cmark's HTML of a text without "<" (so without raw HTML or autolinks), every "<" opens a tag
# it wrote: a link's href, an image's src (an image's description is plain text in its alt), a heading.
_HTML_PARTS = re.compile(r'<(a|i|h)(?: href="([^"]*)"|mg src="([^"]*)"|[1-6]>([^<\n]*)(</h)?)')


def _html_pass(text: str) -> _Quick | None:
    """:func:`_events_pass` read from pulldown-cmark's HTML (about half the cost: no Python object per
    event), for a text without "<"; None when an ``href`` or ``src`` holds a "%", as the HTML writer
    percent-encodes what a URL may not hold and the URL as written can no longer be told from it.

    The writer escapes ``&`` and ``'`` in a URL and ``&``, ``<``, ``>`` (and quotes) in text, so
    unescaping gives back what the events hold. A heading holds nothing but text when no tag and no line
    end (a soft break) comes before its closing tag."""
    urls: list[tuple[str, bool]] = []
    headings: list[str] | None = []
    for kind, link, image, heading, closed in _HTML_PARTS.findall(_PARSER.html(text)):
        if kind == "h":
            if headings is not None:
                if closed:
                    headings.append(html.unescape(heading) if "&" in heading else heading)
                else:
                    headings = None
            continue
        url = link if kind == "a" else image
        if "%" in url:
            return None
        urls.append((html.unescape(url) if "&" in url else url, kind == "i"))
    return tuple(urls), None if headings is None else tuple(headings)


def _events_pass(text: str) -> _Quick | None:
    """:func:`_quick_pass` from pulldown-cmark's events without their ranges (building the ranges is most
    of :func:`_link_pass`'s cost), for a text without reference definitions; None when it has raw HTML.
    Links and images count as :func:`_link_pass` counts them; headings are read as it reads them."""
    urls: list[tuple[str, bool]] = []
    image_depth = 0  # open images: links in an image description are alt text, not links
    plain = _PlainHeadingTexts()
    event: Any
    data: Any
    for event in _PARSER.events(text, merge_text=True):
        if plain.open is not None and plain.read(event):
            continue
        if event.__class__ is str:
            continue
        data = event.get("Start")
        if data is None:
            if "InlineHtml" in event or "Html" in event:
                return None
            if image_depth and event.get("End") == "Image":
                image_depth -= 1
        elif data.__class__ is str:
            if data == "HtmlBlock":
                return None
        elif "Link" in data:
            info = data["Link"]
            if not image_depth and info["link_type"] == "Inline":
                urls.append((info["dest_url"], False))
        elif "Image" in data:
            info = data["Image"]
            if not image_depth and info["link_type"] == "Inline":
                urls.append((info["dest_url"], True))
            image_depth += 1
        elif "Heading" in data:
            plain.start()
    return tuple(urls), plain.result()


def _headings(text: str) -> tuple[tuple[HeadingBlock, ...], HeadingBlock | None]:
    """The headings of ``text`` and its first block when that is a heading: one pass over the events."""
    char = CharOffsets(text).char
    headings: list[HeadingBlock] = []
    first_tag = ""  # the tag of the document's first block
    depth = 0  # open blocks
    heading: tuple[int, int, bool] | None = None  # (level, start, top level) of the open heading, in bytes
    content: list[int] = []  # start of the first and end of the last event inside the open heading
    event: Any
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
        if heading is not None and not (end_data.__class__ is dict and "Heading" in end_data):
            content[1:] = [span["end"]] if content else [span["start"], span["end"]]
        if tag is not None:
            if tag not in _INLINE_TAGS:
                if not first_tag:
                    first_tag = tag
                if tag == "Heading":
                    heading = (int(data[tag]["level"][1]), span["start"], depth == 0)
                    content = []
                depth += 1
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
    first_block = headings[0] if first_tag == "Heading" else None
    return tuple(headings), first_block


def plain_heading_texts(text: str) -> tuple[str, ...] | None:
    """:attr:`Scan.plain_heading_texts` of ``text`` (cached with its scan)."""
    return scan(text).plain_heading_texts


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


def _reference_definitions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, destination URL) of each link reference definition, in characters of ``text``."""
    if "]:" not in text:
        return []
    offsets = CharOffsets(text)
    return [
        (offsets.char(d["span"]["start"]), offsets.char(d["span"]["end"]), d["dest"])
        for d in _PARSER.reference_definitions(text).values()
    ]


__all__ = [
    "BOOKSTACK_OPTIONS",
    "CharOffsets",
    "HeadingBlock",
    "Scan",
    "events",
    "plain_heading_texts",
    "scan",
    "skeleton",
]
