"""BookStack's Markdown of a page saved as HTML (``HtmlToMarkdown``), for ``GET /api/pages/{id}/export/markdown``.

BookStack runs league/html-to-markdown with ATX headers, ``**``/``*`` emphasis, ``-`` list items and
``strip_tags`` off (app/Entities/Tools/Markdown/HtmlToMarkdown.php), plus two tweaks: a callout
paragraph stays HTML (CustomParagraphConverter) and a checkbox becomes ``[x]``. Element ids
(``bkmrk-…``) and other attributes are dropped. This covers the elements the WYSIWYG editor writes
for prose (headings, paragraphs, emphasis, links, images, lists, code, quotes, rules); an element it
does not know is kept as HTML, as league's DefaultConverter does.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_VOID = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "wbr", "source", "col", "area", "base", "embed", "track"}
)
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "blockquote", "hr", "div", "table"})


class _Node:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node | str] = []


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("body", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _inline(node: _Node | str) -> str:
    if isinstance(node, str):
        return re.sub(r"\s+", " ", node)
    inner = "".join(_inline(c) for c in node.children)
    tag = node.tag
    if tag in ("strong", "b"):
        return f"**{inner.strip()}**" if inner.strip() else ""
    if tag in ("em", "i"):
        return f"*{inner.strip()}*" if inner.strip() else ""
    if tag == "code":
        return f"`{inner}`"
    if tag == "a":
        href = node.attrs.get("href", "")
        title = node.attrs.get("title", "")
        return f"[{inner.strip()}]({href}{f' {chr(34)}{title}{chr(34)}' if title else ''})" if href else inner
    if tag == "img":
        title = node.attrs.get("title", "")
        extra = f' "{title}"' if title else ""
        return f"![{node.attrs.get('alt', '')}]({node.attrs.get('src', '')}{extra})"
    if tag == "br":
        return "  \n"
    if tag == "input" and node.attrs.get("type") == "checkbox":
        return "[x] " if "checked" in node.attrs else "[ ] "
    if tag in ("span", "u", "sup", "sub", "s", "del", "mark", "small", "label"):
        return inner if tag == "span" else _as_html(node, inner)
    return inner


def _as_html(node: _Node, inner: str) -> str:
    attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in node.attrs.items() if k != "id")
    return f"<{node.tag}{attrs}>{inner}</{node.tag}>"


def _text_of(node: _Node) -> str:
    return "".join(c if isinstance(c, str) else _text_of(c) for c in node.children)


def _block(node: _Node, depth: int = 0) -> str:
    tag = node.tag
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return "#" * int(tag[1]) + " " + "".join(_inline(c) for c in node.children).strip()
    if tag == "p":
        inner = "".join(_inline(c) for c in node.children).strip()
        if "callout" in node.attrs.get("class", ""):
            return f'<p class="{node.attrs["class"]}">{inner}</p>'
        return inner
    if tag == "hr":
        return "- - - - - -"
    if tag == "pre":
        code = _text_of(node).rstrip("\n")
        return f"```\n{code}\n```"
    if tag == "blockquote":
        inner = _blocks(node, depth)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    if tag in ("ul", "ol"):
        lines = []
        number = 0
        for child in node.children:
            if not isinstance(child, _Node) or child.tag != "li":
                continue
            number += 1
            marker = f"{number}. " if tag == "ol" else "- "
            parts = []
            for grandchild in child.children:
                if isinstance(grandchild, _Node) and grandchild.tag in ("ul", "ol"):
                    parts.append("\n" + _block(grandchild, depth + 1))
                else:
                    parts.append(_inline(grandchild))
            lines.append("  " * depth + marker + "".join(parts).strip())
        return "\n".join(lines)
    if tag in ("div", "body", "section", "article"):
        return _blocks(node, depth)
    return _as_html(node, "".join(_inline(c) for c in node.children))


def _blocks(node: _Node, depth: int = 0) -> str:
    out: list[str] = []
    loose: list[str] = []

    def flush() -> None:
        text = "".join(loose).strip()
        if text:
            out.append(text)
        loose.clear()

    for child in node.children:
        if isinstance(child, _Node) and child.tag in _BLOCKS:
            flush()
            converted = _block(child, depth)
            if converted.strip():
                out.append(converted)
        else:
            loose.append(_inline(child))
    flush()
    return "\n\n".join(out)


def html_to_markdown(source: str) -> str:
    """The Markdown BookStack's export gives for a page stored as ``source`` (see the module docstring)."""
    builder = _Builder()
    builder.feed(source.replace("\r\n", "\n"))
    builder.close()
    return _blocks(builder.root)
