"""Text helpers of the fake: Laravel-style slugs, a Markdown renderer and BookStack's bookmark IDs.

The renderer is pulldown-cmark, a CommonMark implementation like BookStack's league/commonmark, with the
same extensions; its HTML has the same shape (one block per line, ``<pre><code class="language-x">``).
"""

from __future__ import annotations

import html
import re
import secrets
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote_plus

import pyromark

# Symbols Str::slug turns into words before stripping (Laravel's ascii() knows many more).
_SLUG_WORDS = {
    "@": " at ",
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "ø": "o",
    "Ø": "O",
    "œ": "oe",
    "đ": "d",
    "ł": "l",
    "Ł": "L",
}


def slugify(name: str) -> str:
    """Laravel ``Str::slug``: ASCII-fold, lowercase, drop punctuation, runs of space/dash/underscore -> '-'.

    Punctuation is removed, not replaced ("draw.io" -> "drawio", "html+markdown" -> "htmlmarkdown"),
    as in ``pages-list.json`` and the v26 import transcript. An empty slug becomes 5 random hex chars
    (BookStack ``SlugGenerator``).
    """
    text = "".join(_SLUG_WORDS.get(ch, ch) for ch in name)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.replace("_", "-").lower()
    text = re.sub(r"[^-a-z0-9\s]+", "", text)
    text = re.sub(r"[-\s]+", "-", text).strip("-")
    return text or secrets.token_hex(3)[:5]


