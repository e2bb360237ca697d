"""Settings: one declarative table, resolved as flag > ``PLUGIN_*`` variable > fallback variable > default.

Woodpecker turns each ``settings:`` key into ``PLUGIN_<KEY>`` (lists comma-joined with no escaping, maps
as JSON, ``''`` and ``[]`` as an empty variable, a null value not set at all; numbers with a leading
zero are read by its YAML parser as octal: ``0120`` arrives as ``80``). The same table generates the CLI flags and the settings tables in README/docs.md,
so the three cannot disagree. Every problem is collected and reported at once.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from .errors import SettingsError


class Mode(StrEnum):
    AUTO = "auto"
    VALIDATE = "validate"
    PLAN = "plan"
    SYNC = "sync"
    FULL = "full"
    PULL = "pull"


class OnDrift(StrEnum):
    OVERWRITE = "overwrite"
    SKIP = "skip"
    FAIL = "fail"


class ImportMode(StrEnum):
    AUTO = "auto"
    NEVER = "never"


class CommentMode(StrEnum):
    AUTO = "auto"
    NEVER = "never"


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Kind(StrEnum):
    """How a raw text value is parsed."""

    STR = "string"
    PATH = "path"
    BOOL = "boolean"
    INT = "integer"
    LIST = "list"
    CHOICE = "choice"
    TIMEOUT = "timeout"
    PERCENT = "percent"


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its name in ``settings:``, how it parses, its default and what it means."""

    name: str
    kind: Kind
    default: Any
    help: str
    choices: type[Enum] | None = None
    secret: bool = False
    fallback_env: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default_text: str | None = None  # how the default reads in docs when it is computed
    can_be_off: bool = False  # an output file: `off` (or an empty value) turns it off

    @property
    def env(self) -> str:
        return "PLUGIN_" + self.name.upper().replace("-", "_").replace(".", "_")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def attr(self) -> str:
        # `import` is a Python keyword
        return "import_mode" if self.name == "import" else self.name


