"""The plan as one pull-request comment, kept up to date: through the entrypoint, with only the PLUGIN_* and
CI_* variables Woodpecker sets, against fake GitHub, Gitea, Forgejo and GitLab servers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bookstack_sync.cli import main
from bookstack_sync.errors import ExitCode
from bookstack_sync.model import Action, ActionKind, EntityKind, Plan, RunMode, RunResult
from bookstack_sync.report.forge import comment_on_pull_request
from bookstack_sync.report.summary import COMMENT_LIMIT, MarkdownSummary, summary_marker
from bookstack_sync.settings import load_settings
from tests.fake_forge import BOT, TOKEN, FakeForge, self_signed_certificate, serve

from .conftest import Docs, Plugin

pytestmark = pytest.mark.real_bookstack

KINDS = ["github", "gitea", "forgejo", "gitlab"]
PULL = 7


@pytest.fixture(params=KINDS)
def forge(request: pytest.FixtureRequest) -> Iterator[FakeForge]:
    with serve(request.param) as fake:
        yield fake


def woodpecker_ci(forge: FakeForge, event: str = "pull_request", pull: int = PULL) -> dict[str, str]:
    """What Woodpecker 3 sets for a pull-request pipeline (pipeline/frontend/metadata/environment.go)."""
    owner, name = forge.repo.split("/")
    return {
        "CI_PIPELINE_EVENT": event,
        "CI_FORGE_TYPE": forge.kind,
        "CI_FORGE_URL": forge.url,
        "CI_REPO": forge.repo,
        "CI_REPO_OWNER": owner,
        "CI_REPO_NAME": name,
        "CI_REPO_REMOTE_ID": str(forge.project_id),
        "CI_REPO_URL": f"{forge.url}/{forge.repo}",
        "CI_COMMIT_PULL_REQUEST": str(pull),
        "CI_COMMIT_SOURCE_BRANCH": "docs-change",
        "CI_COMMIT_TARGET_BRANCH": "main",
        "CI_PIPELINE_NUMBER": "42",
        "CI_PIPELINE_URL": "https://ci.example.org/repos/3/pipeline/42",
        "CI_SYSTEM_NAME": "woodpecker",
    }


@dataclass
class Ran:
    exit_code: int
    err: str


def run(plugin: Plugin, forge: FakeForge, *, event: str = "pull_request", pull: int = PULL, **settings: str) -> Ran:
    settings.setdefault("forge_token", TOKEN)
    env = {**plugin.environ(event, **settings), **woodpecker_ci(forge, event, pull)}
    env = {name: value for name, value in env.items() if value is not None}
    plugin.capsys.readouterr()
    code = main([], env)
    captured = plugin.capsys.readouterr()
    assert TOKEN not in captured.err + captured.out
    return Ran(code, captured.err)


def test_first_comment_then_edit_in_place_on_every_push(plugin: Plugin, docs: Docs, forge: FakeForge) -> None:
    first = run(plugin, forge)
    assert first.exit_code == 0, first.err
    [comment] = forge.bot_comments()
    first_id, first_body = comment["id"], comment["body"]
    summary = (docs.root / "summary.md").read_text(encoding="utf-8")
    assert first_body == summary  # the comment is the summary file
    assert summary.startswith(
        "## ✅ bookstack-sync plan: 7 pages, 4 chapters, 3 books, 2 shelves change, nothing deleted"
    )
    assert "[pipeline log](https://ci.example.org/repos/3/pipeline/42)" in summary
    assert f"commented on pull request {forge.repo}#{PULL}: " in first.err

    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly and briefly.\n")
    docs.page("eng/guide/practice/03-naming.md", "Naming", "Name things well.\n")
    docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"][1]["chapter"]["pages"].append("03-naming")
    docs.write_structure()
    second = run(plugin, forge)
    assert second.exit_code == 0, second.err
    [edited] = forge.bot_comments()
    assert edited["id"] == first_id and edited["body"] != first_body
    assert "8 pages, 4 chapters" in edited["body"].splitlines()[0]
    assert f"updated the comment on pull request {forge.repo}#{PULL}" in second.err
    assert [w.method for w in forge.writes()] == ["POST", "PUT" if forge.kind == "gitlab" else "PATCH"]

    third = run(plugin, forge)
    assert "the comment is up to date" in third.err
    assert len(forge.writes()) == 2  # nothing new to say: no write


@pytest.mark.parametrize("kind", ["github", "gitlab", "gitea"])
def test_the_comment_is_found_beyond_the_first_page(plugin: Plugin, kind: str) -> None:
    with serve(kind) as forge:
        for i in range(130):
            forge.add_comment(PULL, f"review remark {i}")
        forge.add_comment(PULL, "> quoting it does not count\n> <!-- bookstack-sync summary: x -->")
        ours = forge.add_comment(PULL, f"old plan\n{marker(plugin)}", BOT)
        for i in range(15):
            forge.add_comment(PULL, f"later remark {i}")
        if kind == "gitlab":
            forge.add_comment(PULL, "added 1 commit", system=True)
        ran = run(plugin, forge)
        assert ran.exit_code == 0, ran.err
        assert [c["id"] for c in forge.bot_comments()] == [ours["id"]]
        assert ours["body"].startswith("## ✅ bookstack-sync plan")
        assert [w.method for w in forge.writes()] == ["PUT" if kind == "gitlab" else "PATCH"]
        pages = [r.query.get("page", "1") for r in forge.requests if r.method == "GET"]
        assert pages == (["1"] if kind == "gitea" else ["1", "2"])


def test_two_trees_keep_a_comment_each_and_the_first_takes_over_the_older_versions_comment(
    plugin: Plugin, docs: Docs, forge: FakeForge
) -> None:
    # one docs folder published by two steps under two `tree` settings (two wikis, or two trees in one);
    # the previous version marked its comment by docs_dir alone
    docs_dir = load_settings({}, plugin.environ()).docs_dir
    older = forge.add_comment(PULL, f"old plan\n<!-- bookstack-sync summary: {docs_dir} -->", BOT)
    first = run(plugin, forge, tree="acme/handbook:public")
    assert first.exit_code == 0, first.err
    [taken] = forge.bot_comments()
    assert taken["id"] == older["id"]  # edited, not a second comment beside it
    assert taken["body"].rstrip().endswith("<!-- bookstack-sync summary: tree acme/handbook:public -->")
    assert "tree `acme/handbook:public`" in taken["body"]

    taken_body = taken["body"]

    second = run(plugin, forge, tree="acme/handbook:internal")
    assert second.exit_code == 0, second.err
    public, internal = forge.bot_comments()
    assert (public["id"], public["body"]) == (taken["id"], taken_body)  # the other tree's comment untouched
    assert "tree `acme/handbook:internal`" in internal["body"]
    internal_body = internal["body"]

    docs.page("eng/guide/practice/03-naming.md", "Naming", "Name things well.\n")
    docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"][1]["chapter"]["pages"].append("03-naming")
    docs.write_structure()
    again = run(plugin, forge, tree="acme/handbook:internal")
    assert again.exit_code == 0, again.err
    assert [c["id"] for c in forge.bot_comments()] == [public["id"], internal["id"]]
    assert public["body"] == taken_body
    assert "8 pages" in internal["body"] and internal["body"] != internal_body
    again = run(plugin, forge, tree="acme/handbook:public")
    assert "updated the comment" in again.err
    assert [c["id"] for c in forge.bot_comments()] == [public["id"], internal["id"]]
    assert "8 pages" in public["body"]


def test_a_run_whose_docs_are_invalid_edits_the_trees_comment_too(plugin: Plugin, docs: Docs, forge: FakeForge) -> None:
    # the tree is known before BookStack is read: a pull request's broken push does not add a comment
    assert run(plugin, forge, tree="acme/handbook:public").exit_code == 0
    [comment] = forge.bot_comments()
    planned = comment["body"]
    docs.page("eng/guide/practice/01-style.md", "", "no title\n")
    broken = run(plugin, forge, tree="acme/handbook:public")
    assert broken.exit_code == int(ExitCode.INVALID_DOCS), broken.err
    [edited] = forge.bot_comments()
    assert edited["id"] == comment["id"] and edited["body"] != planned
    assert edited["body"].rstrip().endswith("<!-- bookstack-sync summary: tree acme/handbook:public -->")


def marker(plugin: Plugin) -> str:
    settings = load_settings({}, plugin.environ())
    result = RunResult(RunMode.PLAN, "test", settings.redacted())
    return summary_marker(result)


def test_when_the_plan_becomes_empty_the_comment_says_so(plugin: Plugin, forge: FakeForge) -> None:
    assert run(plugin, forge).exit_code == 0
    assert "7 pages, 4 chapters" in forge.bot_comments()[0]["body"]
    assert plugin.run("push").exit_code == 0  # the change is merged and synced
    again = run(plugin, forge)
    assert again.exit_code == 0, again.err
    [comment] = forge.bot_comments()
    assert comment["body"].startswith(
        "## ✅ bookstack-sync plan: nothing to change: BookStack already matches the docs\n"
    )


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("403 on write", "does not let the forge_token comment on team/docs#7 (403)"),
        ("403 on read", "(403)"),
        ("404", "found no pull request team/docs#99 (404)"),
        ("401", "refused the forge_token (401)"),
        ("timeout", "timed out"),
        ("unreachable", "could not reach"),
    ],
)
def test_a_comment_that_cannot_be_posted_is_a_warning(plugin: Plugin, fault: str, words: str) -> None:
    with serve("github") as forge:
        settings: dict[str, str] = {"log_level": "debug"}
        pull = PULL
        if fault == "403 on write":
            forge.fail("POST", 403)
        elif fault == "403 on read":
            forge.fail("GET", 403)
        elif fault == "404":
            pull = 99
        elif fault == "401":
            settings["forge_token"] = "not-the-token"
        elif fault == "timeout":
            forge.hang(3)
            settings["timeout"] = "1,1"
        elif fault == "unreachable":
            forge.url = "http://127.0.0.1:9"  # the discard port: nothing listens
        ran = run(plugin, forge, pull=pull, **settings)
        assert ran.exit_code == 0, ran.err
        warning = next(line for line in ran.err.splitlines() if "no pull-request comment" in line)
        assert warning.startswith("warning: ") and words in warning
        assert forge.bot_comments(pull) == []


def test_the_token_is_never_printed_nor_written(plugin: Plugin, docs: Docs, forge: FakeForge) -> None:
    forge.fail("POST", 500)
    ran = run(plugin, forge, log_level="debug")
    assert ran.exit_code == 0 and "answered 500" in ran.err
    report = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    assert report["settings"]["forge_token"] == "***"
    for name in ("report.json", "summary.md"):
        assert TOKEN not in (docs.root / name).read_text(encoding="utf-8")
    sent = forge.requests[0].headers
    assert TOKEN in (sent.get("authorization", "") + sent.get("private-token", ""))


@pytest.mark.parametrize(
    ("event", "settings"),
    [
        ("pull_request", {"comment": "never"}),
        ("pull_request", {"forge_token": ""}),  # `forge_token: ''`, or a secret not given to this event
        ("push", {}),
        ("pull_request_closed", {}),
    ],
)
def test_no_comment_unless_asked_for_on_a_pull_request(
    plugin: Plugin, forge: FakeForge, event: str, settings: dict[str, str]
) -> None:
    ran = run(plugin, forge, event=event, **settings)
    assert ran.exit_code == 0, ran.err
    assert forge.requests == [] and "pull-request comment" not in ran.err


def test_pull_request_metadata_comments_too(plugin: Plugin, forge: FakeForge) -> None:
    assert run(plugin, forge, event="pull_request_metadata").exit_code == 0
    assert len(forge.bot_comments()) == 1


def test_a_forge_without_comments_support_is_a_warning(plugin: Plugin, forge: FakeForge) -> None:
    env = {**plugin.environ("pull_request", forge_token=TOKEN), **woodpecker_ci(forge), "CI_FORGE_TYPE": "bitbucket"}
    plugin.capsys.readouterr()
    assert main([], env) == 0
    err = plugin.capsys.readouterr().err
    assert "warning: no pull-request comment: commenting on bitbucket is not supported" in err


def huge_plan_result(settings_env: dict[str, str]) -> RunResult:
    actions = tuple(
        Action(
            ActionKind.CREATE, EntityKind.PAGE, f"eng/book-{i % 40:02}/chapter/{i:05}-a-rather-long-page-name.md", "P"
        )
        for i in range(4000)
    )
    settings = load_settings({}, settings_env)
    return RunResult(
        RunMode.PLAN, "CI_PIPELINE_EVENT=pull_request", settings.redacted(), plan=Plan(actions), exit_code=ExitCode.OK
    )


def test_a_huge_plan_fits_the_forges_limit_with_a_note(forge: FakeForge) -> None:
    env = {"PLUGIN_FORGE_TOKEN": TOKEN, **woodpecker_ci(forge)}
    settings = load_settings({}, env)
    result = huge_plan_result(env)
    body = MarkdownSummary().render(result)
    posted = comment_on_pull_request(body, summary_marker(result), settings, env)
    assert posted.ok, posted.message
    [comment] = forge.bot_comments()
    assert len(comment["body"]) <= COMMENT_LIMIT  # the fake GitHub answers 422 beyond it, as GitHub does
    assert "✂️ **Cut here:**" in comment["body"] and "4000 pages change" in comment["body"].splitlines()[0]


@pytest.mark.filterwarnings("ignore:Unverified HTTPS request")  # urllib3's, for the `insecure` run
def test_tls_settings_apply_to_the_forge_as_to_bookstack(plugin: Plugin, tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    with serve("gitea", tls=(cert, key)) as forge:
        unknown = run(plugin, forge)
        assert unknown.exit_code == 0
        assert "TLS verification failed (set `ca_cert`" in unknown.err and forge.bot_comments() == []
        trusted = run(plugin, forge, ca_cert=str(cert))
        assert trusted.exit_code == 0 and "commented on pull request" in trusted.err
        assert len(forge.bot_comments()) == 1
        skipped = run(plugin, forge, insecure="true")
        assert skipped.exit_code == 0 and "the comment is up to date" in skipped.err


def test_the_console_script_with_only_woodpecker_variables(plugin: Plugin, docs: Docs) -> None:
    with serve("forgejo") as forge:
        env = {
            "PATH": "/usr/bin:/bin",
            "CI": "woodpecker",
            "CI_WORKSPACE": str(docs.root),
            "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
            **woodpecker_ci(forge),
            **{k: v for k, v in plugin.environ("pull_request").items() if k.startswith("PLUGIN_")},
            "PLUGIN_FORGE_TOKEN": TOKEN,
        }
        script = Path(sys.executable).with_name("bookstack-sync")
        done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=120, cwd=docs.root)
        assert done.returncode == 0, done.stderr
        assert TOKEN not in done.stdout + done.stderr
        [comment] = forge.bot_comments()
        assert comment["body"] == (docs.root / "summary.md").read_text(encoding="utf-8")
        assert f"commented on pull request {forge.repo}#{PULL}" in done.stderr
