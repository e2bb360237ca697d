"""BookStack's links back into the docs tree's relative paths, and safe names for whatever a wiki holds."""

from __future__ import annotations

import unicodedata

from bookstack_sync.export.layout import safe_slug
from bookstack_sync.markdown.localize import Target, WikiIndex, WikiRef, localize, parse_wiki_url

APP = "https://wiki.example.org/docs"


def test_wiki_urls_are_recognised_by_bookstacks_own_address_only() -> None:
    assert parse_wiki_url(f"{APP}/link/12#bkmrk-intro", APP) == WikiRef(Target.PAGE, id=12, fragment="bkmrk-intro")
    assert parse_wiki_url("/docs/link/12", APP) == WikiRef(Target.PAGE, id=12)
    assert parse_wiki_url(f"{APP}/books/guide/page/setup", APP) == WikiRef(Target.PAGE, book_slug="guide", slug="setup")
    assert parse_wiki_url(f"{APP}/books/guide/chapter/start", APP) == WikiRef(
        Target.CHAPTER, book_slug="guide", slug="start"
    )
    assert parse_wiki_url(f"{APP}/shelves/eng", APP) == WikiRef(Target.SHELF, slug="eng")
    assert parse_wiki_url(f"{APP}/attachments/7", APP) == WikiRef(Target.ATTACHMENT, id=7)
    thumb = parse_wiki_url(f"{APP}/uploads/images/gallery/2025-01/scaled-1680-/x.png", APP)
    assert thumb == WikiRef(Target.IMAGE, path="/uploads/images/gallery/2025-01/x.png")
    assert parse_wiki_url("[[bsexport:page:3]]#bkmrk-a", APP) == WikiRef(Target.PAGE, id=3, fragment="bkmrk-a")
    # the address a tool reaches BookStack at is not BookStack's: such a link is external
    assert parse_wiki_url("http://bookstack:8080/docs/link/12", APP) is None
    assert parse_wiki_url("/link/12", APP) is None  # outside the prefix BookStack lives under
    assert parse_wiki_url("https://example.com/link/12", APP) is None
    assert parse_wiki_url("other.md", APP) is None


def index() -> WikiIndex:
    return WikiIndex(
        app_url=APP,
        pages={1: "eng/guide/01-intro.md", 2: "eng/guide/start/02-setup.md"},
        books={5: "eng/guide"},
        page_slugs={("guide", "setup"): 2},
        book_slugs={"guide": 5},
        page_markdown={2: "Text.\n\n## Step One\n\nMore.", 1: "## Intro"},
    )


def test_links_become_relative_paths_and_bookmarks_heading_anchors() -> None:
    text = "## Intro\n\n" + (
        f"[a](/docs/link/2#bkmrk-step-one) [b]({APP}/books/guide/page/setup) [c]({APP}/books/guide) "
        f"[d](#bkmrk-intro) [e]({APP}/link/99) `{APP}/link/2` [f](https://example.com)"
    )
    result = localize(text, "eng/guide/01-intro.md", index(), lambda ref: None)
    assert result.markdown == "## Intro\n\n" + (
        "[a](start/02-setup.md#step-one) [b](start/02-setup.md) [c](./) "
        f"[d](#intro) [e]({APP}/link/99) `{APP}/link/2` [f](https://example.com)"
    )
    assert result.kept == (f"{APP}/link/99",)


def test_images_and_attachments_go_where_the_locator_puts_them() -> None:
    placed = {Target.IMAGE: "eng/guide/_assets/x.png", Target.ATTACHMENT: "eng/guide/_assets/spec.pdf"}
    text = f"![x]({APP}/uploads/images/gallery/2025-01/x.png) [s]([[bsexport:attachment:4]])"
    result = localize(text, "eng/guide/start/02-setup.md", index(), lambda ref: placed[ref.target])
    assert result.markdown == "![x](../_assets/x.png) [s](../_assets/spec.pdf)"


def test_file_names_are_safe_whatever_the_names_hold() -> None:
    assert safe_slug("../../etc/passwd", "", "page-1") == "etc-passwd"
    assert safe_slug("Guide / Handbook", "", "book-1") == "guide-handbook"
    assert safe_slug("🚀🚀", "", "book-7") == "book-7"
    assert safe_slug("🚀🚀", "rocket-abc", "book-7") == "rocket-abc"  # BookStack's own slug before the id
    composed, decomposed = unicodedata.normalize("NFC", "Café"), unicodedata.normalize("NFD", "Café")
    assert safe_slug(composed, "", "x") == safe_slug(decomposed, "", "x") == "cafe"
    fullwidth = "".join(chr(0xFF00 + ord(c) - 0x20) for c in "Wide")  # the fullwidth forms of "Wide"
    assert safe_slug(fullwidth, "", "x") == "wide"
    assert len(safe_slug("a" * 300, "", "x")) <= 80
