"""The docs tree's id: the `tree` setting, else derived the same way in a pipeline and in a local clone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bookstack_sync.errors import SettingsError
from bookstack_sync.plan.treeid import repository_of_remote, tree_id_for
from bookstack_sync.settings import check_tree_id, load_settings

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _clone(tmp_path: Path, remote: str) -> Path:
    root = tmp_path / "checkout"
    (root / "docs").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", remote], check=True)
    return root


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        ("git@github.com:Acme/Handbook.git", "Acme/Handbook"),
        ("https://github.com/acme/handbook.git", "acme/handbook"),
        ("https://gitlab.example.org/group/sub/handbook", "group/sub/handbook"),
        ("ssh://git@git.example.org:2222/acme/handbook.git", "acme/handbook"),
        ("/srv/git/handbook.git", "handbook"),
    ],
)
def test_the_repository_is_read_from_any_clone_address(url: str, repo: str) -> None:
    assert repository_of_remote(url) == repo


def test_in_a_pipeline_the_default_is_ci_repo_and_the_docs_folder(tmp_path: Path) -> None:
    (tmp_path / "services" / "api" / "docs").mkdir(parents=True)
    env = {"CI_REPO": "Acme/Handbook", "CI_WORKSPACE": str(tmp_path)}
    tree = tree_id_for(None, tmp_path / "services" / "api" / "docs", env)
    assert tree.value == "acme/handbook:services/api/docs" and not tree.explicit
    assert tree_id_for(None, tmp_path, env).value == "acme/handbook"  # the docs are the whole checkout


def test_a_default_that_would_be_a_number_is_not_one(tmp_path: Path) -> None:
    # a checkout folder named `2024` (no CI_REPO, no git) that is all docs: `[bookstack-sync-tree=2024]`
    # would be compared as a number in BookStack's search
    folder = tmp_path / "2024"
    folder.mkdir()
    tree = tree_id_for(None, folder, {"CI_WORKSPACE": str(folder)})
    assert tree.value == "tree-2024"
    assert check_tree_id(tree.value) == tree.value


@needs_git
def test_a_local_clone_gets_the_id_the_pipeline_gets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _clone(tmp_path, "git@github.com:Acme/Handbook.git")
    monkeypatch.chdir(root)
    local = tree_id_for(None, Path("docs"), {})
    in_ci = tree_id_for(None, Path("docs"), {"CI_REPO": "acme/handbook", "CI_WORKSPACE": str(root)})
    assert local.value == in_ci.value == "acme/handbook:docs"
    assert local.derived_from == "git remote origin and docs_dir"
    # the same folder named from elsewhere is the same tree
    monkeypatch.chdir(tmp_path)
    assert tree_id_for(None, root / "docs", {}).value == "acme/handbook:docs"


def test_the_setting_wins_and_is_checked(tmp_path: Path) -> None:
    tree = tree_id_for("Acme/Old-Name:docs", tmp_path, {"CI_REPO": "acme/new-name"})
    assert tree.value == "acme/old-name:docs" and tree.explicit
    assert check_tree_id(" team-a ") == "team-a"
    for bad in ("has space", "a]b", 'quo"te', "x" * 101, "-leading"):
        with pytest.raises(ValueError):
            check_tree_id(bad)


@pytest.mark.parametrize("number", ["42", "007", "1.5", "3.", "1e5", "2e+10"])
def test_a_tree_id_that_is_a_number_is_refused(number: str) -> None:
    # BookStack compares a numeric search value as a number: `[bookstack-sync-tree=42]` would also find
    # the objects of the tree `42/docs` (tests/contract/test_contract_tag_search.py pins that)
    with pytest.raises(ValueError, match="number"):
        check_tree_id(number)


@pytest.mark.parametrize("text", ["42/docs", "team-42", "1e5x", "0x1a", "acme/handbook:docs", "v1.2"])
def test_a_tree_id_with_a_number_in_it_is_taken(text: str) -> None:
    assert check_tree_id(text) == text


def test_a_bad_tree_setting_is_a_settings_error_naming_it() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={"PLUGIN_TREE": "team a [docs]"})
    assert "setting `tree` from PLUGIN_TREE" in str(info.value)
    assert load_settings(environ={"PLUGIN_TREE": "Team-A"}).tree == "team-a"
    assert load_settings(environ={}).tree is None
