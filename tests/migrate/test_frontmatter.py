"""Frontmatter completion: added and fixed, never overwritten where valid, the body and its bytes untouched."""

from __future__ import annotations

from collections.abc import Callable

from .conftest import AUTHOR, VALID, Repo, Result


def test_invalid_values_are_fixed_and_valid_ones_kept(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small(
        {
            "guide/start/01-page.md": (
                b"---\n"
                b"title: ''\n"  # empty: taken from the H1
                b"order: first\n"  # not a number: the file number
                b"category: start\n"
                b"tags:\n"
                b"  - keep\n"
                b"  - these\n"
                b"last_updated: 19/01/2025\n"  # not YYYY-MM-DD: the commit date
                b"author: Sam  # a trailing comment\n"
                b"status: review\n"
                b"---\n"
                b"# The Real Title\n"
            )
        }
    )
    assert cli(repo, "migrate", "--apply").code == 0
    assert repo.read("guide/start/01-page.md") == (
        b"---\n"
        b"title: The Real Title\n"
        b"order: 1\n"
        b"category: start\n"
        b"tags:\n"
        b"  - keep\n"
        b"  - these\n"
        b"last_updated: '2024-03-05'\n"
        b"author: Sam  # a trailing comment\n"
        b"status: review\n"
        b"---\n"
        b"# The Real Title\n"
    )


def test_a_flow_mapping_frontmatter_is_rewritten_keeping_its_values(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"guide/start/01-page.md": b"---\n{title: Kept, tags: 7, category: nope}\n---\nbody\n"})
    assert cli(repo, "migrate", "--apply").code == 0
    text = repo.read("guide/start/01-page.md").decode()
    assert text.startswith("---\ntitle: Kept\ntags: ['7']\ncategory: start\norder: 1\n")
    assert text.endswith("---\nbody\n")
    assert cli(repo, "validate").code == 0


def test_an_empty_frontmatter_block_is_completed(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/start/01-page.md": b"---\n# nothing yet\n---\n\nText.\n"})
    assert cli(repo, "migrate", "--apply").code == 0
    assert repo.read("guide/start/01-page.md") == (
        b"---\n# nothing yet\ntitle: Page\norder: 1\ncategory: start\ntags: []\n"
        b"last_updated: '2024-03-05'\nauthor: " + AUTHOR.encode() + b"\n---\n\nText.\n"
    )


def test_crlf_and_lone_cr_files_keep_their_line_endings(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    crlf_body = b"# Windows\r\n\r\nText with a trailing space \r\nand no final newline"
    repo = small({"guide/start/01-win.md": crlf_body, "guide/start/02-mac.md": b"# Old Mac\rText\r"})
    assert cli(repo, "migrate", "--apply").code == 0
    win = repo.read("guide/start/01-win.md")
    assert win.endswith(b"---\r\n" + crlf_body)
    assert b"\n" not in win.replace(b"\r\n", b"")
    mac = repo.read("guide/start/02-mac.md")
    assert mac.startswith(b"---\rtitle: Old Mac\r") and mac.endswith(b"---\r# Old Mac\rText\r")


def test_the_title_comes_from_the_first_h1_outside_code(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/start/notes.md": b"```\n# not a heading\n```\n\nIntro\n=====\n"})
    assert cli(repo, "migrate", "--apply").code == 0
    assert b"title: Intro\n" in repo.read("guide/start/01-notes.md")


def test_outside_git_the_author_comes_from_the_flag(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small(
        {"guide/start/page.md": b"# Page\n", "guide/other/01-fine.md": VALID.replace(b"start", b"other")}, git=False
    )
    assert cli(repo, "migrate", "--apply", "--author", "Docs Team").code == 0
    assert b"author: Docs Team\n" in repo.read("guide/start/01-page.md")


def test_without_any_author_the_file_is_left_and_links_to_it_stay(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small(
        {
            "guide/start/page.md": b"# Page\n",
            "guide/other/01-links.md": VALID.replace(b"start", b"other") + b"[p](../start/page.md)\n",
        },
        git=False,
    )
    before = repo.snapshot()
    result = cli(repo, "migrate", "--apply")
    assert result.code == 1
    assert "frontmatter cannot be completed: guide/start/page.md: no author" in result.out
    assert "pass --author NAME" in result.out
    assert repo.snapshot() == before


def test_files_migrate_cannot_read_are_listed_and_untouched(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small(
        {
            "guide/start/latin1.md": "# Café\n".encode("latin-1"),
            "guide/start/broken.md": b"---\ntitle: [unclosed\n---\n# Broken\n",
            "guide/start/rule.md": b"---\n\nA page that starts with a horizontal rule.\n",
            "guide/start/list.md": b"---\n- a\n- b\n---\n# List\n",
        }
    )
    before = repo.snapshot()
    result = cli(repo, "migrate", "--apply")
    assert result.code == 1
    out = result.out
    assert "cannot be read: guide/start/latin1.md: not UTF-8 text" in out
    assert "cannot be read: guide/start/broken.md: frontmatter is not valid YAML" in out
    assert "cannot be read: guide/start/rule.md: frontmatter is never closed" in out
    assert "cannot be read: guide/start/list.md: frontmatter must be a mapping" in out
    assert repo.snapshot() == before


def test_an_unchanged_file_with_a_bom_loses_only_the_bom(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"guide/start/01-page.md": "\ufeff".encode() + VALID})
    result = cli(repo, "migrate", "--apply")
    assert result.code == 0
    assert "byte-order mark removed" in result.out
    assert repo.read("guide/start/01-page.md") == VALID
