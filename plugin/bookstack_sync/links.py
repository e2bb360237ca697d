"""A small CommonMark scanner: where a page's link destinations, image sources and headings are.

BookStack renders markdown with league/commonmark (core + tables + task lists + strikethrough), so this
follows the CommonMark block-parsing strategy closely enough to tell prose from code: containers
(block quotes, list items) with their indentation, fenced and indented code, HTML blocks, link reference
definitions, headings, GFM tables and paragraphs. Inline content is then scanned for code spans,
autolinks, raw HTML tags, escapes and links/images with nested brackets and balanced parentheses.

Nothing here rewrites text: it reports *where* each destination is (offsets into the scanned text), so the
caller replaces exactly those characters and every other byte stays as written. It also renders a
skeleton HTML of the text content, which is what BookStack's heading ids are computed from.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum, StrEnum

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


class Scan:
    """What :func:`scan` found in a text.

    Computed when first read, each from one parse of the text: the headings of a text that cannot hold
    a destination (no ``[`` and no ``<``), and the skeleton, which most callers never need.
    """

    __slots__ = ("_first_block", "_headings", "_skeleton", "_text", "destinations")

    def __init__(
        self,
        destinations: tuple[Destination, ...],
        headings: tuple[HeadingBlock, ...] | None,
        first_block: HeadingBlock | None,
        text: str,
    ) -> None:
        self.destinations = destinations
        self._headings = headings  # None: not parsed yet
        self._first_block = first_block
        self._text = text
        self._skeleton: str | None = None

    @property
    def headings(self) -> tuple[HeadingBlock, ...]:
        if self._headings is None:
            _, self._first_block, self._headings = _scan_parts(self._text)
        return self._headings

    @property
    def first_block(self) -> HeadingBlock | None:
        """The document's first block when it is a heading."""
        if self._headings is None:
            _, self._first_block, self._headings = _scan_parts(self._text)
        return self._first_block

    @property
    def skeleton(self) -> str:
        """HTML with the text content and element structure BookStack would render."""
        if self._skeleton is None:
            self._skeleton = _skeleton(self._text)
        return self._skeleton

    def __repr__(self) -> str:
        return f"Scan(destinations={self.destinations!r}, headings={self.headings!r}, first_block={self.first_block!r})"


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
        if len(text) > self.max_chars // 8:
            return  # a huge text would push out everything else
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
        with _TREES_LOCK:
            _TREES.clear()


# ~10 MB when full of ordinary pages (4,000 bench pages: 9.5 MB); a run over a larger tree keeps the latest
_CACHE = _ScanCache(max_entries=4096, max_chars=4_000_000)


def scan(text: str) -> Scan:
    """Scan Markdown ``text`` (LF line ends): destinations and headings now, the skeleton when asked for.

    Results are shared through a small cache keyed by the text; a :class:`Scan` is never modified
    (its skeleton is computed once, from the same text).
    """
    found = _CACHE.get(text)
    if found is None:
        found = _scan(text)
        _CACHE.put(text, found)
    return found


def _scan(text: str) -> Scan:
    if "[" not in text and "<" not in text:
        # every destination starts at a '[' (links, images, definitions) or a '<' (raw HTML): no parse
        return Scan((), None, None, text)
    lines = _lines(text)
    parts = _parts_to_parse(text, lines)
    if parts is None:
        dests, first, headings = _scan_parts(text)
        return Scan(dests, headings, first, text)
    # only the parts that can hold a destination; headings are parsed from the whole text when asked for
    definitions: dict[str, str] = {}
    definition_dests: list[Destination] = []
    roots: list[_Block] = []
    for first_line, last_line, offset in parts:
        parser = _BlockParser(text)
        parser.definitions = definitions  # shared, in text order: the first definition of a label wins
        parser.definition_dests = definition_dests
        roots.append(parser.parse(lines, first_line, last_line, offset).root)
    inline = _InlineContext(text, definitions)
    ignored: list[HeadingBlock] = []
    for root in roots:
        for block in root.children:
            _collect(block, inline, ignored, top=True)
    found = sorted(definition_dests + inline.destinations, key=lambda d: d.start)
    return Scan(tuple(found), None, None, text)


def _lines(text: str) -> list[str]:
    """The lines the block parser reads."""
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # the text ends with a newline (or is empty): no line after it
    return lines


# A line starting (after spaces) with '<' may open an HTML block, which can span blank lines; a fence
# written with indentation may sit in a container or not: texts with either are parsed whole.
_UNSURE_LINE = re.compile(r"^[ \t]*<|^[ \t]+(?:```|~~~)", re.M)


def _parts_to_parse(text: str, lines: list[str]) -> list[tuple[int, int, int]] | None:
    """(first line, end line, offset) of each part of ``text`` that holds a '[' or '<', each starting
    where a parse of the whole text has every block closed; None when the whole text is to be parsed.

    A part starts at a line with no indentation, after a blank line, that cannot start a list item
    and is not inside a fenced code block opened at the top level. Such a line closes every open
    block: the blank line closes paragraphs, tables, block quotes and HTML blocks of kinds 6-7;
    list items and everything inside them end at a line with less indentation than their content,
    and their lists at a line that is no list item; indented code ends at a line without indentation.
    What else spans blank lines, HTML blocks of kinds 1-5 and fenced code, is ruled out by
    :data:`_UNSURE_LINE` or followed here (a fence without indentation is at the top level). So each
    part, parsed on its own, gives the blocks a parse of the whole text gives for its lines; parts
    without '[' or '<' hold no destination and no link reference definition.
    """
    if _UNSURE_LINE.search(text):
        return None
    parts: list[tuple[int, int, int]] = []
    start = start_offset = 0
    needed = False
    fence_char = ""
    fence_len = 0
    blank_before = False
    offset = 0
    for index, line in enumerate(lines):
        head = line[:1]
        if not fence_char:
            if blank_before and head and head not in _NO_PART_START:
                if needed:
                    parts.append((start, index, start_offset))
                start, start_offset, needed = index, offset, False
            if head in "`~" and (m := _FENCE_OPEN.match(line)):
                fence = m.group(1)
                if not (fence[0] == "`" and "`" in line[m.end() :]):
                    fence_char, fence_len = fence[0], len(fence)
        elif head == fence_char:
            run = len(line) - len(line.lstrip(fence_char))
            if run >= fence_len and _is_blank(line[run:]):
                fence_char = ""
        if not needed and ("[" in line or "<" in line):
            needed = True
        blank_before = not line.strip(" \t")
        offset += len(line) + 1
    if needed:
        parts.append((start, len(lines), start_offset))
    if len(parts) == 1 and parts[0][0] == 0:
        return None  # the whole text
    return parts


_NO_PART_START = frozenset(" \t-+*0123456789")


def _scan_parts(text: str) -> tuple[tuple[Destination, ...], HeadingBlock | None, tuple[HeadingBlock, ...]]:
    blocks = _parse(text)
    inline = _InlineContext(text, blocks.definitions)
    headings: list[HeadingBlock] = []
    for block in blocks.root.children:
        _collect(block, inline, headings, top=True)
    first = blocks.root.children[0] if blocks.root.children else None
    first_heading = headings[0] if first is not None and first.kind is _Kind.HEADING and headings else None
    if first_heading is not None and not first_heading.top_level:
        first_heading = None
    dests = sorted(blocks.definition_dests + inline.destinations, key=lambda d: d.start)
    return tuple(dests), first_heading, tuple(headings)


# The last few block trees, so a skeleton asked for right after a scan (a heading's id for a #fragment
# link to that page) renders without parsing again. Trees are large next to scans: a handful only.
_TREES: OrderedDict[str, _Parsed] = OrderedDict()
_TREES_MAX = 16
_TREES_LOCK = threading.Lock()


def _parse(text: str) -> _Parsed:
    with _TREES_LOCK:
        found = _TREES.get(text)
    if found is not None:
        return found
    parsed = _BlockParser(text).parse()
    with _TREES_LOCK:
        _TREES[text] = parsed
        if len(_TREES) > _TREES_MAX:
            _TREES.popitem(last=False)
    return parsed


def _skeleton(text: str) -> str:
    blocks = _parse(text)  # the tree is only read: rendering and collecting never change it
    inline = _InlineContext(text, blocks.definitions)
    headings: list[HeadingBlock] = []
    return "\n".join(_render(block, inline, headings, top=True) for block in blocks.root.children)


# ------------------------------------------------------------------------------------------- blocks


class _Kind(Enum):
    DOCUMENT = "document"
    BLOCKQUOTE = "blockquote"
    LIST = "list"
    ITEM = "item"
    PARAGRAPH = "paragraph"
    HEADING = "heading"
    FENCED = "fenced"
    INDENTED = "indented"
    HTML = "html"
    TABLE = "table"
    THEMATIC = "thematic"


_CONTAINERS = {_Kind.DOCUMENT, _Kind.BLOCKQUOTE, _Kind.LIST, _Kind.ITEM}


@dataclass(slots=True)
class _Line:
    """Content of one source line that belongs to a leaf block: ``text[start:end]``."""

    start: int
    end: int
    line_start: int  # offset of the whole source line


@dataclass(eq=False, slots=True)  # mutable parser state; identity matters, not value
class _Block:
    kind: _Kind
    parent: _Block | None = None
    children: list[_Block] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    is_open: bool = True
    level: int = 0  # heading level
    # lists and items
    bullet: str = ""  # "-", "+", "*", or "." / ")" for ordered lists
    ordered: bool = False
    content_indent: int = 0
    # fenced code
    fence_char: str = ""
    fence_len: int = 0
    fence_indent: int = 0
    # html blocks
    html_type: int = 0
    # tables
    header: _Line | None = None
    rows: list[_Line] = field(default_factory=list)
    # heading source span
    span_start: int = 0
    span_end: int = 0

    def add(self, child: _Block) -> _Block:
        child.parent = self
        self.children.append(child)
        return child

    @property
    def last_child(self) -> _Block | None:
        return self.children[-1] if self.children else None


@dataclass
class _Parsed:
    root: _Block
    definitions: dict[str, str]  # normalised label -> url
    definition_dests: list[Destination]


_ATX = re.compile(r"#{1,6}(?=[ \t]|$)")
_ATX_CLOSE = re.compile(r"(^|[ \t]+)#+[ \t]*$")
_FENCE_OPEN = re.compile(r"(`{3,}|~{3,})")
_THEMATIC = re.compile(r"(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r"(=+|-+)[ \t]*$")
_BULLET = re.compile(r"[-+*]")
_ORDERED = re.compile(r"(\d{1,9})([.)])")
_TABLE_DELIM_CELL = re.compile(r"^[ \t]*:?-+:?[ \t]*$")

_HTML_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "base",
        "basefont",
        "blockquote",
        "body",
        "caption",
        "center",
        "col",
        "colgroup",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "frame",
        "frameset",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "iframe",
        "legend",
        "li",
        "link",
        "main",
        "menu",
        "menuitem",
        "nav",
        "noframes",
        "ol",
        "optgroup",
        "option",
        "p",
        "param",
        "search",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "title",
        "tr",
        "track",
        "ul",
    ]
)
_ATTRIBUTE = r"""(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""
_OPEN_TAG = r"<[A-Za-z][A-Za-z0-9-]*" + _ATTRIBUTE + r"*\s*/?>"
_CLOSE_TAG = r"</[A-Za-z][A-Za-z0-9-]*\s*>"
_HTML7_START = re.compile(r"(?:" + _OPEN_TAG + "|" + _CLOSE_TAG + r")[ \t]*$")
_HTML_START = [
    (1, re.compile(r"<(?:pre|script|style|textarea)(?:[ \t>]|$)", re.I)),
    (2, re.compile(r"<!--")),
    (3, re.compile(r"<\?")),
    (4, re.compile(r"<![A-Za-z]")),
    (5, re.compile(r"<!\[CDATA\[")),
    (6, re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?:[ \t>]|/>|$)")),
]
_HTML_END = {
    1: re.compile(r"</(?:pre|script|style|textarea)>", re.I),
    2: re.compile(r"-->"),
    3: re.compile(r"\?>"),
    4: re.compile(r">"),
    5: re.compile(r"\]\]>"),
}


def _is_blank(s: str) -> bool:
    return s.strip(" \t") == ""


def normalize_label(label: str) -> str:
    """Link label matching: case-folded, inner whitespace collapsed (CommonMark 'matches')."""
    return " ".join(label.split()).casefold()


class _BlockParser:
    """The CommonMark two-phase strategy, phase one: lines into a tree of blocks."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.root = _Block(_Kind.DOCUMENT)
        self.tip = self.root
        self.old_tip = self.root
        self.last_matched = self.root
        self.all_closed = True
        self.definitions: dict[str, str] = {}
        self.definition_dests: list[Destination] = []
        # per-line cursor
        self.line = ""
        self.line_start = 0
        self.pos = 0  # index into self.line
        self.col = 0  # column (tabs to the next multiple of 4)
        self.partial_tab = False
        self.next_nonspace = 0
        self.next_nonspace_col = 0
        self.indent = 0
        self.indented = False
        self.blank = False
        self.has_tab = False  # the line has a tab: columns and characters differ

    # ---- cursor

    def _find_next_nonspace(self) -> None:
        i, cols = self.pos, self.col
        line = self.line
        if i < len(line) and line[i] != " " and line[i] != "\t":
            self.blank = False
            self.next_nonspace = i
            self.next_nonspace_col = cols
            self.indent = 0
            self.indented = False
            return
        while i < len(self.line):
            ch = self.line[i]
            if ch == " ":
                i += 1
                cols += 1
            elif ch == "\t":
                i += 1
                cols += 4 - (cols % 4)
            else:
                break
        self.blank = i >= len(self.line)
        self.next_nonspace = i
        self.next_nonspace_col = cols
        self.indent = cols - self.col
        self.indented = self.indent >= 4

    def _advance_next_nonspace(self) -> None:
        self.pos = self.next_nonspace
        self.col = self.next_nonspace_col
        self.partial_tab = False

    def _advance(self, count: int, columns: bool) -> None:
        if not self.has_tab:
            # no tab on the line: a column is a character
            step = min(count, len(self.line) - self.pos)
            if step > 0:
                self.pos += step
                self.col += step
                self.partial_tab = False
            return
        while count > 0 and self.pos < len(self.line):
            ch = self.line[self.pos]
            if ch == "\t" and columns:
                to_tab = 4 - (self.col % 4)
                self.partial_tab = to_tab > count
                used = min(to_tab, count)
                self.col += used
                if not self.partial_tab:
                    self.pos += 1
                count -= used
            else:
                self.partial_tab = False
                self.pos += 1
                self.col += 1
                count -= 1

    def _rest(self) -> _Line:
        # a partly consumed tab stays in the content; only its columns were counted
        return _Line(self.line_start + self.pos, self.line_start + len(self.line), self.line_start)

    # ---- driver

    def parse(
        self, lines: list[str] | None = None, first: int = 0, last: int | None = None, offset: int = 0
    ) -> _Parsed:
        """Parse the text, or only ``lines[first:last]`` (of :func:`_lines`) from ``offset``, the text
        offset of ``lines[first]``: a part that starts where a parse of the whole text has nothing open."""
        if lines is None:
            lines = _lines(self.text)
        incorporate = self._incorporate
        for index in range(first, len(lines) if last is None else last):
            line = lines[index]
            incorporate(line, offset)
            offset += len(line) + 1
        while self.tip is not self.root:
            self._finalize(self.tip)
        self._finalize(self.root)
        # parent links are for parsing only: without them a tree is freed as soon as it is dropped, not
        # left to the cycle collector (whose full passes over a large docs tree cost a third of a scan)
        stack = [self.root]
        while stack:
            block = stack.pop()
            block.parent = None
            stack.extend(block.children)
        self.tip = self.old_tip = self.last_matched = self.root
        return _Parsed(self.root, self.definitions, self.definition_dests)

    def _incorporate(self, line: str, line_start: int) -> None:
        self.line = line
        self.line_start = line_start
        self.pos = 0
        self.col = 0
        self.partial_tab = False
        self.has_tab = "\t" in line
        self.old_tip = self.tip

        # 1. which open blocks does this line continue?
        container = self.root
        while True:
            children = container.children
            if not children:
                break
            last = children[-1]
            if not last.is_open:
                break
            self._find_next_nonspace()
            result = self._continue(last)
            if result == 2:
                return  # a closing code fence: the line is consumed
            if result == 1:
                break
            container = last
        self.all_closed = container is self.old_tip
        self.last_matched = container

        # 2. new container and leaf starts
        matched_leaf = container.kind in (_Kind.FENCED, _Kind.INDENTED, _Kind.HTML)
        consumed = False
        while not matched_leaf:
            self._find_next_nonspace()
            # nothing starts on a blank line, nor on one that begins with ordinary text, nor on a table
            # row ('|' or ':' can only begin a table, and only under a paragraph's last line)
            if self.blank or (
                not self.indented
                and (
                    (ch := line[self.next_nonspace]) not in _MAYBE_SPECIAL
                    or (ch in "|:" and container.kind is not _Kind.PARAGRAPH)
                )
            ):
                self._advance_next_nonspace()
                break
            started = self._try_starts(container)
            if started is None:
                self._advance_next_nonspace()
                break
            container, leaf, consumed = started
            matched_leaf = leaf

        # 3. add the line
        if not self.all_closed and not self.blank and self.tip.kind is _Kind.PARAGRAPH:
            # lazy continuation: a paragraph line without its container markers
            self.tip.lines.append(self._rest())
            return
        self._close_unmatched()
        if consumed:
            return
        kind = container.kind
        if kind in (_Kind.FENCED, _Kind.INDENTED):
            container.lines.append(self._rest())
        elif kind is _Kind.HTML:
            container.lines.append(self._rest())
            end_re = _HTML_END.get(container.html_type)
            if end_re is not None and end_re.search(self.line, self.pos):
                self._finalize(container)
        elif kind is _Kind.PARAGRAPH:
            container.lines.append(self._rest())
        elif kind is _Kind.TABLE:
            container.rows.append(self._rest())
        elif not self.blank:
            para = self._add_child(_Block(_Kind.PARAGRAPH))
            para.lines.append(self._rest())

    def _close_unmatched(self) -> None:
        if self.all_closed:
            return
        while self.old_tip is not self.last_matched:
            parent = self.old_tip.parent
            self._finalize(self.old_tip)
            assert parent is not None
            self.old_tip = parent
        self.all_closed = True

    def _continue(self, block: _Block) -> int:
        """0 matched, 1 not matched, 2 line consumed."""
        kind = block.kind
        if kind is _Kind.BLOCKQUOTE:
            if not self.indented and not self.blank and self.line[self.next_nonspace] == ">":
                self._advance_next_nonspace()
                self._advance(1, False)
                if self.pos < len(self.line) and self.line[self.pos] in " \t":
                    self._advance(1, True)
                return 0
            return 1
        if kind is _Kind.LIST:
            return 0
        if kind is _Kind.ITEM:
            if self.blank:
                if not block.children:
                    return 1  # an item can begin with at most one blank line
                self._advance_next_nonspace()
                return 0
            if self.indent >= block.content_indent:
                self._advance(block.content_indent, True)
                return 0
            return 1
        if kind is _Kind.FENCED:
            rest = self.line[self.next_nonspace :]
            if self.indent <= 3 and rest[:1] == block.fence_char:
                run = len(rest) - len(rest.lstrip(block.fence_char))
                if run >= block.fence_len and _is_blank(rest[run:]):
                    self._finalize(block)
                    return 2
            skip = block.fence_indent
            while skip > 0 and self.pos < len(self.line) and self.line[self.pos] == " ":
                self._advance(1, True)
                skip -= 1
            return 0
        if kind is _Kind.INDENTED:
            if self.indented:
                self._advance(4, True)
                return 0
            if self.blank:
                self._advance_next_nonspace()
                return 0
            return 1
        if kind is _Kind.HTML:
            return 1 if self.blank and block.html_type in (6, 7) else 0
        if kind in (_Kind.PARAGRAPH, _Kind.TABLE):
            return 1 if self.blank else 0
        return 1  # headings and thematic breaks take one line

    def _add_child(self, block: _Block) -> _Block:
        """Add ``block`` under the tip, closing tips that cannot contain it."""
        while not _can_contain(self.tip, block.kind):
            self._finalize(self.tip)
        self.tip.add(block)
        self.tip = block
        return block

    def _finalize(self, block: _Block) -> None:
        if not block.is_open:
            return
        block.is_open = False
        if block.kind is _Kind.PARAGRAPH:
            self._take_definitions(block)
            if not block.lines and block.parent is not None:
                block.parent.children.remove(block)
        self.tip = block.parent or self.root

    # ---- starts

    def _try_starts(self, container: _Block) -> tuple[_Block, bool, bool] | None:
        """A block starting at the cursor: (new container, is a leaf, line consumed), or None."""
        line, i = self.line, self.next_nonspace
        ch = line[i] if i < len(line) else ""
        if not self.indented:
            if ch == ">":
                self._advance_next_nonspace()
                self._advance(1, False)
                if self.pos < len(line) and line[self.pos] in " \t":
                    self._advance(1, True)
                self._close_unmatched()
                return self._add_child(_Block(_Kind.BLOCKQUOTE)), False, False
            if ch == "#" and (m := _ATX.match(line, i)):
                self._close_unmatched()
                content_start = m.end()
                content = line[content_start:]
                stripped = _ATX_CLOSE.sub("", content).strip(" \t")
                inner = content_start + (len(content) - len(content.lstrip(" \t")))
                block = self._add_child(_Block(_Kind.HEADING, level=len(m.group(0))))
                block.lines.append(
                    _Line(self.line_start + inner, self.line_start + inner + len(stripped), self.line_start)
                )
                block.span_start = self.line_start
                block.span_end = self.line_start + len(line)
                self._finalize(block)
                return block, True, True
            if ch in "`~" and (m := _FENCE_OPEN.match(line, i)):
                fence = m.group(1)
                if not (fence[0] == "`" and "`" in line[m.end() :]):
                    self._close_unmatched()
                    block = self._add_child(_Block(_Kind.FENCED))
                    block.fence_char = fence[0]
                    block.fence_len = len(fence)
                    block.fence_indent = self.indent
                    return block, True, True
            if ch == "<":
                rest = line[i:]
                html_type = 0
                for kind, regex in _HTML_START:
                    m = regex.match(rest)
                    if m is not None and (kind != 6 or m.group(1).lower() in _HTML_BLOCK_TAGS):
                        html_type = kind
                        break
                if not html_type and container.kind is not _Kind.PARAGRAPH and _HTML7_START.match(rest):
                    html_type = 7
                if html_type:
                    self._close_unmatched()
                    # the whole line is content, indentation included
                    return self._add_child(_Block(_Kind.HTML, html_type=html_type)), True, False
            if ch in "=-" and container.kind is _Kind.PARAGRAPH and _SETEXT.match(line, i):
                self._close_unmatched()
                self._take_definitions(container)
                if container.lines:
                    container.kind = _Kind.HEADING
                    container.level = 1 if ch == "=" else 2
                    container.span_start = container.lines[0].line_start
                    container.span_end = self.line_start + len(line)
                    self._finalize(container)
                    return container, True, True
            if ch in "*-_" and _THEMATIC.match(line, i):
                self._close_unmatched()
                block = self._add_child(_Block(_Kind.THEMATIC))
                self._finalize(block)
                return block, True, True
        if not self.indented or container.kind is _Kind.LIST:
            item = self._try_list_item(container)
            if item is not None:
                return item, False, False
        if self.indented and self.tip.kind is not _Kind.PARAGRAPH and not self.blank:
            self._advance(4, True)
            self._close_unmatched()
            return self._add_child(_Block(_Kind.INDENTED)), True, False
        if not self.indented and container.kind is _Kind.PARAGRAPH and self._is_table_start(container):
            self._close_unmatched()
            return self._start_table(container), True, True
        return None

    def _try_list_item(self, container: _Block) -> _Block | None:
        line, i = self.line, self.next_nonspace
        if self.indented and container.kind is not _Kind.LIST:
            return None
        m = _BULLET.match(line, i)
        ordered = False
        start_number = 1
        if m:
            bullet = m.group(0)
        else:
            m = _ORDERED.match(line, i)
            if m is None:
                return None
            ordered = True
            bullet = m.group(2)
            start_number = int(m.group(1))
        after = m.end()
        if after < len(line) and line[after] not in " \t":
            return None
        rest_blank = _is_blank(line[after:])
        if container.kind is _Kind.PARAGRAPH and (rest_blank or (ordered and start_number != 1)):
            return None  # an empty item or a number other than 1 cannot interrupt a paragraph
        self._advance_next_nonspace()
        marker_col = self.col
        self._advance(after - i, True)
        spaces_col = self.col
        saved = (self.pos, self.col, self.partial_tab)
        while self.col - spaces_col < 5 and self.pos < len(line) and line[self.pos] in " \t":
            self._advance(1, True)
        padding = self.col - spaces_col
        if padding >= 5 or padding < 1 or self.pos >= len(line):
            # blank after the marker, or indented code in the item: the content starts one column in
            self.pos, self.col, self.partial_tab = saved
            padding = 1
            if self.pos < len(line) and line[self.pos] in " \t":
                self._advance(1, True)
        self._close_unmatched()
        tip = self.tip
        if not (tip.kind is _Kind.LIST and tip.bullet == bullet and tip.ordered == ordered):
            self._add_child(_Block(_Kind.LIST, bullet=bullet, ordered=ordered))
        return self._add_child(_Block(_Kind.ITEM, content_indent=spaces_col - marker_col + padding))

    def _is_table_start(self, para: _Block) -> bool:
        if not para.lines:
            return False
        row = self.line[self.next_nonspace :]
        delim = _split_cells(row)
        if not all(_TABLE_DELIM_CELL.match(c) for c in delim):
            return False
        if len(delim) == 1 and "|" not in row:
            return False  # "---" alone is a setext underline or a rule, not a one-column table
        header = para.lines[-1]
        return len(_split_cells(self.text[header.start : header.end])) == len(delim)

    def _start_table(self, para: _Block) -> _Block:
        # the paragraph's last line is the header row; lines before it stay a paragraph
        header = para.lines.pop()
        parent = para.parent
        assert parent is not None
        self._finalize(para)
        table = _Block(_Kind.TABLE, header=header)
        parent.add(table)
        self.tip = table
        return table

    # ---- link reference definitions

    def _take_definitions(self, para: _Block) -> None:
        """Consume leading link reference definitions of a paragraph."""
        while para.lines:
            first = para.lines[0]
            if self.text[first.start : min(first.start + 4, first.end)].lstrip(" ")[:1] != "[":
                return  # a definition starts with '[' after at most three spaces
            joined, starts = _join_lines(self.text, para.lines)
            parsed = _parse_definition(joined)
            if parsed is None:
                return
            consumed, label, url_start, url_end, url, form = parsed
            self.definitions.setdefault(normalize_label(label), url)
            self.definition_dests.append(
                Destination(_map(starts, url_start), _map(starts, url_end), url, form, image=False)
            )
            used = len(para.lines) if consumed >= len(joined) else joined.count("\n", 0, consumed)
            del para.lines[:used]


