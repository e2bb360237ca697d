"""The fidelity fixture: every construct authors use, rendered to exactly the expected markdown."""

from __future__ import annotations

import pytest

from bookstack_sync.check.references import check_references
from bookstack_sync.docs.tree import PageSource
from bookstack_sync.markdown.content import render_page

from .fidelity import EXPECTED, FixtureResolver, load_fixture

STRUCTURE, TREE = load_fixture()
PAGES = sorted(TREE.pages, key=lambda p: p.path)


@pytest.mark.parametrize("page", PAGES, ids=[p.path for p in PAGES])
def test_page_renders_exactly_as_expected(page: PageSource) -> None:
    expected = (EXPECTED / page.path).read_text(encoding="utf-8").removesuffix("\n")
    result = render_page(page, TREE, FixtureResolver(TREE, STRUCTURE))
    assert result.markdown == expected
    assert result.unresolved == ()


def test_every_page_has_an_expected_file() -> None:
    expected = {p.relative_to(EXPECTED).as_posix() for p in EXPECTED.rglob("*.md")}
    assert expected == TREE.page_paths()


def test_no_relative_reference_survives_except_in_code_and_on_purpose() -> None:
    resolver = FixtureResolver(TREE, STRUCTURE)
    warnings = {p.path: render_page(p, TREE, resolver).warnings for p in PAGES}
    # the two deliberate misses: an in-page anchor to nothing, and a fragment no heading matches
    assert warnings == {
        "guides/handbook/01-welcome.md": ("line 44: in-page link #no-such-heading matches no heading; left as is",),
        "guides/handbook/02-reference.md": (),
        "guides/handbook/legacy/01-old-install.md": (),
        "guides/handbook/legacy/02-old-notes.md": (),
        "guides/handbook/legacy/03-draft-ideas.md": (),
        "guides/handbook/setup/01-install.md": (
            "line 28: #no-such-heading matches no heading of guides/handbook/setup/02-configure.md; "
            "the link goes to the top of the page",
        ),
        "guides/handbook/setup/02-configure.md": (),
    }


def test_fixture_validates_with_only_the_fragment_warning() -> None:
    found = check_references(TREE, STRUCTURE)
    assert [(d.path, d.line, d.rule.value, d.severity.value) for d in found] == [
        ("guides/handbook/setup/01-install.md", 28, "link-broken", "warning")
    ]
