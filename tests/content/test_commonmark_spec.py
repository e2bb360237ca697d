"""The CommonMark 0.31.2 spec examples as a test of where destinations and headings are found.

For every example (extracted from the vendored spec text when the test runs):
- each destination's characters decode to the URL reported (the locator's own check, done again here);
- replacing every destination by a marker and scanning again finds exactly the markers, in order: the
  offsets are those of the destinations and nothing else;
- the headings found are those of the spec's expected HTML: same levels, same text, same order.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bookstack_sync.markdown.content import apply_replacements
from bookstack_sync.markdown.destinations import DestForm, unescape_markdown
from bookstack_sync.markdown.links import scan, skeleton

SPEC = Path(__file__).resolve().parent.parent / "fixtures" / "commonmark" / "spec.txt"
FENCE = "`" * 32


@dataclass(frozen=True)
class Example:
    number: int
    section: str
    markdown: str
    html: str


def examples() -> list[Example]:
    found: list[Example] = []
    section = ""
    lines = SPEC.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if line.startswith(FENCE + " example"):
            end = lines.index(FENCE, i + 1)
            body = "\n".join(lines[i + 1 : end]) + "\n"
            markdown, _, expected = body.partition("\n.\n")
            found.append(Example(len(found) + 1, section, (markdown + "\n").replace("→", "\t"), expected))
            i = end
        i += 1
    return found


EXAMPLES = examples()


def test_the_spec_has_all_its_examples() -> None:
    assert len(EXAMPLES) == 652


class _Headings(HTMLParser):
    def __init__(self, marked_only: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.marked_only = marked_only
        self.found: list[tuple[int, str]] = []
        self.open: list[str] | None = None
        self.level = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if re.fullmatch(r"h[1-6]", tag) and (not self.marked_only or any(a == "data-md-heading" for a, _ in attrs)):
            self.open, self.level = [], int(tag[1])
        elif tag == "img" and self.open is not None:
            self.open.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if self.open is not None and tag == f"h{self.level}":
            self.found.append((self.level, " ".join("".join(self.open).split())))
            self.open = None

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            self.open.append(data)


def _headings(source: str, marked_only: bool) -> list[tuple[int, str]]:
    parser = _Headings(marked_only)
    parser.feed(source)
    parser.close()
    return parser.found


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.number}" for e in EXAMPLES])
def test_destinations_are_located_exactly(example: Example) -> None:
    text = example.markdown
    destinations = scan(text).destinations
    for dest in destinations:
        raw = text[dest.start : dest.end]
        assert (html.unescape(raw) if dest.form is DestForm.HTML else unescape_markdown(raw)) == dest.url
    markers = [(dest, f"/marker-{n}") for n, dest in enumerate(destinations)]
    rescanned = scan(apply_replacements(text, markers)).destinations
    assert [d.url for d in rescanned] == [url for _, url in markers]


# Examples whose expected HTML holds headings written as raw HTML, which are not Markdown headings.
RAW_HTML_HEADINGS = {e.number for e in EXAMPLES if re.search(r"<h[1-6]", e.markdown, re.I)}


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.number}" for e in EXAMPLES])
def test_headings_are_the_specs(example: Example) -> None:
    if example.number in RAW_HTML_HEADINGS:
        pytest.skip("the expected HTML's headings are raw HTML written in the example")
    expected = _headings(example.html, marked_only=False)
    assert _headings(skeleton(example.markdown), marked_only=True) == expected
    assert [h.level for h in scan(example.markdown).headings] == [level for level, _ in expected]