_MAYBE_SPECIAL = frozenset("#`~<>*+-_=0123456789|:")


def _can_contain(parent: _Block, kind: _Kind) -> bool:
    if parent.kind is _Kind.LIST:
        return kind is _Kind.ITEM
    if parent.kind in (_Kind.DOCUMENT, _Kind.BLOCKQUOTE, _Kind.ITEM):
        return kind is not _Kind.ITEM
    return False


def _split_cells(row: str) -> list[str]:
    """Cells of a GFM table row: split on unescaped pipes, outer pipes optional."""
    s = row.strip(" \t")
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            current.append(s[i : i + 2])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    return cells


def _cell_spans(text: str, line: _Line) -> list[tuple[int, int]]:
    """(start, end) offsets of each cell's content in a table row."""
    spans: list[tuple[int, int]] = []
    i, end = line.start, line.end
    while i < end and text[i] in " \t":
        i += 1
    if i < end and text[i] == "|":
        i += 1
    cell_start = i
    while i < end:
        ch = text[i]
        if ch == "\\" and i + 1 < end:
            i += 2
            continue
        if ch == "|":
            spans.append((cell_start, i))
            cell_start = i + 1
        i += 1
    if text[cell_start:end].strip(" \t"):
        spans.append((cell_start, end))
    trimmed: list[tuple[int, int]] = []
    for a, b in spans:
        while a < b and text[a] in " \t":
            a += 1
        while b > a and text[b - 1] in " \t":
            b -= 1
        trimmed.append((a, b))
    return trimmed


