"""Settings resolution: flag > PLUGIN_* > BOOKSTACK_* fallback > default; every kind parsed and
checked; unknown PLUGIN_* rejected; all problems reported at once; secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookstack_sync.errors import ExitCode, SettingsError
from bookstack_sync.settings import (
    SETTINGS,
    CommentMode,
    ImportMode,
    LogLevel,
    Mode,
    OnDrift,
    OutputFormat,
    Settings,
    load_settings,
    settings_table_markdown,
)

SECRET_ID = "id-7f3a9c2e"
SECRET = "s3cr3t-b0a8e1d4c6"


def problems_of(flags: dict[str, object] | None = None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(flags or {}, env or {})
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.problems


# --- precedence --------------------------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings({}, {})
    assert settings == Settings()
    assert settings.docs_dir == Path("docs")
    assert settings.structure_path == Path("docs/bookstack/bookstack-structure.yaml")
    assert settings.timeout == (10.0, 60.0)
    assert settings.report == Path("bookstack-sync-report.json")
    assert set(settings.sources.values()) == {"default"}


def test_plugin_variable_beats_default_and_flag_beats_plugin_variable() -> None:
    env = {"PLUGIN_DOCS_DIR": "site/docs", "PLUGIN_STRICT": "true"}
    from_env = load_settings({}, env)
    assert from_env.docs_dir == Path("site/docs") and from_env.strict is True
    assert from_env.sources["docs_dir"] == "PLUGIN_DOCS_DIR"
    from_flag = load_settings({"docs_dir": "other", "strict": False}, env)
    assert from_flag.docs_dir == Path("other") and from_flag.strict is False
    assert from_flag.sources["docs_dir"] == "flag"


def test_structure_follows_docs_dir_unless_set() -> None:
    assert load_settings({}, {"PLUGIN_DOCS_DIR": "d"}).structure_path == Path("d/bookstack/bookstack-structure.yaml")
    assert load_settings({}, {"PLUGIN_DOCS_DIR": "d", "PLUGIN_STRUCTURE": "s.yaml"}).structure_path == Path("s.yaml")


@pytest.mark.parametrize(("name", "fallback"), [("url", "BOOKSTACK_URL"), ("token_id", "BOOKSTACK_TOKEN_ID")])
def test_bookstack_fallback_variables(name: str, fallback: str) -> None:
    plugin = "PLUGIN_" + name.upper()
    assert getattr(load_settings({}, {fallback: "from-fallback"}), name) == "from-fallback"
    assert load_settings({}, {fallback: "x"}).sources[name] == fallback
    both = load_settings({}, {fallback: "from-fallback", plugin: "from-plugin"})
    assert getattr(both, name) == "from-plugin"
    assert getattr(load_settings({name: "from-flag"}, {fallback: "a", plugin: "b"}), name) == "from-flag"


def test_empty_plugin_variable_means_unset() -> None:
    # Woodpecker does not inject empty values; one set by hand falls through to the fallback/default
    settings = load_settings({}, {"PLUGIN_URL": "", "BOOKSTACK_URL": "https://wiki.example.com", "PLUGIN_STRICT": ""})
    assert settings.url == "https://wiki.example.com"
    assert settings.strict is False


def test_flag_not_given_is_none_and_falls_through() -> None:
    assert load_settings({"docs_dir": None}, {"PLUGIN_DOCS_DIR": "x"}).docs_dir == Path("x")


# --- kinds ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("true", True), ("TRUE", True), ("1", True), ("yes", True), ("on", True), (" true ", True)],
        *[("false", False), ("False", False), ("0", False), ("no", False), ("off", False)],
    ],
)
def test_booleans(text: str, value: bool) -> None:
    assert load_settings({}, {"PLUGIN_STRICT": text}).strict is value


@pytest.mark.parametrize("text", ["ture", "y", "2", "enabled", "truefalse"])
def test_bad_boolean_is_rejected_naming_the_setting(text: str) -> None:
    (problem,) = problems_of(env={"PLUGIN_STRICT": text})
    assert "`strict`" in problem and "PLUGIN_STRICT" in problem and repr(text) in problem


@pytest.mark.parametrize(
    ("env", "attr", "value"),
    [
        ("PLUGIN_CONCURRENCY", "concurrency", "1"),
        ("PLUGIN_CONCURRENCY", "concurrency", "32"),
        ("PLUGIN_RATE_LIMIT", "rate_limit", "0"),
        ("PLUGIN_PRUNE_LIMIT", "prune_limit", "0"),
        ("PLUGIN_PRUNE_LIMIT", "prune_limit", "100"),
        ("PLUGIN_MAX_UPLOAD_MB", "max_upload_mb", "1"),
    ],
)
def test_integers_at_their_bounds(env: str, attr: str, value: str) -> None:
    assert getattr(load_settings({}, {env: value}), attr) == int(value)


def test_percent_sign_is_accepted() -> None:
    assert load_settings({}, {"PLUGIN_PRUNE_LIMIT": "40%"}).prune_limit == 40


@pytest.mark.parametrize(
    ("env", "value", "words"),
    [
        ("PLUGIN_CONCURRENCY", "0", "at least 1"),
        ("PLUGIN_CONCURRENCY", "33", "at most 32"),
        ("PLUGIN_RATE_LIMIT", "-1", "at least 0"),
        ("PLUGIN_PRUNE_LIMIT", "101", "at most 100"),
        ("PLUGIN_MAX_UPLOAD_MB", "0", "at least 1"),
        ("PLUGIN_CONCURRENCY", "four", "whole number"),
        ("PLUGIN_CONCURRENCY", "2.5", "whole number"),
    ],
)
def test_bad_integers(env: str, value: str, words: str) -> None:
    (problem,) = problems_of(env={env: value})
    assert env in problem and words in problem


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("docs/README.md", ("docs/README.md",)),
        ("a.md, b/*.md ,c.md", ("a.md", "b/*.md", "c.md")),
        ("a.md,,", ("a.md",)),
        ('["a.md", "b, with comma.md"]', ("a.md", "b, with comma.md")),
        ("[]", ()),
        (' [ "x" ] ', ("x",)),
    ],
)
def test_lists_as_comma_text_or_json(text: str, value: tuple[str, ...]) -> None:
    assert load_settings({}, {"PLUGIN_IGNORE": text}).ignore == value


@pytest.mark.parametrize(("text", "words"), [("[a.md", "not valid JSON"), ("[1, 2]", "list of strings")])
def test_bad_lists(text: str, words: str) -> None:
    (problem,) = problems_of(env={"PLUGIN_IGNORE": text})
    assert "`ignore`" in problem and words in problem


@pytest.mark.parametrize(
    ("text", "value"),
    [("60", (10.0, 60.0)), ("10,60", (10.0, 60.0)), ("5", (5.0, 5.0)), ("2.5, 30", (2.5, 30.0))],
)
def test_timeouts(text: str, value: tuple[float, float]) -> None:
    assert load_settings({}, {"PLUGIN_TIMEOUT": text}).timeout == value


@pytest.mark.parametrize("text", ["0", "-1", "10,0", "1,2,3", "soon", "nan", "inf", "10,"])
def test_bad_timeouts(text: str) -> None:
    (problem,) = problems_of(env={"PLUGIN_TIMEOUT": text})
    assert "`timeout`" in problem


@pytest.mark.parametrize(
    ("env", "text", "value"),
    [
        ("PLUGIN_MODE", "sync", Mode.SYNC),
        ("PLUGIN_MODE", "PLAN", Mode.PLAN),
        ("PLUGIN_ON_DRIFT", "fail", OnDrift.FAIL),
        ("PLUGIN_IMPORT", "never", ImportMode.NEVER),
        ("PLUGIN_FORMAT", "json", OutputFormat.JSON),
        ("PLUGIN_LOG_LEVEL", " debug ", LogLevel.DEBUG),
    ],
)
def test_choices(env: str, text: str, value: object) -> None:
    settings = load_settings({}, {env: text})
    assert value in {settings.mode, settings.on_drift, settings.import_mode, settings.format, settings.log_level}


def test_bad_choice_lists_the_allowed_values() -> None:
    (problem,) = problems_of(env={"PLUGIN_ON_DRIFT": "ignore"})
    assert "overwrite, skip, fail" in problem and "'ignore'" in problem


def test_paths_and_empty_output_paths() -> None:
    settings = load_settings({}, {"PLUGIN_REPORT": "out/report.json", "PLUGIN_CA_CERT": " /etc/ca.pem "})
    assert settings.report == Path("out/report.json") and settings.ca_cert == Path("/etc/ca.pem")
    disabled = load_settings({}, {"PLUGIN_REPORT": "", "PLUGIN_SUMMARY": "  "})
    assert disabled.report is None and disabled.summary is None
    assert disabled.sources["report"] == "PLUGIN_REPORT"


@pytest.mark.parametrize("name", ["report", "summary", "junit"])
@pytest.mark.parametrize("word", ["off", "OFF", " off "])
def test_off_turns_an_output_file_off(name: str, word: str) -> None:
    # `report:` with no value is YAML null: Woodpecker sets no variable and the default applies
    assert getattr(load_settings({}, {f"PLUGIN_{name.upper()}": word}), name) is None
    assert load_settings({}, {}).report == Path("bookstack-sync-report.json")


def test_off_is_only_a_word_for_output_files() -> None:
    assert load_settings({}, {"PLUGIN_DOCS_DIR": "off"}).docs_dir == Path("off")


def test_comment_and_forge_token() -> None:
    settings = load_settings({}, {"PLUGIN_COMMENT": "never", "PLUGIN_FORGE_TOKEN": SECRET})
    assert settings.comment is CommentMode.NEVER and settings.forge_token == SECRET
    assert SECRET not in repr(settings) and settings.redacted()["forge_token"] == "***"
    assert load_settings({}, {}).comment is CommentMode.AUTO
    (problem,) = problems_of(env={"PLUGIN_COMMENT": "always"})
    assert "comment" in problem and "auto, never" in problem


def test_empty_docs_dir_means_the_default() -> None:
    assert load_settings({}, {"PLUGIN_DOCS_DIR": ""}).docs_dir == Path("docs")
    assert load_settings({"docs_dir": ""}, {}).structure_path == Path("docs/bookstack/bookstack-structure.yaml")


def test_typed_flag_values_pass_through() -> None:
    settings = load_settings({"strict": True, "concurrency": 8, "ignore": ["a.md"], "timeout": (1.0, 2.0)}, {})
    assert (settings.strict, settings.concurrency, settings.ignore, settings.timeout) == (
        True,
        8,
        ("a.md",),
        (1.0, 2.0),
    )


def test_flag_values_are_checked_too() -> None:
    (problem,) = problems_of(flags={"concurrency": "99"})
    assert "--concurrency" in problem and "at most 32" in problem


# --- unknown variables, all problems at once -------------------------------------------------------------


def test_unknown_plugin_variable_is_rejected() -> None:
    (problem,) = problems_of(env={"PLUGIN_DOCS_DIRECTORY": "docs"})
    assert "PLUGIN_DOCS_DIRECTORY" in problem and "unknown setting" in problem and "docs_dir" in problem


def test_other_variables_are_ignored() -> None:
    assert load_settings({}, {"CI_PIPELINE_EVENT": "push", "HOME": "/root", "BOOKSTACK_OTHER": "x"}) == Settings()


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        flags={"concurrency": "0"},
        env={"PLUGIN_STRICT": "ture", "PLUGIN_TIMEOUT": "x", "PLUGIN_MODE": "deploy", "PLUGIN_COLOUR": "red"},
    )
    assert len(problems) == 5
    text = str(SettingsError(problems))
    for name in ("concurrency", "strict", "timeout", "mode", "PLUGIN_COLOUR"):
        assert name in text


# --- secrets -------------------------------------------------------------------------------------------


def test_secrets_are_not_in_repr_or_redacted_output() -> None:
    settings = load_settings({}, {"PLUGIN_TOKEN_ID": SECRET_ID, "PLUGIN_TOKEN_SECRET": SECRET})
    assert settings.token_id == SECRET_ID and settings.token_secret == SECRET and settings.has_token
    for text in (repr(settings), str(settings), str(settings.redacted()), str(settings.sources)):
        assert SECRET not in text and SECRET_ID not in text
    assert settings.redacted()["token_secret"] == "***"
    assert load_settings({}, {}).redacted()["token_secret"] is None


def test_secrets_are_not_in_error_text() -> None:
    problems = problems_of(
        env={
            "PLUGIN_TOKEN_ID": SECRET_ID,
            "PLUGIN_TOKEN_SECRET": SECRET,
            "BOOKSTACK_TOKEN_SECRET": SECRET + "-fallback",
            "PLUGIN_STRICT": "ture",
            "PLUGIN_TOKEN": SECRET,  # a typo of a secret's name: its value must not be echoed either
        }
    )
    text = str(SettingsError(problems))
    assert SECRET not in text and SECRET_ID not in text


# --- the table -------------------------------------------------------------------------------------------


def test_settings_table_lists_every_setting_once() -> None:
    table = settings_table_markdown()
    for spec in SETTINGS:
        assert table.count(f"| `{spec.name}` |") == 1
    assert "`<docs_dir>/bookstack/bookstack-structure.yaml`" in table
    assert "`10,60`" in table