def random_suffix(length: int = 3) -> str:
    """Mixed-case alphanumerics, like Laravel ``Str::random`` used for slug clashes (``dup-49t``)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


# ---------------------------------------------------------------------------------------------- markdown

# league/commonmark as BookStack configures it: CommonMark with tables, task lists and strikethrough; no
# autolinking of bare URLs, no footnotes, no alerts.
_RENDERER = pyromark.Markdown(
    options=pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_TASKLISTS | pyromark.Options.ENABLE_STRIKETHROUGH
)


def render_markdown(markdown: str) -> str:
    """Render Markdown to HTML as league/commonmark does: one block per line, ending in a newline.

    pulldown-cmark (CommonMark 0.31, linear on any input) stands in for league/commonmark.
    """
    return _RENDERER.html(markdown.replace("\r\n", "\n").replace("\r", "\n"))


# ---------------------------------------------------------------------------------------- bookmark IDs
#
# BookStack (PageContent::formatHtml and setUniqueId, app/Entities/Tools/PageContent.php, unchanged from
# v19 to v26) walks the body in document order and gives an id to every top-level element, to every
# heading however deep, and to every element that has an id. An id starting with "bkmrk" is kept the first
# time it is seen; any other is replaced by one made from the element's text, and the links inside the
# body that named the replaced id follow it (updateLinks). The id made from the text: PHP trim(), each run
# of ASCII whitespace ('\s' without the /u flag) to '-', ASCII-only strtolower (PHP 8), the first 20
# characters, "bkmrk-" before it, then urlencode(); a taken id gets "-1", "-2"... before encoding.

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_TRIMMED = " \t\n\r\0\x0b"  # what PHP's trim() strips by default
_WHITESPACE_RUN = re.compile(r"[ \t\n\x0b\f\r]+")
_UPPER_TO_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_TAG_NAME = re.compile(r"<[^\s/>]+")


@dataclass
class _StartTag:
    offset: int  # of its '<' in the source
    written: str  # the start tag as it stands in the source
    attrs: dict[str, str]
    top_level: bool
    text: list[str] | None  # the element's text (its nodeValue), collected only for an element that gets an id


class _Elements(HTMLParser):
    """Every start tag in document order, with the text of the elements BookStack gives an id."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._line_starts = [0] + [index + 1 for index, ch in enumerate(source) if ch == "\n"]
        self._open: list[tuple[str, _StartTag]] = []
        self._collecting: list[_StartTag] = []  # the open elements whose text is collected (few, on any page)
        self.tags: list[_StartTag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        first: dict[str, str] = {}
        for name, value in attrs:
            first.setdefault(name, value or "")
        top_level = not self._open
        # PHP's `$child->getAttribute('id')` is falsy for "" and "0"
        gets_id = top_level or tag in _HEADINGS or first.get("id", "") not in ("", "0")
        line, column = self.getpos()
        written = self.get_starttag_text() or ""
        start = _StartTag(self._line_starts[line - 1] + column, written, first, top_level, [] if gets_id else None)
        self.tags.append(start)
        if tag not in _VOID:
            self._open.append((tag, start))
            if gets_id:
                self._collecting.append(start)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:  # well-formed: at once, however deep the nesting
            depth = len(self._open) - 1
        else:
            depth = next((d for d in range(len(self._open) - 1, -1, -1) if self._open[d][0] == tag), -1)
            if depth < 0:
                return  # a stray end tag closes nothing
        for _, closed in self._open[depth:]:
            if closed.text is not None:
                self._collecting.pop()
        del self._open[depth:]

    def handle_data(self, data: str) -> None:
        for start in self._collecting:
            assert start.text is not None
            start.text.append(data)


def _text_id(text: str) -> str:
    """The id BookStack makes from an element's text, before urlencode."""
    dashed = _WHITESPACE_RUN.sub("-", text.strip(_TRIMMED)).translate(_UPPER_TO_LOWER)
    return "bkmrk-" + dashed[:20]


def _urlencode(text: str) -> str:
    """PHP ``urlencode``: only ``[A-Za-z0-9_.-]`` stay, a space becomes '+', so '~' is encoded as well."""
    return quote_plus(text, safe="").replace("~", "%7E")


def _set_attribute(start_tag: str, name: str, value: str) -> str:
    present = re.search(rf"(?<=\s){name}(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?(?=[\s/>])", start_tag, re.I)
    if present is not None:
        return f'{start_tag[: present.start()]}{name}="{value}"{start_tag[present.end() :]}'
    end = _TAG_NAME.match(start_tag)
    cut = end.end() if end is not None else len(start_tag)
    return f'{start_tag[:cut]} {name}="{value}"{start_tag[cut:]}'


def add_bookmark_ids(source: str) -> str:
    """The page HTML as BookStack stores it: ``bkmrk-`` ids set as ``PageContent::formatHtml`` sets them."""
    scanner = _Elements(source)
    scanner.feed(source)
    scanner.close()
    taken: set[str] = set()
    replaced: dict[str, str] = {}  # id it had ("" for none) -> id it got
    rewritten: dict[int, str] = {}  # offset of a start tag -> the tag as it becomes
    for start in scanner.tags:
        if start.text is None:
            continue
        had = start.attrs.get("id", "")
        if had.startswith("bkmrk") and had not in taken:
            taken.add(had)
            continue
        base = _text_id("".join(start.text))
        given, suffix = _urlencode(base), 1
        while given in taken:
            given, suffix = _urlencode(f"{base}-{suffix}"), suffix + 1
        taken.add(given)
        rewritten[start.offset] = _set_attribute(start.written, "id", given)
        if had not in taken:
            replaced[had] = given  # as BookStack: "" too, so a link to "#" names the last element given an id
    for start in scanner.tags:
        href = start.attrs.get("href")
        # updateLinks looks only inside the top-level elements (`//body//*//*[@href]`)
        target = replaced.get(href.lstrip("#")) if href is not None and not start.top_level else None
        if target:
            rewritten[start.offset] = _set_attribute(rewritten.get(start.offset, start.written), "href", f"#{target}")
    pieces: list[str] = []
    done = 0
    for start in scanner.tags:
        if start.offset in rewritten:
            pieces += [source[done : start.offset], rewritten[start.offset]]
            done = start.offset + len(start.written)
    return "".join(pieces) + source[done:]


def html_to_text(source: str) -> str:
    """Plain text of some HTML (for search previews, descriptions and matching)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", source, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def plain_to_description_html(description: str) -> str:
    """BookStack wraps a plain ``description`` in one paragraph (``"<p></p>"`` when empty, transcript 11)."""
    return "<p>" + html.escape(description, quote=False).replace("\n", "<br>") + "</p>"