def _join_lines(text: str, lines: list[_Line]) -> tuple[str, list[tuple[int, int]]]:
    """Lines joined with LF, with (joined offset, source offset) of each line's start for mapping back."""
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    at = 0
    for line in lines:
        starts.append((at, line.start))
        piece = text[line.start : line.end]
        parts.append(piece)
        at += len(piece) + 1
    return "\n".join(parts), starts


def _map(starts: list[tuple[int, int]], offset: int) -> int:
    """A joined-text offset back to the source offset."""
    source = starts[0][1]
    base = 0
    for joined_at, source_at in starts:
        if joined_at > offset:
            break
        base, source = joined_at, source_at
    return source + (offset - base)


_ESCAPABLE = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_ENTITY = re.compile(r"&(?:#[xX][0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_markdown(s: str) -> str:
    """Backslash escapes and entity references in a destination, as CommonMark reads them."""
    s = re.sub(r"\\([" + re.escape(_ESCAPABLE) + "])", lambda m: m.group(1), s)
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), s)


def _parse_destination(s: str, i: int) -> tuple[int, int, int, DestForm] | None:
    """A link destination at ``s[i]``: (content start, content end, next index, form)."""
    if i < len(s) and s[i] == "<":
        j = i + 1
        while j < len(s):
            ch = s[j]
            if ch == "\\" and j + 1 < len(s):
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
    while j < len(s):
        ch = s[j]
        if ch == "\\" and j + 1 < len(s) and s[j + 1] in _ESCAPABLE:
            j += 2
            continue
        if ch == "(":
            depth += 1
            if depth > 32:
                return None
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        elif ch in " \t\n" or ord(ch) < 0x20 or ch == "\x7f":
            break
        j += 1
    if depth != 0:
        return None
    return i, j, j, DestForm.BARE