SETTINGS: tuple[SettingSpec, ...] = (
    # what to read
    SettingSpec("docs_dir", Kind.PATH, "docs", "Root of the docs tree."),
    SettingSpec(
        "structure",
        Kind.PATH,
        None,
        "The structure file (shelves → books → chapters → pages).",
        default_text="<docs_dir>/bookstack/bookstack-structure.yaml",
    ),
    SettingSpec("ignore", Kind.LIST, (), "Globs (relative to docs_dir) of Markdown files that are not pages."),
    SettingSpec(
        "tree",
        Kind.STR,
        None,
        "This docs tree's id, recorded on everything it writes: a run changes and deletes only its own tree's "
        "objects. Set it when the repository is renamed or moved, or a docs folder split or moved, to the id "
        "the tree had (the plan names it).",
        default_text="<repository>:<docs_dir>",
    ),
    SettingSpec("strict", Kind.BOOL, False, "Treat warnings as errors."),
    SettingSpec("format", Kind.CHOICE, OutputFormat.TEXT, "Output format of `validate`.", OutputFormat),
    # what to do
    SettingSpec(
        "mode",
        Kind.CHOICE,
        Mode.AUTO,
        "auto picks from CI_PIPELINE_EVENT: pull_request, pull_request_metadata → plan; push, tag, release, deployment, cron → sync; manual → full; pull_request_closed, any other event or none → validate. `pull` writes pages edited in BookStack into the docs files (for a manual pipeline).",
        Mode,
    ),
    SettingSpec("dry_run", Kind.BOOL, False, "Plan only; never write to BookStack."),
    SettingSpec("url", Kind.STR, None, "BookStack base URL.", fallback_env=("BOOKSTACK_URL",)),
    SettingSpec(
        "token_id",
        Kind.STR,
        None,
        "API token id (use from_secret).",
        secret=True,
        fallback_env=("BOOKSTACK_TOKEN_ID",),
    ),
    SettingSpec(
        "token_secret",
        Kind.STR,
        None,
        "API token secret (use from_secret).",
        secret=True,
        fallback_env=("BOOKSTACK_TOKEN_SECRET",),
    ),
    SettingSpec("timeout", Kind.TIMEOUT, (10.0, 60.0), "Connect and read timeout in seconds: `60` or `10,60`."),
    SettingSpec("rate_limit", Kind.INT, 180, "Requests per minute (BookStack's default limit is 180).", minimum=0),
    SettingSpec(
        "concurrency",
        Kind.INT,
        4,
        "Requests in flight at once, writes included (1: one at a time; the result is the same).",
        minimum=1,
        maximum=32,
    ),
    SettingSpec("ca_cert", Kind.PATH, None, "CA bundle to verify BookStack's TLS certificate."),
    SettingSpec("insecure", Kind.BOOL, False, "Skip TLS verification (not recommended)."),
    SettingSpec(
        "adopt",
        Kind.BOOL,
        True,
        "Adopt an unmanaged object of the same name in the same parent instead of creating a duplicate.",
    ),
    SettingSpec(
        "on_drift",
        Kind.CHOICE,
        OnDrift.OVERWRITE,
        "A page edited in BookStack since the last sync: overwrite (git wins), skip, or fail.",
        OnDrift,
    ),
    SettingSpec("prune", Kind.BOOL, False, "Delete managed objects whose source is gone."),
    SettingSpec(
        "prune_limit",
        Kind.PERCENT,
        25,
        "Refuse to prune more than this percentage of the managed pages.",
        minimum=0,
        maximum=100,
    ),
    SettingSpec("strip_title_heading", Kind.BOOL, True, "Drop a leading `# H1` equal to the page title."),
    SettingSpec(
        "forge_markdown",
        Kind.BOOL,
        True,
        "Render GitHub/Gitea alerts as BookStack callouts, footnotes as linked notes, bare URLs as links.",
    ),
    SettingSpec("publish_drafts", Kind.BOOL, False, "Publish pages with `status: draft`."),
    SettingSpec("max_upload_mb", Kind.INT, 50, "Largest image or attachment to upload, in MB.", minimum=1),
    SettingSpec(
        "import",
        Kind.CHOICE,
        ImportMode.AUTO,
        "Create new books and chapters through BookStack's ZIP import where the server allows it.",
        ImportMode,
    ),
    SettingSpec("import_max_pages", Kind.INT, 300, "Import larger books chapter by chapter.", minimum=1),
    # what to tell
    SettingSpec(
        "report",
        Kind.PATH,
        "bookstack-sync-report.json",
        "JSON report file; `off` turns it off (`report:` with no value is YAML null: Woodpecker sets nothing and the default applies).",
        can_be_off=True,
    ),
    SettingSpec(
        "summary",
        Kind.PATH,
        "bookstack-sync-summary.md",
        "Markdown summary file (the text of the pull-request comment); `off` turns it off.",
        can_be_off=True,
    ),
    SettingSpec("junit", Kind.PATH, None, "JUnit XML of the validation results; off by default.", can_be_off=True),
    SettingSpec(
        "comment",
        Kind.CHOICE,
        CommentMode.AUTO,
        "Post the summary as a pull-request comment (GitHub, Gitea, Forgejo, GitLab), edited in place on every push: auto does so when `forge_token` is set and the pipeline is a pull request's.",
        CommentMode,
    ),
    SettingSpec(
        "forge_token",
        Kind.STR,
        None,
        "Token of the forge account that comments (use from_secret); never printed.",
        secret=True,
    ),
    SettingSpec("log_level", Kind.CHOICE, LogLevel.INFO, "debug shows each request.", LogLevel),
)

