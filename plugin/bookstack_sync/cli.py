"""Command line and plugin entrypoint: the one place that reads argv and holds the error boundary.

``bookstack-sync`` with no subcommand is the Woodpecker entrypoint: it reads ``PLUGIN_*``/``CI_*``
variables and picks what to do from the pipeline event. Subcommands are for people and pre-commit.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

# The commands' modules are imported by the command that runs them: `validate` (pre-commit, every pull
# request) starts without loading the BookStack client, the planner and the writers.
from . import __version__
from .errors import BookstackSyncError, ExitCode, SettingsError, UsageError
from .model import RunMode
from .settings import (
    SETTINGS,
    Kind,
    Settings,
    SettingSpec,
    closest,
    load_settings,
    readable_settings,
    workspace_of,
)

Command = Callable[[argparse.Namespace, Settings, Mapping[str, str]], int]
_COMMANDS: dict[str, tuple[str, Command, Callable[[argparse.ArgumentParser], None] | None]] = {}

# The settings each subcommand reads: it shows and accepts these flags and no others (a flag it would
# ignore is an error, not silence). `run` is the Woodpecker plugin and reads them all; `plan` and `sync`
# all but the ones their name fixes, so a new setting reaches the three BookStack commands unasked.
# what validating the docs reads (every command that takes these validates; max_upload_mb: the file size limit)
_DOCS = frozenset({"docs_dir", "structure", "ignore", "max_upload_mb"})
_CLIENT = frozenset({"url", "token_id", "token_secret", "timeout", "rate_limit", "concurrency", "ca_cert", "insecure"})
_CONTENT = frozenset({"strip_title_heading", "forge_markdown", "publish_drafts"})
_ALL = frozenset(spec.name for spec in SETTINGS)
COMMAND_SETTINGS: dict[str, frozenset[str]] = {
    "validate": _DOCS | {"strict", "format", "junit"},
    "schema": frozenset({"docs_dir", "structure"}),
    "paths": frozenset({"docs_dir", "structure"}),
    "run": _ALL,
    "plan": _ALL - {"mode", "dry_run"},
    "sync": _ALL - {"mode"},
    "migrate": _DOCS | {"strict", "format", "dry_run"},
    "scaffold": frozenset({"docs_dir", "structure", "dry_run"}),
    "export": _DOCS | _CLIENT | {"strict", "junit"},
    "pull": _DOCS | _CLIENT | _CONTENT | {"strict", "dry_run", "junit"},
}


def command(
    name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None] | None = None
) -> Callable[[Command], Command]:
    """Register a subcommand. Every command lives in this module: the stages know nothing of argv."""

    def register(fn: Command) -> Command:
        _COMMANDS[name] = (help, fn, arguments)
        return fn

    return register


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` keeps the one error boundary."""

    def error(self, message: str) -> Any:
        hint = f"see `{self.prog} --help`"
        wrong = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if wrong:
            near = closest(wrong.group(1), re.findall(r"'([^']*)'", wrong.group(2)))
            hint = f"did you mean {near}?" if near else hint
        raise UsageError(f"{self.prog}: {message}", hint=hint)


def _add_setting_flags(parser: argparse.ArgumentParser, names: frozenset[str]) -> None:
    group = parser.add_argument_group("settings (also PLUGIN_<NAME> variables)")
    for spec in SETTINGS:
        if spec.name in names:
            _add_flag(group, spec)