def _parse_title(s: str, i: int) -> int | None:
    """A link title at ``s[i]``; returns the index after it."""
    if i >= len(s):
        return None
    opener = s[i]
    closer = {'"': '"', "'": "'", "(": ")"}.get(opener)
    if closer is None:
        return None
    j = i + 1
    while j < len(s):
        ch = s[j]
        if ch == "\\" and j + 1 < len(s):
            j += 2
            continue
        if ch == closer:
            return j + 1
        if opener == "(" and ch == "(":
            return None
        if ch == "\n" and j + 1 < len(s) and s[j + 1] == "\n":
            return None
        j += 1
    return None


def _skip_ws(s: str, i: int, *, max_newlines: int = 1) -> int:
    newlines = 0
    while i < len(s) and s[i] in " \t\n":
        if s[i] == "\n":
            newlines += 1
            if newlines > max_newlines:
                break
        i += 1
    return i


def _parse_definition(s: str) -> tuple[int, str, int, int, str, DestForm] | None:
    """A link reference definition at the start of ``s``."""
    i = 0
    while i < len(s) and i < 3 and s[i] == " ":
        i += 1
    if i >= len(s) or s[i] != "[":
        return None
    j = i + 1
    while j < len(s):
        ch = s[j]
        if ch == "\\" and j + 1 < len(s):
            j += 2
            continue
        if ch == "[":
            return None
        if ch == "]":
            break
        j += 1
    else:
        return None
    label = s[i + 1 : j]
    if not label.strip() or len(label) > 999 or j + 1 >= len(s) or s[j + 1] != ":":
        return None
    k = _skip_ws(s, j + 2)
    dest = _parse_destination(s, k)
    if dest is None:
        return None
    d_start, d_end, after, form = dest
    if form is DestForm.BARE and d_start == d_end:
        return None
    url = unescape_markdown(s[d_start:d_end])
    # optional title, then nothing but spaces to the end of the line
    t = _skip_ws(s, after)
    if t > after:
        title_end = _parse_title(s, t)
        if title_end is not None:
            e = title_end
            while e < len(s) and s[e] in " \t":
                e += 1
            if e >= len(s) or s[e] == "\n":
                return min(e + 1, len(s)), label, d_start, d_end, url, form
    e = after
    while e < len(s) and s[e] in " \t":
        e += 1
    if e >= len(s) or s[e] == "\n":
        return min(e + 1, len(s)), label, d_start, d_end, url, form
    return None