SPECS_BY_NAME: dict[str, SettingSpec] = {spec.name: spec for spec in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one run. Secrets are kept out of ``repr``."""

    docs_dir: Path = Path("docs")
    structure: Path | None = None
    ignore: tuple[str, ...] = ()
    tree: str | None = None  # as set; ``treeid.tree_id_for`` gives the run's id, derived when unset
    strict: bool = False
    format: OutputFormat = OutputFormat.TEXT
    mode: Mode = Mode.AUTO
    dry_run: bool = False
    url: str | None = None
    token_id: str | None = field(default=None, repr=False)
    token_secret: str | None = field(default=None, repr=False)
    timeout: tuple[float, float] = (10.0, 60.0)
    rate_limit: int = 180
    concurrency: int = 4
    ca_cert: Path | None = None
    insecure: bool = False
    adopt: bool = True
    on_drift: OnDrift = OnDrift.OVERWRITE
    prune: bool = False
    prune_limit: int = 25
    strip_title_heading: bool = True
    forge_markdown: bool = True
    publish_drafts: bool = False
    max_upload_mb: int = 50
    import_mode: ImportMode = ImportMode.AUTO
    import_max_pages: int = 300
    report: Path | None = Path("bookstack-sync-report.json")
    summary: Path | None = Path("bookstack-sync-summary.md")
    junit: Path | None = None
    comment: CommentMode = CommentMode.AUTO
    forge_token: str | None = field(default=None, repr=False)
    log_level: LogLevel = LogLevel.INFO
    # where each value came from ("flag", "PLUGIN_X", "BOOKSTACK_X", "default"), for the log and report
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def structure_path(self) -> Path:
        return (
            self.structure if self.structure is not None else self.docs_dir / "bookstack" / "bookstack-structure.yaml"
        )

    @property
    def has_token(self) -> bool:
        return bool(self.token_id and self.token_secret)

    @property
    def verify(self) -> bool | str:
        if self.insecure:
            return False
        return str(self.ca_cert) if self.ca_cert else True

    def redacted(self) -> dict[str, Any]:
        """The settings as JSON-ready data with secrets replaced, for the report."""
        out: dict[str, Any] = {}
        for spec in SETTINGS:
            value = getattr(self, spec.attr)
            if spec.secret:
                out[spec.name] = "***" if value else None
            elif isinstance(value, Enum):
                out[spec.name] = value.value
            elif isinstance(value, Path):
                out[spec.name] = str(value)
            elif isinstance(value, tuple):
                out[spec.name] = list(value)
            else:
                out[spec.name] = value
        out["structure"] = str(self.structure_path)
        return out


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _parse_list(text: str) -> tuple[str, ...]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"looks like a JSON list but is not valid JSON: {exc.msg}") from None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError("expected a list of strings")
        return tuple(item.strip() for item in value if item.strip())
    return tuple(item.strip() for item in stripped.split(",") if item.strip())


def _parse_timeout(text: str) -> tuple[float, float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"expected seconds like `60` or `10,60`, got {text!r}") from None
    if len(numbers) == 1:
        numbers = [min(numbers[0], 10.0), numbers[0]]
    if len(numbers) != 2 or not all(0 < n < math.inf for n in numbers):
        raise ValueError(f"expected one or two positive numbers of seconds, got {text!r}")
    return numbers[0], numbers[1]


def _parse_percent(text: str) -> int:
    return _parse_int(text.strip().removesuffix("%"))


def parse_value(spec: SettingSpec, raw: object) -> Any:
    """Turn a raw value (text from the environment, or a typed value from a flag) into the setting's type."""
    if raw is None:
        if spec.kind is Kind.PATH and isinstance(spec.default, str):
            return Path(spec.default)
        return spec.default
    text = raw if isinstance(raw, str) else None
    value: Any
    if spec.kind is Kind.BOOL:
        value = raw if isinstance(raw, bool) else _parse_bool(str(raw))
    elif spec.kind in (Kind.INT, Kind.PERCENT):
        value = raw if isinstance(raw, int) else (_parse_percent if spec.kind is Kind.PERCENT else _parse_int)(str(raw))
        if spec.minimum is not None and value < spec.minimum:
            raise ValueError(f"must be at least {spec.minimum}, got {value}")
        if spec.maximum is not None and value > spec.maximum:
            raise ValueError(f"must be at most {spec.maximum}, got {value}")
    elif spec.kind is Kind.LIST:
        value = tuple(raw) if isinstance(raw, list | tuple) else _parse_list(str(raw))
    elif spec.kind is Kind.TIMEOUT:
        value = raw if isinstance(raw, tuple) else _parse_timeout(str(raw))
    elif spec.kind is Kind.CHOICE:
        assert spec.choices is not None
        try:
            value = spec.choices(str(raw).strip().lower())
        except ValueError:
            allowed = ", ".join(c.value for c in spec.choices)
            raise ValueError(f"expected one of {allowed}, got {raw!r}") from None
    elif spec.kind is Kind.PATH:
        # an empty value (`report: ''`) or the word `off` turns an output file off; elsewhere empty is the default
        if text is not None and spec.can_be_off and text.strip().lower() in ("", "off"):
            return None
        if text is not None and not text.strip():
            return Path(spec.default) if isinstance(spec.default, str) else None
        value = Path(str(raw).strip())
    else:
        value = str(raw).strip() or None
        if value is not None and spec.name == "tree":
            value = check_tree_id(value)
    return value


# The `tree` setting is written into BookStack searches as `[bookstack-sync-tree=<id>]`: BookStack takes `"…"`
# out of a query first and ends a tag term at the first `]`, so an id holds only characters that mean nothing there.
# Nor may it be a number: a search value PHP's is_numeric accepts is compared as a number, and MySQL reads a stored
# value by its numeric start, so `[bookstack-sync-tree=42]` also finds the trees `42/docs` and `042`
# (SearchRunner::applyTagSearch, v25.02 and v26.03).
TREE_ID_MAX = 100
_TREE_ID = re.compile(r"^[a-z0-9][a-z0-9._/:@+-]*$")
_PHP_NUMERIC = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?")


def is_number(tree_id: str) -> bool:
    """Whether BookStack's search would compare this (lowercase, trimmed) id as a number."""
    return _PHP_NUMERIC.fullmatch(tree_id) is not None


def check_tree_id(text: str) -> str:
    """A ``tree`` setting's value as it is written, or ValueError saying what is wrong with it."""
    value = text.strip().lower()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > TREE_ID_MAX:
        raise ValueError(f"at most {TREE_ID_MAX} characters, got {len(value)}")
    if not _TREE_ID.match(value):
        raise ValueError(
            f"{text!r} holds characters BookStack's tag search cannot take: use letters, digits and . _ / : @ + - "
            "(starting with a letter or digit)"
        )
    if is_number(value):
        raise ValueError(
            f"{text!r} is a number, which BookStack's tag search compares as a number (it would also find the"
            f" trees {value}/docs and 0{value}): add a letter, e.g. 'tree-{value}'"
        )
    return value


def workspace_of(env: Mapping[str, str]) -> Path:
    """The pipeline's workspace (``CI_WORKSPACE``), else the current directory: where relative report
    paths go."""
    return Path(env.get("CI_WORKSPACE") or ".")


def load_settings(flags: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting: flag > ``PLUGIN_*`` > fallback variable > default.

    ``flags`` maps setting names to values given on the command line (``None`` = not given).
    Unknown ``PLUGIN_*`` variables are an error: a typo in ``settings:`` must not pass silently.
    """
    values, sources, problems = _resolve(flags or {}, os.environ if environ is None else environ)
    if problems:
        raise SettingsError(problems)
    return Settings(**values, sources=sources)


def readable_settings(flags: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings as far as they can be read: defaults where a value is malformed, unknown
    ``PLUGIN_*`` variables left out. Only for reporting a settings error (where to write the report)."""
    values, sources, _problems = _resolve(flags or {}, os.environ if environ is None else environ)
    return Settings(**values, sources=sources)


def _resolve(flags: Mapping[str, object], env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Each setting's value and source, and every problem found."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    known_env = {spec.env for spec in SETTINGS}
    for name in sorted(env):
        if name.startswith("PLUGIN_") and name not in known_env:
            setting = name.removeprefix("PLUGIN_").lower()
            near = closest(setting, [spec.name for spec in SETTINGS])
            if near is not None:
                suggestion = f"did you mean `{near}` ({SPECS_BY_NAME[near].env})?"
            else:
                suggestion = f"known settings: {', '.join(spec.name for spec in SETTINGS)}"
            problems.append(f"unknown setting `{setting}` ({name}); {suggestion}")

    for spec in SETTINGS:
        raw: object = None
        source = "default"
        if flags.get(spec.name) is not None:
            raw, source = flags[spec.name], "flag"
        elif env.get(spec.env, "") != "" or (spec.kind is Kind.PATH and spec.env in env):
            # Woodpecker sets PLUGIN_X='' for `x: ''` and for `x: []` (only a null value sets nothing,
            # compiler/settings/params.go): empty means "not given" (fallback, then default), except
            # for paths, where it turns an output file off.
            raw, source = env[spec.env], spec.env
        else:
            for fallback in spec.fallback_env:
                if env.get(fallback):
                    raw, source = env[fallback], fallback
                    break
        try:
            values[spec.attr] = parse_value(spec, raw)
        except ValueError as exc:
            shown = "(hidden)" if spec.secret else ""
            where = "--" + spec.name.replace("_", "-") if source == "flag" else source
            problems.append(f"setting `{spec.name}` from {where}: {exc} {shown}".rstrip())
            continue
        sources[spec.name] = source
    return values, sources, problems


def closest(word: str, known: list[str]) -> str | None:
    """The one of ``known`` that ``word`` is most likely a misspelling of, or None when none is close."""
    near = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
    return near[0] if near else None


def settings_table_markdown() -> str:
    """The settings table for README.md and docs.md (a test checks both embed it verbatim)."""
    lines = ["| Setting | Default | Description |", "| --- | --- | --- |"]
    for spec in SETTINGS:
        lines.append(f"| `{spec.name}` | {_default_text(spec)} | {_describe(spec)} |")
    return "\n".join(lines)


def _default_text(spec: SettingSpec) -> str:
    if spec.default_text:
        return f"`{spec.default_text}`"
    default = spec.default
    if default is None or default == ():
        return "—"
    if isinstance(default, Enum):
        return f"`{default.value}`"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, tuple):
        return "`" + ",".join(f"{x:g}" if isinstance(x, float) else str(x) for x in default) + "`"
    return f"`{default}`"


def _describe(spec: SettingSpec) -> str:
    text = spec.help
    if spec.choices is not None:
        text += " One of: " + ", ".join(f"`{c.value}`" for c in spec.choices) + "."
    if spec.fallback_env:
        text += " Falls back to " + ", ".join(f"`{e}`" for e in spec.fallback_env) + " from the environment."
    return text


def setting_names() -> list[str]:
    return [spec.name for spec in SETTINGS]


def field_names() -> set[str]:
    return {f.name for f in fields(Settings)} - {"sources"}
