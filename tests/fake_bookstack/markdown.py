"""Text helpers of the fake: Laravel-style slugs, a Markdown renderer and BookStack's bookmark IDs.

The renderer is pulldown-cmark, a CommonMark implementation like BookStack's league/commonmark, with the
same extensions; its HTML has the same shape (one block per line, ``<pre><code class="language-x">``).
"""

from __future__ import annotations

import html
import re
import secrets
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote

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

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _TopLevelScanner(HTMLParser):
    """Finds top-level elements (where BookStack adds ``id="bkmrk-..."``) and their text."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._line_starts = [0]
        for idx, ch in enumerate(source):
            if ch == "\n":
                self._line_starts.append(idx + 1)
        self.depth = 0
        # (offset just after the tag name, has id already, collected text parts)
        self.elements: list[tuple[int, bool, list[str]]] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            has_id = any(name == "id" for name, _ in attrs)
            self.elements.append((self._offset() + 1 + len(tag), has_id, []))
        if tag not in _VOID:
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            has_id = any(name == "id" for name, _ in attrs)
            self.elements.append((self._offset() + 1 + len(tag), has_id, []))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.depth > 0:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth > 0 and self.elements:
            self.elements[-1][2].append(data)


def add_bookmark_ids(source: str) -> str:
    """Give every top-level element an ``id="bkmrk-<first 20 chars of its text>"`` (``PageContent::formatHtml``).

    The text is lowercased, whitespace runs become '-', the result is URL-encoded ("print('hi')" ->
    ``print%28%27hi%27%29``); duplicates get ``-1``, ``-2``... Elements that already have an id keep it.
    """
    scanner = _TopLevelScanner(source)
    scanner.feed(source)
    scanner.close()
    used: set[str] = set()
    inserts: list[tuple[int, str]] = []
    for offset, has_id, parts in scanner.elements:
        if has_id:
            continue
        text = re.sub(r"\s+", " ", "".join(parts)).strip().lower()[:20]
        base = "bkmrk-" + quote(re.sub(r"\s", "-", text), safe="-._~")
        ident, n = base, 0
        while ident in used:
            n += 1
            ident = f"{base}-{n}"
        used.add(ident)
        inserts.append((offset, f' id="{ident}"'))
    out = source
    for offset, attr in reversed(inserts):
        out = out[:offset] + attr + out[offset:]
    return out


def html_to_text(source: str) -> str:
    """Plain text of some HTML (for search previews, descriptions and matching)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", source, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def plain_to_description_html(description: str) -> str:
    """BookStack wraps a plain ``description`` in one paragraph (``"<p></p>"`` when empty, transcript 11)."""
    return "<p>" + html.escape(description, quote=False).replace("\n", "<br>") + "</p>"