# ------------------------------------------------------------------------------------------- inline

_AUTOLINK_URI = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>")
_AUTOLINK_EMAIL = re.compile(
    r"<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>"
)
_INLINE_HTML = re.compile(
    _OPEN_TAG
    + "|"
    + _CLOSE_TAG
    + r"|<!---->|<!--(?:-?[^>-])(?:-?[^-])*-->|<\?.*?\?>|<![A-Za-z]+[^>]*>|<!\[CDATA\[.*?\]\]>",
    re.S,
)
_INLINE_SPECIAL = re.compile(r"[\\`<!\[*_~\n]")
_DEST_SPECIAL = re.compile(r"[\\`<!\[]")  # what can start an escape, code span, tag, link or image
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


@dataclass
class _Delim:
    char: str
    count: int
    orig: int
    can_open: bool
    can_close: bool
    index: int  # position in the token list


class _InlineContext:
    """Scans inline content; collects destinations and renders text-content HTML."""

    def __init__(self, text: str, definitions: dict[str, str]) -> None:
        self.text = text
        self.definitions = definitions
        self.destinations: list[Destination] = []

    def render(self, lines: list[_Line]) -> str:
        if not lines:
            return ""
        joined, starts = _join_lines(self.text, lines)
        # trailing spaces of the last line are not content
        html_out, dests, _ = self._parse(joined, 0, len(joined.rstrip(" \t")), starts)
        self.destinations.extend(dests)
        return html_out

    def render_span(self, start: int, end: int) -> str:
        return self.render([_Line(start, end, start)])

    def collect(self, lines: list[_Line]) -> None:
        """The destinations :meth:`render` would find in ``lines``, without rendering anything."""
        if not lines:
            return
        text, first, last = self.text, lines[0].start, lines[-1].end
        # every destination starts at a '[' (links, images) or a '<' (raw HTML): none, nothing to do
        if text.find("[", first, last) < 0 and text.find("<", first, last) < 0:
            return
        joined, starts = _join_lines(text, lines)
        dests, _ = self._dests(joined, 0, len(joined.rstrip(" \t")), starts)
        self.destinations.extend(dests)

    def collect_span(self, start: int, end: int) -> None:
        self.collect([_Line(start, end, start)])

    def _dests(self, s: str, start: int, end: int, starts: list[tuple[int, int]]) -> tuple[list[Destination], bool]:
        """:meth:`_parse` without the HTML: the same walk over what can hold a destination, the rest skipped."""
        dests: list[Destination] = []
        has_link = False
        if s.find("[", start, end) < 0 and s.find("<", start, end) < 0:
            return dests, has_link
        i = start
        while i < end:
            ch = s[i]
            if ch == "\\":
                i += 2 if i + 1 < end and (s[i + 1] in _ESCAPABLE or s[i + 1] == "\n") else 1
                continue
            if ch == "`":
                run = _run_length(s, i, end, "`")
                close = _find_code_close(s, i + run, end, run)
                i = i + run if close is None else close + run
                continue
            if ch == "<":
                m = _AUTOLINK_URI.match(s, i, end) or _AUTOLINK_EMAIL.match(s, i, end)
                if m:
                    i = m.end()
                    continue
                m = _INLINE_HTML.match(s, i, end)
                if m:
                    raw = m.group(0)
                    for d in html_tag_destinations(raw, i):
                        dests.append(
                            Destination(_map(starts, d.start), _map(starts, d.end), d.url, d.form, d.image, d.quote)
                        )
                    if raw.startswith("<a") or raw.startswith("<A"):
                        has_link = True
                    i = m.end()
                    continue
                i += 1
                continue
            if ch == "[" or (ch == "!" and i + 1 < end and s[i + 1] == "["):
                image = ch == "!"
                result = self._try_link(s, i + (1 if image else 0), end, starts, image, render=False)
                if result is not None:
                    link_end, _inner_html, inner_dests, own = result
                    if not image:
                        dests.extend(inner_dests)
                        has_link = True
                    if own is not None:
                        dests.append(own)
                    i = link_end
                    continue
                i += 2 if image else 1
                continue
            # anything else only renders: skip to the next character that can start a code span, tag or link
            special = _DEST_SPECIAL.search(s, i + 1, end)
            i = end if special is None else special.start()
        return dests, has_link

    # s: the joined text; positions map back through starts
    def _parse(
        self, s: str, start: int, end: int, starts: list[tuple[int, int]]
    ) -> tuple[str, list[Destination], bool]:
        tokens: list[str] = []
        delims: list[_Delim] = []
        dests: list[Destination] = []
        has_link = False
        text_buf: list[str] = []

        def flush() -> None:
            if text_buf:
                tokens.append(_escape_text("".join(text_buf)))
                text_buf.clear()

        i = start
        while i < end:
            ch = s[i]
            if ch == "\\":
                if i + 1 < end and s[i + 1] in _ESCAPABLE:
                    text_buf.append(s[i + 1])
                    i += 2
                    continue
                if i + 1 < end and s[i + 1] == "\n":
                    text_buf.append("\n")
                    i += 2
                    continue
                text_buf.append(ch)
                i += 1
                continue
            if ch == "`":
                run = _run_length(s, i, end, "`")
                close = _find_code_close(s, i + run, end, run)
                if close is None:
                    text_buf.append("`" * run)
                    i += run
                    continue
                content = s[i + run : close].replace("\n", " ")
                if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
                    content = content[1:-1]
                text_buf.append(content)
                i = close + run
                continue
            if ch == "<":
                m = _AUTOLINK_URI.match(s, i, end) or _AUTOLINK_EMAIL.match(s, i, end)
                if m:
                    text_buf.append(m.group(0)[1:-1])
                    i = m.end()
                    continue
                m = _INLINE_HTML.match(s, i, end)
                if m:
                    flush()
                    raw = m.group(0)
                    for d in html_tag_destinations(raw, i):
                        dests.append(
                            Destination(_map(starts, d.start), _map(starts, d.end), d.url, d.form, d.image, d.quote)
                        )
                    if raw.startswith("<a") or raw.startswith("<A"):
                        has_link = True
                    tokens.append(raw)
                    i = m.end()
                    continue
                text_buf.append(ch)
                i += 1
                continue
            if ch == "[" or (ch == "!" and i + 1 < end and s[i + 1] == "["):
                image = ch == "!"
                result = self._try_link(s, i + (1 if image else 0), end, starts, image)
                if result is not None:
                    link_end, inner_html, inner_dests, own = result
                    flush()
                    if image:
                        tokens.append("<img />")  # alt text is an attribute: no text content
                    else:
                        tokens.append(inner_html)
                        dests.extend(inner_dests)
                        has_link = True
                    if own is not None:
                        dests.append(own)
                    i = link_end
                    continue
                text_buf.append(s[i : i + (2 if image else 1)])
                i += 2 if image else 1
                continue
            if ch in "*_~":
                run = _run_length(s, i, end, ch)
                before = s[i - 1] if i > start else "\n"
                after = s[i + run] if i + run < end else "\n"
                left = not after.isspace() and (not _is_punct(after) or before.isspace() or _is_punct(before))
                right = not before.isspace() and (not _is_punct(before) or after.isspace() or _is_punct(after))
                if ch == "_":
                    can_open = left and (not right or _is_punct(before))
                    can_close = right and (not left or _is_punct(after))
                else:
                    can_open, can_close = left, right
                flush()
                delims.append(_Delim(ch, run, run, can_open, can_close, len(tokens)))
                tokens.append(ch * run)
                i += run
                continue
            if ch == "\n":
                # hard and soft breaks both render as whitespace; trailing spaces are not content
                while text_buf and text_buf[-1] == " ":
                    text_buf.pop()
                text_buf.append("\n")
                i += 1
                while i < end and s[i] in " \t":
                    i += 1
                continue
            # ordinary text: copy up to the next character that can start something
            special = _INLINE_SPECIAL.search(s, i + 1, end)
            stop = end if special is None else special.start()
            text_buf.append(s[i:stop])
            i = stop
        flush()
        _process_emphasis(tokens, delims)
        return "".join(tokens), dests, has_link

    def _try_link(
        self, s: str, i: int, end: int, starts: list[tuple[int, int]], image: bool, *, render: bool = True
    ) -> tuple[int, str, list[Destination], Destination | None] | None:
        """A link or image whose ``[`` is at ``i``: (end, text html, destinations inside, own destination)."""
        close = _find_bracket_close(s, i + 1, end)
        if close is None:
            return None
        label_text = s[i + 1 : close]
        own: Destination | None = None
        link_end: int | None = None
        j = close + 1
        if j < end and s[j] == "(":
            k = _skip_ws(s, j + 1)
            dest = _parse_destination(s, k) if k < end else None
            if dest is not None:
                d_start, d_end, after, form = dest
                d_end = min(d_end, end)
                t = _skip_ws(s, after)
                if t < end and s[t] == ")":
                    link_end = t + 1
                elif t > after:
                    title_end = _parse_title(s, t)
                    if title_end is not None and title_end <= end:
                        t2 = _skip_ws(s, title_end)
                        if t2 < end and s[t2] == ")":
                            link_end = t2 + 1
                if link_end is not None:
                    url = unescape_markdown(s[d_start:d_end])
                    own = Destination(_map(starts, d_start), _map(starts, d_end), url, form, image)
        if link_end is None and j < end and s[j] == "[":
            ref_close = _find_bracket_close(s, j + 1, end, nested=False)
            if ref_close is not None:
                label = s[j + 1 : ref_close] or label_text
                if normalize_label(label) in self.definitions:
                    link_end = ref_close + 1
        if link_end is None and normalize_label(label_text) in self.definitions:
            link_end = close + 1
        if link_end is None:
            return None
        if render:
            inner_html, inner_dests, inner_link = self._parse(s, i + 1, close, starts)
        else:
            inner_html = ""
            inner_dests, inner_link = self._dests(s, i + 1, close, starts)
        if inner_link and not image:
            return None  # links may not contain links: the inner one wins, this bracket is text
        if image:
            inner_dests = []  # an image description renders as plain alt text
        return link_end, inner_html, inner_dests, own