def _add_flag(group: Any, spec: SettingSpec) -> None:
    # SUPPRESS: a flag not given leaves no attribute, so a subcommand's parser cannot overwrite a
    # value given before the subcommand name
    metavar = spec.kind.value.upper() if spec.kind is not Kind.CHOICE else None
    if spec.kind is Kind.BOOL:
        group.add_argument(
            spec.flag,
            dest=spec.name,
            action=argparse.BooleanOptionalAction,
            default=argparse.SUPPRESS,
            help=spec.help,
        )
    elif spec.kind is Kind.CHOICE:
        assert spec.choices is not None
        group.add_argument(
            spec.flag,
            dest=spec.name,
            choices=[c.value for c in spec.choices],
            default=argparse.SUPPRESS,
            help=spec.help,
        )
    else:
        group.add_argument(spec.flag, dest=spec.name, default=argparse.SUPPRESS, metavar=metavar, help=spec.help)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bookstack-sync",
        description="Validate a Markdown docs tree and keep a BookStack wiki in step with it. "
        "Without a subcommand, runs as the Woodpecker plugin (settings from PLUGIN_* variables).",
    )
    parser.add_argument("--version", action="version", version=f"bookstack-sync {__version__}")
    _add_setting_flags(parser, _ALL)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, _fn, arguments) in _COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if arguments is not None:
            arguments(child)
        taken = {option for action in child._actions for option in action.option_strings}
        _add_setting_flags(
            child, frozenset(s.name for s in SETTINGS if s.name in COMMAND_SETTINGS[name] and s.flag not in taken)
        )
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; an option the command does not take is a usage error that says why, with a
    suggestion for a misspelling."""
    args, extras = parser.parse_known_args(argv)
    name = args.command or "run"
    prog = f"{parser.prog} {args.command}" if args.command else parser.prog
    # a setting given before the subcommand's name lands here whether the subcommand reads it or not
    given = [spec for spec in SETTINGS if hasattr(args, spec.name) and spec.name not in COMMAND_SETTINGS[name]]
    if given:
        raise _not_used(prog, name, given[0].flag)
    for extra in extras:
        flag = extra.split("=", 1)[0]
        if not flag.startswith("-"):
            raise UsageError(f"{prog}: unexpected argument {extra!r}", hint=f"see `{prog} --help`")
        raise _not_used(prog, name, flag)
    return args


def _not_used(prog: str, name: str, flag: str) -> UsageError:
    by_flag = {spec.flag: spec for spec in SETTINGS}
    spec = by_flag.get(flag)
    if spec is not None and spec.name not in COMMAND_SETTINGS[name]:
        users = [command for command, names in COMMAND_SETTINGS.items() if spec.name in names]
        return UsageError(
            f"{prog}: {flag} is not used by `{name}` (it is a setting of {', '.join(users)})",
            hint=f"leave it out; `{prog} --help` lists what `{name}` takes",
        )
    parser = build_parser()
    options = [option for action in parser._actions for option in action.option_strings]
    if name != "run":
        options = [option for action in _subparser(parser, name)._actions for option in action.option_strings]
    near = closest(flag, options)
    return UsageError(
        f"{prog}: unknown option {flag}", hint=f"did you mean {near}?" if near else f"see `{prog} --help`"
    )


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            child: argparse.ArgumentParser = action.choices[name]
            return child
    raise KeyError(name)  # pragma: no cover - every command has a subparser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one command and return its exit code; nothing else in the package exits the process."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    try:
        args = _parse(build_parser(), list(sys.argv[1:] if argv is None else argv))
        flags = {spec.name: getattr(args, spec.name, None) for spec in SETTINGS}
        name = args.command or "run"  # a bare `bookstack-sync` is the Woodpecker plugin
        try:
            settings = load_settings(flags, env)
        except SettingsError as exc:
            if name in _BOOKSTACK_COMMANDS:
                from .commands import sync

                # the next step (a PR comment) still gets a report saying why nothing happened
                paths = sync.report_unusable_settings(readable_settings(flags, env), env, _requested(args), exc)
                for path in paths:
                    print(f"bookstack-sync: wrote {path}", file=sys.stderr)
            raise
        _help, fn, _arguments = _COMMANDS[name]
        return fn(args, settings, env)
    except BookstackSyncError as exc:
        print(f"bookstack-sync: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"bookstack-sync: hint: {exc.hint}", file=sys.stderr)
        return int(exc.exit_code)
    except BrokenPipeError:
        # the reader went away (`bookstack-sync schema | head`): nothing left to tell anyone
        sys.stderr.close()
        return int(ExitCode.OK)
    except KeyboardInterrupt:
        print("bookstack-sync: interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - the one boundary for bugs: show them, ask for a report, exit 4
        traceback.print_exc()
        print(
            "bookstack-sync: internal error (a bug in bookstack-sync). Please report it with the traceback above.",
            file=sys.stderr,
        )
        return int(ExitCode.INTERNAL)


def entrypoint() -> None:
    """The console script: ``bookstack-sync``."""
    sys.exit(main())


# --- validate ---------------------------------------------------------------------------------------


@command("validate", "Check the docs tree against the structure file; every mistake, with path, line and rule id.")
def _validate(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import validate

    return int(validate.run_validate(settings, env, sys.stdout))


# --- schema -----------------------------------------------------------------------------------------


@command("schema", "Print the JSON Schema generated from the structure file.")
def _schema(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import schema

    return int(schema.run_schema(settings, sys.stdout))


# --- paths ------------------------------------------------------------------------------------------


def _paths_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="paths_format", choices=["list", "tree"], default="list")
    parser.add_argument("--category", help="only folders whose pages take this category (a chapter or book slug)")


@command("paths", "List every place a page may go, from the structure file.", _paths_arguments)
def _paths(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import paths

    return int(paths.run_paths(settings, sys.stdout, tree=args.paths_format == "tree", category=args.category))


# --- BookStack: run, plan, sync --------------------------------------------------------------------


_BOOKSTACK_COMMANDS = ("run", "plan", "sync")


def _requested(args: argparse.Namespace) -> RunMode | None:
    """The mode a BookStack command asks for (None: the plugin decides from the event and settings)."""
    if args.command == "plan":
        return RunMode.PLAN
    if args.command == "sync":
        return RunMode.FULL if args.full else RunMode.SYNC
    return None


@command("run", "Run as the Woodpecker plugin: the mode follows CI_PIPELINE_EVENT and the `mode` setting.")
def _plugin(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import sync

    requested = _requested(args)
    mode, _reason = sync.decide_mode(settings, env, requested)
    if mode is RunMode.PULL:
        return _pull_files(settings, env, Path("bookstack-pull-report.json"))
    return sync.run_and_report(settings, env, requested)


@command("plan", "Show what a sync would change in BookStack, without writing anything.")
def _plan(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import sync

    return sync.run_and_report(settings, env, _requested(args))


def _sync_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full", action="store_true", help="verify every page's content, not only the stored hashes")


@command("sync", "Sync the docs tree into BookStack.", _sync_arguments)
def _sync_command(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import sync

    return sync.run_and_report(settings, env, _requested(args))


# --- migrate and scaffold ---------------------------------------------------------------------------


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--analyze",
        dest="migrate_action",
        action="store_const",
        const="analyze",
        help="list every file that does not conform, grouped by rule id, with counts",
    )
    what.add_argument(
        "--report",
        dest="migrate_action",
        action="store_const",
        const="report",
        help="print the migration plan as Markdown: new paths, frontmatter changes, files it cannot place",
    )
    what.add_argument("--apply", dest="migrate_action", action="store_const", const="apply", help="carry the plan out")
    parser.add_argument(
        "--dry-run",
        dest="migrate_dry_run",
        action="store_true",
        help="with --apply: show what would change, change nothing",
    )
    parser.add_argument(
        "--map",
        dest="migrate_map",
        metavar="FILE",
        help="YAML map of old path or glob (relative to docs_dir) to new chapter folder, optionally with a file name",
    )
    parser.add_argument(
        "--author", dest="migrate_author", metavar="NAME", help="author for files that have no commit to take one from"
    )
    parser.add_argument(
        "--force", dest="migrate_force", action="store_true", help="apply even with uncommitted changes under docs_dir"
    )


@command(
    "migrate",
    "Bring an existing docs folder into the structure: --analyze, --report (Markdown plan) or --apply [--dry-run].",
    _migrate_arguments,
)
def _migrate(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import migrate

    return int(
        migrate.run_migrate(
            settings,
            args.migrate_action,
            map_file=args.migrate_map,
            author=args.migrate_author,
            dry_run=args.migrate_dry_run or settings.dry_run,
            force=args.migrate_force,
            out=sys.stdout,
        )
    )


def _scaffold_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stubs",
        action="store_true",
        help="also write a stub page for each page the structure lists but the tree lacks",
    )
    parser.add_argument(
        "--author",
        dest="scaffold_author",
        metavar="NAME",
        help="author of the stub pages (default: git's user.name)",
    )


@command(
    "scaffold",
    "Create the folders the structure file names; --stubs adds a draft stub for each listed page that is missing.",
    _scaffold_arguments,
)
def _scaffold(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import scaffold

    return int(scaffold.run_scaffold(settings, author=args.scaffold_author, stubs=args.stubs, out=sys.stdout))


# --- export and pull: BookStack back into git -------------------------------------------------------


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shelf", action="append", default=[], metavar="NAME", help="only this shelf (name or slug; repeatable)"
    )
    parser.add_argument(
        "--book", action="append", default=[], metavar="NAME", help="only this book (name or slug; repeatable)"
    )
    parser.add_argument(
        "--unshelved",
        metavar="NAME",
        help="put books that are on no shelf on a new shelf of this name (default: not exported, reported)",
    )
    parser.add_argument("--force", action="store_true", help="write into a docs folder that is not empty")
    _report_argument(parser, "--export-report", "bookstack-export-report.json", "what could not be represented")


@command(
    "export",
    "Write a complete docs tree (structure file, pages, images, attachments) from a live BookStack; read-only.",
    _export_arguments,
)
def _export(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    from .commands import export
    from .export.read import ExportFilter

    wanted = ExportFilter(frozenset(args.shelf), frozenset(args.book))
    code = export.run_export(
        settings,
        env,
        wanted=wanted,
        unshelved=args.unshelved,
        force=args.force,
        # a relative report path is under the pipeline's workspace, as the sync's reports are
        report=workspace_of(env) / args.export_report,
        out=sys.stdout,
    )
    return int(code)


def _pull_arguments(parser: argparse.ArgumentParser) -> None:
    _report_argument(parser, "--pull-report", "bookstack-pull-report.json", "what was pulled")


def _report_argument(parser: argparse.ArgumentParser, flag: str, default: str, what: str) -> None:
    """A command's own JSON report file (relative: under the workspace, as the sync's reports are)."""
    parser.add_argument(
        flag,
        type=Path,
        default=Path(default),
        metavar="FILE",
        help=f"the JSON report of {what} (a Markdown copy is written beside it)",
    )


@command(
    "pull",
    "Write the pages people edited in BookStack since the last sync into the docs files, for review and commit.",
    _pull_arguments,
)
def _pull(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    return _pull_files(settings, env, args.pull_report)


def _pull_files(settings: Settings, env: Mapping[str, str], report: Path) -> int:
    from .commands import pull

    return int(pull.run_pull(settings, env, report=workspace_of(env) / report, out=sys.stdout))
