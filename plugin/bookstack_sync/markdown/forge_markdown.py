"""Forge Markdown as BookStack's own: GitHub alerts, footnotes and bare URLs, which league/commonmark leaves
as plain text, rewritten into what BookStack renders the way the forge did.

- ``> [!NOTE]`` ... alerts become BookStack callouts, ``<p class="callout info|success|warning|danger">``
  with the alert's title in bold; an alert holding more than paragraphs (a list, code) stays a block
  quote whose marker becomes the bold title.
- ``[^label]`` footnote references become numbered superscript links to a list of the notes at the end
  of the page, each note linking back to every reference (ids start with ``bkmrk`` so BookStack keeps them).
- ``https://...``, ``http://...`` and ``www....`` in prose become links, as GFM's autolink extension finds them.

Only those spans change: code, links, raw HTML and every other character stay as written. Positions come
from pulldown-cmark's events (GFM alerts and footnotes enabled), read through :mod:`bookstack_sync.markdown.links`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyromark

from .links import BOOKSTACK_OPTIONS, events

_FORGE = pyromark.Markdown(options=BOOKSTACK_OPTIONS | pyromark.Options.ENABLE_FOOTNOTES | pyromark.Options.ENABLE_GFM)

# alert kind -> (BookStack callout class, the title GitHub shows)
CALLOUTS = {
    "Note": ("info", "Note"),
    "Tip": ("success", "Tip"),
    "Important": ("info", "Important"),
    "Warning": ("warning", "Warning"),
    "Caution": ("danger", "Caution"),
}


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


@dataclass
class _Footnote:
    label: str
    start: int  # the definition's span in the text
    end: int
    number: int = 0  # 0: never referenced
    references: int = 0


def forge_to_bookstack(text: str) -> str:
    """``text`` with alerts, footnotes and bare URLs in BookStack's Markdown; everything else as written.

    Footnotes and bare URLs first, everywhere but code, links and raw HTML; then the alerts, whose
    content (with its converted footnote references and links) is rendered into the callout.
    """
    if "[^" in text or "http" in text or "www." in text:
        text = _notes_and_links(text)
    if "[!" in text:
        text = _alerts(text)
    return text


def _notes_and_links(text: str, *, notes_too: bool = True) -> str:
    edits: list[_Edit] = []
    footnotes: dict[str, _Footnote] = {}
    references: list[tuple[int, int, str]] = []
    skip = 0  # open links, images, footnote definitions and code blocks: no autolinks inside
    run: list[int] = []  # start and end of the text run being read (pulldown-cmark splits text at delimiters)
    event: Any
    info: Any
    data: Any
    for event, start, end in events(text, _FORGE):
        kind, data = ("", None) if isinstance(event, str) else next(iter(event.items()))
        if kind == "Text" and not skip:
            # an escaped character's text starts after its backslash
            if run and (run[1] == start or (start == run[1] + 1 and text[run[1]] == "\\")):
                run[1] = end
            else:
                if run:
                    edits.extend(_autolinks(text, run[0], run[1]))
                run = [start, end]
            continue
        if run:
            edits.extend(_autolinks(text, run[0], run[1]))
            run = []
        if kind == "Start":
            tag, info = (data, None) if isinstance(data, str) else next(iter(data.items()))
            if tag == "FootnoteDefinition":
                footnotes.setdefault(info, _Footnote(info, start, end))
            if tag in _NO_AUTOLINKS:
                skip += 1
        elif kind == "End":
            tag = data if isinstance(data, str) else next(iter(data))
            if tag in _NO_AUTOLINKS:
                skip -= 1
        elif kind == "FootnoteReference" and notes_too:
            references.append((start, end, data))
    if run:
        edits.extend(_autolinks(text, run[0], run[1]))
    footnote_edits, notes = _footnote_edits(text, references, footnotes) if notes_too else ([], "")
    edits.extend(footnote_edits)
    converted = _apply(text, edits)
    return converted.rstrip("\n") + notes if notes else converted


_NO_AUTOLINKS = frozenset({"Link", "Image", "FootnoteDefinition", "CodeBlock"})


def _alerts(text: str) -> str:
    definitions = _FORGE.reference_definitions(text)
    edits: list[_Edit] = []
    event: Any
    for event, start, end in events(text, _FORGE):
        if isinstance(event, dict) and "Start" in event:
            data = event["Start"]
            if isinstance(data, dict) and data.get("BlockQuote") in CALLOUTS:
                edits.append(_alert(text, start, end, data["BlockQuote"], definitions))
    return _apply(text, edits)


def _apply(text: str, edits: list[_Edit]) -> str:
    out: list[str] = []
    at = 0
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.start < at:
            continue  # inside a span already replaced (an alert holds its own content)
        out.append(text[at : edit.start])
        out.append(edit.text)
        at = edit.end
    out.append(text[at:])
    return "".join(out)


# ------------------------------------------------------------------------------------------ alerts

_MARKER = re.compile(r"\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.I)
_QUOTE_PREFIX = re.compile(r"^ {0,3}> ?", re.M)


def _alert(text: str, start: int, end: int, kind: str, definitions: Mapping[str, Any]) -> _Edit:
    """A callout for the alert ``text[start:end]``; a block quote with a bold title when it holds more than prose."""
    css, title = CALLOUTS[kind]
    source = text[start:end]
    marker = _MARKER.search(source)
    assert marker is not None  # pulldown-cmark reported the alert's kind from it
    first_line_end = source.find("\n", marker.end())
    body = "" if first_line_end < 0 else _QUOTE_PREFIX.sub("", source[first_line_end + 1 :])
    rendered = ""
    if body.strip():
        # reference links in the alert take their definitions from the whole page
        known = {label.casefold(): (d["dest"], d["title"] or "") for label, d in definitions.items()}
        rendered = pyromark.html(
            body,
            options=BOOKSTACK_OPTIONS,
            broken_link_callback=lambda link: known.get(" ".join(link["reference"].split()).casefold()),
        )
    paragraphs = re.findall(r"<p>(.*?)</p>\n", rendered, re.S)
    if "".join(f"<p>{p}</p>\n" for p in paragraphs) != rendered:
        # a list, code or a table cannot sit in BookStack's <p> callout: keep the quote, title readable
        return _Edit(start + marker.start(), start + marker.end(), f"**{title}**")
    inner = "<br>\n".join([f"<strong>{title}</strong>", *paragraphs])
    trailing = "" if text.startswith("\n", end) or end >= len(text) else "\n"
    lead = "" if start == 0 or text.endswith("\n\n", 0, start) else "\n"
    return _Edit(start, end, f'{lead}<p class="callout {css}">{inner}</p>\n{trailing}')


# ------------------------------------------------------------------------------------------ footnotes


def _footnote_edits(
    text: str, references: list[tuple[int, int, str]], footnotes: dict[str, _Footnote]
) -> tuple[list[_Edit], str]:
    """Edits turning references into superscript links and removing the definitions; the notes' list."""
    if not footnotes:
        return [], ""
    edits: list[_Edit] = []
    numbered: list[_Footnote] = []
    for start, end, label in references:
        note = footnotes.get(label)
        if note is None:
            continue  # pulldown-cmark reports only defined ones; kept as written otherwise
        if not note.number:
            numbered.append(note)
            note.number = len(numbered)
        note.references += 1
        ref_id = _ref_id(note, note.references)
        edits.append(_Edit(start, end, f'<sup><a href="#bkmrk-fn-{note.number}" id="{ref_id}">{note.number}</a></sup>'))
    unreferenced = [n for n in footnotes.values() if not n.number]
    for note in unreferenced:
        numbered.append(note)
        note.number = len(numbered)
    items: list[str] = []
    for note in numbered:
        edits.append(_Edit(note.start, _definition_end(text, note.end), ""))
        content = _notes_and_links(_footnote_content(text, note), notes_too=False)
        backs = " ".join(
            f'<a href="#{_ref_id(note, k)}">↩{"" if k == 1 else k}</a>' for k in range(1, note.references + 1)
        )
        first, sep, rest = content.partition("\n\n")
        first = f'<a id="bkmrk-fn-{note.number}"></a>{first}' + (f" {backs}" if backs else "")
        item = first + sep + rest
        items.append(f"{note.number}. " + item.replace("\n", "\n   ").replace("\n   \n", "\n\n"))
    return edits, "\n\n---\n\n" + "\n".join(items) + "\n"


