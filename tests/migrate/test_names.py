"""File names: the NN-kebab-case rule, the number from the old name or the position among siblings."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bookstack_sync.migrate.source import new_file_name, split_name

from .conftest import Repo, Result


@pytest.mark.parametrize(
    ("old", "position", "new"),
    [
        ("Getting Started.md", 4, "04-getting-started.md"),  # the seed's ❌ examples
        ("1-setup.md", 7, "01-setup.md"),  # its own number wins over the position
        ("01_setup.md", 7, "01-setup.md"),
        ("PIPELINE-TEMPLATES.md", 1, "01-pipeline-templates.md"),
        ("CI-CD-BEST-PRACTICES.MD", 2, "02-ci-cd-best-practices.md"),
        ("E.057-MCP-INTEGRATION-PROGRESS.md", 3, "03-e-057-mcp-integration-progress.md"),
        ("03 - Deploy & Run.md", 9, "03-deploy-run.md"),
        ("2024-roadmap.md", 5, "05-2024-roadmap.md"),  # 2024 is no page number (01-99)
        ("Ünïcödé Notes.md", 1, "01-unicode-notes.md"),
        ("README.md", 12, "12-readme.md"),
        ("02-already-fine.md", 8, "02-already-fine.md"),
    ],
)
def test_rename_rule(old: str, position: int, new: str) -> None:
    number, _ = split_name(old)
    assert new_file_name(old, number if number is not None else position) == new


def test_nothing_left_of_the_name() -> None:
    assert split_name("日本語.md") == (None, "")
    assert new_file_name("日本語.md", 1) is None


def test_unnumbered_files_follow_their_numbered_siblings_in_reading_order(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    valid = b"# x\n"
    repo = small(
        {
            "guide/start/01-intro.md": valid,
            "guide/start/02-install.md": valid,
            "guide/start/Zeta.md": b"# Zeta\n",
            "guide/start/alpha notes.md": b"# Alpha\n",
            "guide/start/5-five.md": b"# Five\n",
        }
    )
    result = cli(repo, "migrate", "--apply")
    assert result.code == 0, result.out
    names = sorted(p.name for p in (repo.docs / "guide" / "start").iterdir())
    assert names == ["01-intro.md", "02-install.md", "05-five.md", "06-alpha-notes.md", "07-zeta.md"]


def test_a_valid_order_field_numbers_the_file(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/start/Deploy.md": b"---\norder: 7\n---\n# Deploy\n"})
    assert cli(repo, "migrate", "--apply").code == 0
    assert (repo.docs / "guide/start/07-deploy.md").is_file()


def test_a_folder_that_lists_its_pages_decides_the_number(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"guide/listed/Install.md": b"# Install\n", "guide/listed/1-intro.md": b"# Intro\n"}, listed=False)
    result = cli(repo, "migrate", "--apply")
    assert (repo.docs / "guide/listed/02-install.md").is_file()
    assert (repo.docs / "guide/listed/01-intro.md").is_file()
    assert result.code == 0, result.out


def test_a_page_a_listing_folder_does_not_list_is_left_for_a_person(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"guide/listed/Changelog.md": b"# Changes\n"})
    before = repo.snapshot()
    result = cli(repo, "migrate", "--apply")
    assert result.code == 1
    assert "'guide/listed' lists its pages and none is called `NN-changelog`" in result.out
    assert repo.snapshot() == before


def test_a_name_made_of_nothing_takes_the_heading_or_is_left(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"guide/start/日本語.md": b"# Tokyo Office\n", "guide/other/日本.md": b"no heading\n"})
    result = cli(repo, "migrate", "--apply")
    assert (repo.docs / "guide/start/01-tokyo-office.md").is_file()
    assert result.code == 1
    assert "no file name can be made from '日本.md'" in result.out
    assert (repo.docs / "guide/other/日本.md").is_file()
