"""Which API a pull request's comment goes to, from Woodpecker's variables."""

from __future__ import annotations

import pytest

from bookstack_sync.report.forge import ForgeKind, PullRequest


def pull(**env: str) -> PullRequest:
    return PullRequest.from_environ(
        {
            "CI_FORGE_TYPE": "github",
            "CI_FORGE_URL": "https://github.com",
            "CI_REPO": "acme/docs",
            "CI_COMMIT_PULL_REQUEST": "12",
            **env,
        }
    )


@pytest.mark.parametrize(
    ("forge", "url", "comments"),
    [
        ("github", "https://github.com", "https://api.github.com/repos/acme/docs/issues/12/comments"),
        ("github", "https://ghe.example.org/", "https://ghe.example.org/api/v3/repos/acme/docs/issues/12/comments"),
        ("gitea", "https://gitea.example.org", "https://gitea.example.org/api/v1/repos/acme/docs/issues/12/comments"),
        ("forgejo", "https://codeberg.org", "https://codeberg.org/api/v1/repos/acme/docs/issues/12/comments"),
        ("gitlab", "https://gitlab.com", "https://gitlab.com/api/v4/projects/acme%2Fdocs/merge_requests/12/notes"),
    ],
)
def test_comment_endpoints(forge: str, url: str, comments: str) -> None:
    assert pull(CI_FORGE_TYPE=forge, CI_FORGE_URL=url).comments_url == comments


def test_gitlab_prefers_the_project_id_and_keeps_nested_groups_whole() -> None:
    nested = pull(CI_FORGE_TYPE="gitlab", CI_FORGE_URL="https://gitlab.com", CI_REPO="group/sub/docs")
    assert nested.project == "group%2Fsub%2Fdocs"
    by_id = pull(CI_FORGE_TYPE="gitlab", CI_FORGE_URL="https://gitlab.com", CI_REPO_REMOTE_ID="278964")
    assert by_id.comment_url(5) == "https://gitlab.com/api/v4/projects/278964/merge_requests/12/notes/5"
    assert by_id.edit_method == "PUT" and pull().edit_method == "PATCH"


def test_each_forge_gets_its_own_authorisation_header() -> None:
    assert pull().headers("t")["Authorization"] == "Bearer t"
    assert pull(CI_FORGE_TYPE="forgejo").headers("t")["Authorization"] == "token t"
    gitlab = pull(CI_FORGE_TYPE="gitlab").headers("t")
    assert gitlab["PRIVATE-TOKEN"] == "t" and "Authorization" not in gitlab
    assert pull(CI_FORGE_TYPE="GitHub").forge is ForgeKind.GITHUB


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"CI_FORGE_TYPE": ""}, "CI_FORGE_TYPE is not set"),
        ({"CI_FORGE_TYPE": "bitbucket"}, "commenting on bitbucket is not supported"),
        ({"CI_COMMIT_PULL_REQUEST": ""}, "CI_COMMIT_PULL_REQUEST not set"),
        ({"CI_COMMIT_PULL_REQUEST": "x1"}, "is not a pull request number"),
        ({"CI_FORGE_URL": "file:///etc"}, "is not an http(s) address"),
    ],
)
def test_what_is_missing_is_said(env: dict[str, str], words: str) -> None:
    with pytest.raises(Exception, match=words.replace("(", r"\(").replace(")", r"\)")):
        pull(**env)