def _ref_id(note: _Footnote, k: int) -> str:
    return f"bkmrk-fnref-{note.number}" + ("" if k == 1 else f"-{k}")


def _definition_end(text: str, end: int) -> int:
    """The end of a definition with the blank lines after it (removing it leaves one blank line)."""
    while text.startswith("\n", end):
        end += 1
    return end


_FOOTNOTE_HEAD = re.compile(r"\s*\[\^[^\]]*\]:[ \t]*")


def _footnote_content(text: str, note: _Footnote) -> str:
    source = text[note.start : note.end]
    head = _FOOTNOTE_HEAD.match(source)
    body = source[head.end() if head else 0 :].rstrip("\n")
    lines = body.split("\n")
    # continuation lines are indented by up to four spaces under the label
    return "\n".join([lines[0], *(line[4:] if line.startswith("    ") else line.lstrip(" ") for line in lines[1:])])


# ------------------------------------------------------------------------------------------ autolinks

# GFM extended autolinks: after the start of a line, whitespace or one of * _ ~ (
_AUTOLINK = re.compile(
    r"(?:(?<=^)|(?<=[\s*_~(]))"
    r"(?P<link>(?:https?://|www\.)(?P<domain>[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)[^\s<]*)",
    re.M,
)
_TRAILING = "?!.,:*_~"
_ENTITY_TAIL = re.compile(r"&[A-Za-z0-9]+;$")


def _autolinks(text: str, start: int, end: int) -> list[_Edit]:
    """Edits linking the bare URLs in the source of one text run (skipped when it holds an escape)."""
    source = text[start:end]
    if "http" not in source and "www." not in source:
        return []
    found: list[_Edit] = []
    for match in _AUTOLINK.finditer(text, start, end):
        link = _trim(match.group("link"))
        domain = match.group("domain")
        if ("." not in domain and link.startswith("www.")) or "_" in ".".join(domain.split(".")[-2:]):
            continue  # GFM: a valid domain, with no underscore in its last two segments
        if link in ("http://", "https://", "www.") or "\\" in link or re.search(r"&[A-Za-z0-9#]+;", link):
            continue  # an escape or an entity would read differently inside an autolink
        at = match.start("link")
        if link.startswith("www."):
            escaped = re.sub(r"([\\`*_\[\]<>~|!])", r"\\\1", link)
            replacement = f"[{escaped}](<http://{link}>)"
        else:
            replacement = f"<{link}>"
        found.append(_Edit(at, at + len(link), replacement))
    return found


def _trim(link: str) -> str:
    """GFM's extended autolink path validation: trailing punctuation and unbalanced ')' are not part of it."""
    while link:
        if link[-1] in _TRAILING or (link.endswith(")") and link.count(")") > link.count("(")):
            link = link[:-1]
        elif link.endswith(";") and (entity := _ENTITY_TAIL.search(link)):
            link = link[: entity.start()]
        else:
            break
    return link


__all__ = ["CALLOUTS", "forge_to_bookstack"]
