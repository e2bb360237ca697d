"""Resolving a link's path against its page's folder: the quick way validation takes for the usual link
gives exactly what ``posixpath.normpath(posixpath.join(posixpath.dirname(page), link))`` gives."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookstack_sync.markdown.content import resolve_relative

segments = st.sampled_from(["a", "b.md", "c d", ".", "..", "", ".x", "x.", "...", "é"])
paths = st.lists(segments, min_size=1, max_size=6).map("/".join)


def general(page_path: str, relative: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_path), relative))


@settings(max_examples=1000, deadline=None)
@given(paths, paths)
def test_generated_paths_resolve_as_posixpath_does(page_path: str, relative: str) -> None:
    assert resolve_relative(page_path, relative) == general(page_path, relative)


@pytest.mark.parametrize(
    ("page_path", "relative", "expected"),
    [
        ("s/b/c/p.md", "q.md", "s/b/c/q.md"),
        ("s/b/c/p.md", "../d/q.md", "s/b/d/q.md"),
        ("s/b/c/p.md", "../../../../q.md", "../q.md"),
        ("p.md", "../q.md", "../q.md"),
        ("p.md", "d/q.md", "d/q.md"),
        ("s/p.md", "./q.md", "s/q.md"),
        ("s/p.md", "d//q.md", "s/d/q.md"),
        ("s/p.md", "d/", "s/d"),
        ("s/p.md", "/abs.md", "/abs.md"),
        ("./s/p.md", "q.md", "s/q.md"),
        ("/s/p.md", "../../q.md", "/q.md"),
        ("../s/p.md", "../../q.md", "../../q.md"),
    ],
)
def test_links_resolve_against_their_page_folder(page_path: str, relative: str, expected: str) -> None:
    assert resolve_relative(page_path, relative) == expected == general(page_path, relative)