def _run_length(s: str, i: int, end: int, ch: str) -> int:
    j = i
    while j < end and s[j] == ch:
        j += 1
    return j - i


def _find_code_close(s: str, i: int, end: int, run: int) -> int | None:
    while True:
        j = s.find("`" * run, i, end)
        if j < 0:
            return None
        length = _run_length(s, j, end, "`")
        if length == run:
            return j
        i = j + length


def _find_bracket_close(s: str, i: int, end: int, *, nested: bool = True) -> int | None:
    """The ``]`` matching a ``[`` just before ``i``; code spans, autolinks and HTML bind tighter."""
    depth = 0
    while i < end:
        ch = s[i]
        if ch == "\\" and i + 1 < end:
            i += 2
            continue
        if ch == "`":
            run = _run_length(s, i, end, "`")
            close = _find_code_close(s, i + run, end, run)
            i = close + run if close is not None else i + run
            continue
        if ch == "<":
            m = _AUTOLINK_URI.match(s, i, end) or _AUTOLINK_EMAIL.match(s, i, end) or _INLINE_HTML.match(s, i, end)
            if m:
                i = m.end()
                continue
        if ch == "[":
            if not nested:
                return None
            depth += 1
        elif ch == "]":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return None


def _is_punct(ch: str) -> bool:
    return ch in _ESCAPABLE or unicodedata.category(ch).startswith(("P", "S"))


