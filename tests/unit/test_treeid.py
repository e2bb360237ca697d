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


def test_a_bad_tree_setting_is_a_settings_error_naming_it() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={"PLUGIN_TREE": "team a [docs]"})
    assert "setting `tree` from PLUGIN_TREE" in str(info.value)
    assert load_settings(environ={"PLUGIN_TREE": "Team-A"}).tree == "team-a"
    assert load_settings(environ={}).tree is None
