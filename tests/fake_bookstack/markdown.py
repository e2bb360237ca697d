"""Text helpers of the fake: Laravel-style slugs, a tiny Markdown renderer and BookStack's bookmark IDs.

The renderer is deliberately small. It only has to produce plausible HTML of the same shape as
league/commonmark (one block per line, ``<pre><code class="language-x">``), not every CommonMark corner.
"""

from __future__ import annotations

import html
import re
import secrets
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote

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

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
_BULLET = re.compile(r"^ {0,3}([-*+])\s+(.*)$")
_ORDERED = re.compile(r"^ {0,3}(\d{1,9})[.)]\s+(.*)$")
_HR = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^ {0,3}>\s?(.*)$")


def _inline(text: str) -> str:
    """Inline Markdown: code spans, images, links, autolinks, strong, emphasis, strikethrough."""
    out: list[str] = []
    pos = 0
    pattern = re.compile(
        r"(`+)(.+?)\1"  # code span
        r"|!\[([^\]]*)\]\(([^)\s]*)(?:\s+\"([^\"]*)\")?\)"  # image
        r"|\[([^\]]+)\]\(([^)\s]*)(?:\s+\"([^\"]*)\")?\)"  # link
        r"|<(https?://[^>\s]+)>"  # autolink (bare URLs are not linked: BookStack has no autolink extension)
        r"|<(/?[a-zA-Z][^<>]*)>"  # raw inline HTML passes through
    )
    for match in pattern.finditer(text):
        out.append(_emphasis(html.escape(text[pos : match.start()], quote=False)))
        if match.group(1):
            out.append("<code>" + html.escape(match.group(2).strip(), quote=False) + "</code>")
        elif match.group(4) is not None and match.group(0).startswith("!"):
            alt = html.escape(match.group(3) or "")
            out.append(f'<img src="{html.escape(match.group(4))}" alt="{alt}">')
        elif match.group(7) is not None:
            out.append(f'<a href="{html.escape(match.group(7))}">{_inline(match.group(6))}</a>')
        elif match.group(9):
            url = html.escape(match.group(9))
            out.append(f'<a href="{url}">{url}</a>')
        else:
            out.append(match.group(0))
        pos = match.end()
    out.append(_emphasis(html.escape(text[pos:], quote=False)))
    return "".join(out)


def _emphasis(text: str) -> str:
    text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"__(?=\S)(.+?)(?<=\S)__", r"<strong>\1</strong>", text)
    text = re.sub(r"~~(?=\S)(.+?)(?<=\S)~~", r"<del>\1</del>", text)
    text = re.sub(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"<em>\1</em>", text)
    return re.sub(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)", r"<em>\1</em>", text)


def render_markdown(markdown: str) -> str:
    """Render Markdown to block HTML, one top-level block per line, ending in a newline."""
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush_paragraph() -> None:
        if paragraph:
            text = "\n".join(part.strip() for part in paragraph)
            blocks.append(f"<p>{_inline(text)}</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush_paragraph()
            marker, lang = fence.group(1), fence.group(2)
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i])
                i += 1
            i += 1
            code = html.escape("\n".join(body) + ("\n" if body else ""), quote=False)
            cls = f' class="language-{html.escape(lang)}"' if lang else ""
            blocks.append(f"<pre><code{cls}>{code}</code></pre>")
            continue
        if not line.strip():
            flush_paragraph()
            i += 1
            continue
        if line.startswith("    ") and not paragraph:
            body = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            blocks.append("<pre><code>" + html.escape("\n".join(body) + "\n", quote=False) + "</code></pre>")
            continue
        heading = _HEADING.match(line)
        if heading:
            flush_paragraph()
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2) or '')}</h{level}>")
            i += 1
            continue
        if _HR.match(line):
            flush_paragraph()
            blocks.append("<hr />")
            i += 1
            continue
        if _QUOTE.match(line):
            flush_paragraph()
            quoted: list[str] = []
            while i < len(lines) and (m := _QUOTE.match(lines[i])):
                quoted.append(m.group(1))
                i += 1
            blocks.append("<blockquote>\n" + render_markdown("\n".join(quoted)) + "</blockquote>")
            continue
        list_match = _BULLET.match(line) or _ORDERED.match(line)
        if list_match and not paragraph:
            ordered = _ORDERED.match(line) is not None
            items: list[str] = []
            while i < len(lines):
                m = (_ORDERED if ordered else _BULLET).match(lines[i])
                if m:
                    items.append(m.group(2))
                elif lines[i].startswith("  ") and items and lines[i].strip():
                    items[-1] += "\n" + lines[i].strip()
                else:
                    break
                i += 1
            tag = "ol" if ordered else "ul"
            inner = "\n".join(f"<li>{_inline(item)}</li>" for item in items)
            blocks.append(f"<{tag}>\n{inner}\n</{tag}>")
            continue
        paragraph.append(line)
        i += 1
    flush_paragraph()
    return "".join(block + "\n" for block in blocks)


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