def _process_emphasis(tokens: list[str], delims: list[_Delim]) -> None:
    """Drop the delimiter characters that form emphasis or strikethrough; the rest stay text."""
    closer_idx = 0
    while closer_idx < len(delims):
        closer = delims[closer_idx]
        if not closer.can_close or closer.count == 0:
            closer_idx += 1
            continue
        opener_idx = closer_idx - 1
        matched = False
        while opener_idx >= 0:
            opener = delims[opener_idx]
            if opener.char == closer.char and opener.can_open and opener.count > 0:
                if closer.char == "~":
                    ok = opener.count == closer.count and opener.count <= 2
                else:
                    odd = (opener.can_close or closer.can_open) and (opener.orig + closer.orig) % 3 == 0
                    ok = not odd or (opener.orig % 3 == 0 and closer.orig % 3 == 0)
                if ok:
                    matched = True
                    break
            opener_idx -= 1
        if not matched:
            closer_idx += 1
            continue
        use = opener.count if closer.char == "~" else (2 if opener.count >= 2 and closer.count >= 2 else 1)
        opener.count -= use
        closer.count -= use
        tokens[opener.index] = opener.char * opener.count
        tokens[closer.index] = closer.char * closer.count
        # delimiters between them can no longer match anything
        for between in delims[opener_idx + 1 : closer_idx]:
            between.can_open = between.can_close = False
        if closer.count == 0:
            closer_idx += 1


def _escape_text(s: str) -> str:
    # '&' stays so entity references decode as the renderer decodes them
    return s.replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------------------------------ render


def _heading(block: _Block, text: str, top: bool) -> HeadingBlock:
    source = "\n".join(text[ln.start : ln.end] for ln in block.lines).strip()
    return HeadingBlock(block.level, block.span_start, _line_end(text, block.span_end), source, top)


def _collect(block: _Block, inline: _InlineContext, headings: list[HeadingBlock], *, top: bool) -> None:
    """:func:`_render`'s walk for destinations and headings only: what every scan needs."""
    kind = block.kind
    text = inline.text
    if kind is _Kind.PARAGRAPH:
        inline.collect(block.lines)
    elif kind is _Kind.HEADING:
        headings.append(_heading(block, text, top))
        inline.collect(block.lines)
    elif kind is _Kind.HTML:
        if block.lines:
            inline.destinations.extend(html_block_destinations(text, block.lines[0].start, block.lines[-1].end))
    elif kind is _Kind.TABLE:
        assert block.header is not None
        for row in (block.header, *block.rows):
            if text.find("[", row.start, row.end) >= 0 or text.find("<", row.start, row.end) >= 0:
                for a, b in _cell_spans(text, row):
                    inline.collect_span(a, b)
    elif kind in _CONTAINERS:
        for child in block.children:
            _collect(child, inline, headings, top=False)


def _render(block: _Block, inline: _InlineContext, headings: list[HeadingBlock], *, top: bool) -> str:
    kind = block.kind
    text = inline.text
    if kind is _Kind.PARAGRAPH:
        return "<p>" + inline.render(block.lines) + "</p>"
    if kind is _Kind.HEADING:
        headings.append(_heading(block, text, top))
        return f'<h{block.level} data-md-heading="">' + inline.render(block.lines) + f"</h{block.level}>"
    if kind in (_Kind.FENCED, _Kind.INDENTED):
        lines = [text[ln.start : ln.end] for ln in block.lines]
        if kind is _Kind.INDENTED:
            while lines and _is_blank(lines[-1]):
                lines.pop()
        body = "".join(line + "\n" for line in lines)
        return "<pre><code>" + html.escape(body, quote=False) + "</code></pre>"
    if kind is _Kind.HTML:
        if block.lines:
            start, end = block.lines[0].start, block.lines[-1].end
            inline.destinations.extend(html_block_destinations(text, start, end))
        return "\n".join(text[ln.start : ln.end] for ln in block.lines)
    if kind is _Kind.THEMATIC:
        return "<hr />"
    if kind is _Kind.TABLE:
        assert block.header is not None
        out = ["<table>", "<thead>", "<tr>"]
        out.extend("<th>" + inline.render_span(a, b) + "</th>" for a, b in _cell_spans(text, block.header))
        out.extend(["</tr>", "</thead>"])
        if block.rows:
            out.append("<tbody>")
            for row in block.rows:
                out.append("<tr>")
                out.extend("<td>" + inline.render_span(a, b) + "</td>" for a, b in _cell_spans(text, row))
                out.append("</tr>")
            out.append("</tbody>")
        out.append("</table>")
        return "\n".join(out)
    inner = "\n".join(_render(child, inline, headings, top=False) for child in block.children)
    tag = {
        _Kind.BLOCKQUOTE: "blockquote",
        _Kind.LIST: "ol" if block.ordered else "ul",
        _Kind.ITEM: "li",
    }.get(kind)
    if tag is None:
        return inner
    return f"<{tag}>\n{inner}\n</{tag}>"


def _line_end(text: str, offset: int) -> int:
    """Offset just past the newline ending the line that contains ``offset - 1``."""
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1


__all__ = [
    "DestForm",
    "Destination",
    "HeadingBlock",
    "Scan",
    "normalize_label",
    "scan",
    "unescape_markdown",
]
