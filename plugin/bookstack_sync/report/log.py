"""The human log on stderr: a header naming the mode and why, one progress line per action, a summary.

CI logs are not terminals: every line ends with a newline, never a carriage return, so a log viewer
(or a downloaded log) shows the same thing the run printed. Colour follows the usual conventions:
``NO_COLOR`` set (to anything) turns it off; otherwise it is on when the stream is a terminal or
``FORCE_COLOR`` is set. Woodpecker's log viewer renders ANSI colours.

Requests are logged by the client through the ``bookstack_sync.bookstack`` logger at debug level; every
record that reaches the handler installed by :func:`configure_logging` goes through a :class:`Redactor`,
so an ``Authorization: Token id:secret`` value or the configured secrets never reach the log.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import TextIO, cast

from .. import __version__
from ..bookstack.activity import ActivitySnapshot
from ..errors import ExitCode
from ..model import ActionKind, Outcome, OutcomeStatus, Plan, RunMode, RunResult
from ..settings import LogLevel
from .words import action_note, group_by_book, plan_sentence, validation_counts

__all__ = [
    "CLIENT_LOGGER",
    "PACKAGE_LOGGER",
    "Heartbeat",
    "Redactor",
    "RunLog",
    "configure_logging",
    "format_header",
    "format_plan",
    "format_progress",
    "format_summary",
    "use_colour",
]

PACKAGE_LOGGER = "bookstack_sync"
CLIENT_LOGGER = "bookstack_sync.bookstack"  # the BookStack client logs each request here, at debug

_LEVELS: dict[LogLevel, int] = {
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
}


# --- colour ---------------------------------------------------------------------------------------


class Colour(StrEnum):
    RED = "31"
    GREEN = "32"
    YELLOW = "33"
    BLUE = "34"
    MAGENTA = "35"
    CYAN = "36"
    DIM = "2"
    BOLD = "1"


def use_colour(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether to colour ``stream``: never with ``NO_COLOR`` (any value, even empty), always with a
    non-empty ``FORCE_COLOR`` other than ``0``/``false``, else only when the stream is a terminal."""
    if "NO_COLOR" in environ:
        return False
    force = environ.get("FORCE_COLOR")
    if force is not None and force.strip().lower() not in ("", "0", "false", "no"):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _paint(text: str, colour: Colour | None, enabled: bool) -> str:
    if not enabled or colour is None:
        return text
    return f"\x1b[{colour.value}m{text}\x1b[0m"


# --- redaction ------------------------------------------------------------------------------------

# `Token <id>:<secret>` as sent in the Authorization header (``ApiTokenGuard``), and the header itself
_TOKEN_PATTERN = re.compile(r"(?i)\b(Token)\s+[^\s:'\"]+:[^\s'\",}]+")
_AUTH_HEADER = re.compile(r"(?i)(['\"]?authorization['\"]?\s*[:=]\s*['\"]?)(?!Token\b)[^'\",}\n]+")
_MASK = "***"


@dataclass(frozen=True)
class Redactor:
    """Removes credentials from text: any ``Token id:secret`` value, any ``Authorization`` header value,
    and each configured secret wherever it appears."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def for_values(cls, values: Iterable[str | None]) -> Redactor:
        # longest first, so a secret that contains another is masked whole
        kept = sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True)
        return cls(tuple(kept))

    def __call__(self, text: str) -> str:
        text = _TOKEN_PATTERN.sub(rf"\1 {_MASK}:{_MASK}", text)
        text = _AUTH_HEADER.sub(rf"\1{_MASK}", text)
        for secret in self.secrets:
            text = text.replace(secret, _MASK)
        return text


class _RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) through the redactor."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed %-format: keep the raw template, still redacted
            message = f"{record.msg} {record.args}"
        record.msg = self._redact(message)
        record.args = None
        return True


class _Formatter(logging.Formatter):
    """``warning: ...`` / ``debug: ...`` lines; info lines plain. Redacts the final text again, so a
    traceback (formatted after the filter ran) cannot carry a secret either."""

    def __init__(self, redact: Redactor, colour: bool) -> None:
        super().__init__()
        self._redact = redact
        self._colour = colour

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR:
            text = _paint("error:", Colour.RED, self._colour) + " " + text
        elif record.levelno >= logging.WARNING:
            text = _paint("warning:", Colour.YELLOW, self._colour) + " " + text
        elif record.levelno < logging.INFO:
            text = _paint("debug: " + text, Colour.DIM, self._colour)
        # one record, one or more whole lines: never a bare carriage return
        return self._redact(text).replace("\r\n", "\n").replace("\r", "\n")


def configure_logging(
    level: LogLevel | str = LogLevel.INFO,
    stream: TextIO | None = None,
    *,
    secrets: Iterable[str | None] = (),
    colour: bool = False,
) -> logging.Handler:
    """Send the package's log records (``bookstack_sync`` and its children, the client's requests
    included) to ``stream`` (stderr) at ``level``, redacted. Replaces a handler installed earlier by
    this function, so calling it twice (tests, ``main`` run twice in one process) does not double lines."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    for old in list(logger.handlers):
        if getattr(old, "_bookstack_sync", False):
            logger.removeHandler(old)
    redact = Redactor.for_values(secrets)
    # The filter also sits on the loggers that log requests, so a record is redacted when it is made,
    # before any handler sees it (a handler someone else adds to the root logger included).
    for name in (PACKAGE_LOGGER, CLIENT_LOGGER):
        named = logging.getLogger(name)
        for old_filter in list(named.filters):
            if isinstance(old_filter, _RedactingFilter):
                named.removeFilter(old_filter)
        named.addFilter(_RedactingFilter(redact))
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler._bookstack_sync = True  # type: ignore[attr-defined]
    handler.addFilter(_RedactingFilter(redact))
    handler.setFormatter(_Formatter(redact, colour))
    logger.addHandler(handler)
    logger.setLevel(_LEVELS[LogLevel(level)])
    # records still propagate: the root logger has no handler in the CLI (so nothing prints twice),
    # and a test's log capture on the root logger keeps working
    return handler


# --- lines ----------------------------------------------------------------------------------------


def format_header(mode: RunMode, reason: str) -> str:
    """``bookstack-sync 0.1.0 — mode: plan (CI_PIPELINE_EVENT=pull_request)``"""
    return f"bookstack-sync {__version__} — mode: {mode.value} ({reason})"


_STATUS_COLOUR: dict[OutcomeStatus, Colour | None] = {
    OutcomeStatus.CREATED: Colour.GREEN,
    OutcomeStatus.UPDATED: Colour.YELLOW,
    OutcomeStatus.MOVED: Colour.CYAN,
    OutcomeStatus.ADOPTED: Colour.BLUE,
    OutcomeStatus.CLAIMED: Colour.BLUE,
    OutcomeStatus.DELETED: Colour.RED,
    OutcomeStatus.DRIFT: Colour.MAGENTA,
    OutcomeStatus.FAILED: Colour.RED,
    OutcomeStatus.NOT_ATTEMPTED: Colour.RED,
    OutcomeStatus.SKIPPED: Colour.DIM,
    OutcomeStatus.ORPHAN: Colour.YELLOW,
    OutcomeStatus.UNCHANGED: Colour.DIM,
}


def format_progress(done: int, total: int, outcome: Outcome, *, colour: bool = False) -> str:
    """``[120/1000] updated engineering/dev-guide/getting-started/01-prerequisites.md``

    Pages are named by their key alone; shelves, books and chapters say what they are. A failure
    carries its reason; a URL (when known) is printed so the log viewer links it.
    """
    width = len(str(total))
    counter = f"[{done:>{width}}/{total}]"
    action = outcome.action
    what = action.key if action.entity.value == "page" else f"{action.entity.value} {action.key}"
    status = _paint(outcome.status.value, _STATUS_COLOUR[outcome.status], colour)
    line = f"{counter} {status} {what}"
    if outcome.error:
        line += f": {outcome.error}"
    elif action.detail and (outcome.status is OutcomeStatus.MOVED or action.drifted):
        line += f" ({action.detail})"
    return " ".join(line.splitlines())


_PLAN_SYMBOL: dict[ActionKind, tuple[str, Colour | None]] = {
    ActionKind.CREATE: ("+", Colour.GREEN),
    ActionKind.UPDATE: ("~", Colour.YELLOW),
    ActionKind.REORDER: ("~", Colour.YELLOW),
    ActionKind.ADOPT: ("&", Colour.BLUE),
    ActionKind.CLAIM: ("&", Colour.BLUE),
    ActionKind.MOVE: (">", Colour.CYAN),
    ActionKind.DELETE: ("-", Colour.RED),
    ActionKind.DRIFT: ("!", Colour.MAGENTA),
    ActionKind.ORPHAN: ("?", Colour.YELLOW),
    ActionKind.SKIP: ("/", Colour.DIM),
    ActionKind.UNCHANGED: ("=", Colour.DIM),
}


def format_plan(plan: Plan, *, colour: bool = False) -> str:
    """The plan as a careful infrastructure tool prints it: only the books where something changes, one
    line per change, each book's unchanged objects counted on one line, then one ``Plan:`` line::

        engineering/dev-guide
          + create page engineering/dev-guide/getting-started/01-prerequisites.md
          ~ update page engineering/dev-guide/setup.md (content) — edited in BookStack by Ana, revision 3 after our 2; git wins
          > move page engineering/dev-guide/b.md (parent) — from engineering/old to engineering/dev-guide
          = 12 unchanged

        Plan: 1 to create, 1 to update, 1 to move, 0 to delete. (1 unchanged elsewhere)
    """
    lines: list[str] = []
    for group in group_by_book(plan.actions, lambda a: a.key, lambda a: a.kind is ActionKind.UNCHANGED):
        lines.append(_paint(group.book, Colour.BOLD, colour))
        for action in group.items:
            symbol, tint = _PLAN_SYMBOL[action.kind]
            text = f"{action.kind.value} {action.entity.value} {action.key}{action_note(action)}"
            lines.append(f"  {_paint(symbol, tint, colour)} {' '.join(text.splitlines())}")
        if group.unchanged:
            lines.append(_paint(f"  = {group.unchanged} unchanged", Colour.DIM, colour))
        lines.append("")
    for note in plan.notes:
        lines.append(f"note: {note}")
    if plan.notes:
        lines.append("")
    if not any(action.kind.writes or action.drifted or action.kind is ActionKind.ORPHAN for action in plan.actions):
        lines.append("No changes: BookStack already matches the docs.")
    lines.append(plan_sentence(plan.actions))
    return "\n".join(lines)


_EXIT_MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "ok",
    ExitCode.INVALID_DOCS: "the docs are invalid",
    ExitCode.USAGE: "settings or usage error",
    ExitCode.SYNC_FAILED: "BookStack or sync failure",
    ExitCode.INTERNAL: "internal error",
}


def format_summary(result: RunResult, *, colour: bool = False) -> str:
    """The closing lines: what was checked, what changed, how many requests, the exit code."""
    errors, warnings = validation_counts(result)
    lines = [f"Checked {result.pages_checked} pages: {errors} error(s), {warnings} warning(s)."]
    if result.outcomes:
        counts = Counter(o.status for o in result.outcomes)
        parts = [
            _paint(f"{counts[status]} {status.value}", _STATUS_COLOUR[status], colour)
            for status in OutcomeStatus
            if counts[status]
        ]
        lines.append("Applied: " + ", ".join(parts) + ".")
    total = result.requests.get("total")
    seconds = sum(result.timings.values())
    tail = f"{total} request(s) to BookStack, " if isinstance(total, int) and total else ""
    lines.append(f"{tail}{seconds:.1f}s.")
    code = ExitCode(result.exit_code)
    verdict = f"exit {int(code)} ({_EXIT_MEANING[code]})"
    if result.error:
        verdict += f": {result.error}"
    lines.append(_paint(verdict, Colour.GREEN if code is ExitCode.OK else Colour.RED, colour))
    return "\n".join(lines)


# --- the log object -------------------------------------------------------------------------------


class _StampedStream:
    """A text stream that remembers when it was last written to (by the run log or a log record)."""

    def __init__(self, stream: TextIO, clock: Callable[[], float]) -> None:
        self.stream = stream
        self.clock = clock
        self.last_write = clock()

    def write(self, text: str) -> int:
        self.last_write = self.clock()
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())


class RunLog:
    """What a person reads on stderr while the plugin runs. Safe to call from apply's worker threads."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        colour: bool = False,
        level: LogLevel | str = LogLevel.INFO,
        redact: Redactor | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        target = stream if stream is not None else sys.stderr
        self._stream = target if isinstance(target, _StampedStream) else _StampedStream(target, clock)
        self.clock = clock
        self.colour = colour
        self._level = _LEVELS[LogLevel(level)]
        self._redact = redact or Redactor()
        self._lock = threading.Lock()

    @classmethod
    def for_run(
        cls,
        environ: Mapping[str, str],
        *,
        level: LogLevel | str = LogLevel.INFO,
        secrets: Iterable[str | None] = (),
        stream: TextIO | None = None,
    ) -> RunLog:
        """The log of one run: colour decided from ``environ`` and the stream, records of the package
        loggers routed to the same stream, secrets redacted from both."""
        raw = stream if stream is not None else sys.stderr
        colour = use_colour(raw, environ)
        # one stamped stream for our lines and the package's log records, so silence is measured over both
        out = cast(TextIO, _StampedStream(raw, time.monotonic))
        secrets = tuple(secrets)
        configure_logging(level, out, secrets=secrets, colour=colour)
        return cls(out, colour=colour, level=level, redact=Redactor.for_values(secrets))

    @property
    def quiet_for(self) -> float:
        """Seconds since anything was last written to the log."""
        return self.clock() - self._stream.last_write

    def _emit(self, text: str, level: int = logging.INFO) -> None:
        if level < self._level:
            return
        text = self._redact(text).replace("\r\n", "\n").replace("\r", "\n")
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()

    def header(self, mode: RunMode, reason: str) -> None:
        self._emit(_paint(format_header(mode, reason), Colour.BOLD, self.colour))

    def info(self, message: str) -> None:
        self._emit(message)

    def warning(self, message: str) -> None:
        self._emit(f"{_paint('warning:', Colour.YELLOW, self.colour)} {message}", logging.WARNING)

    def error(self, message: str) -> None:
        self._emit(f"{_paint('error:', Colour.RED, self.colour)} {message}", logging.ERROR)

    def plan(self, plan: Plan) -> None:
        self._emit(format_plan(plan, colour=self.colour))

    def progress(self, done: int, total: int, outcome: Outcome) -> None:
        # failures are shown even when only warnings are: they decide the exit code
        level = logging.WARNING if outcome.status is OutcomeStatus.FAILED else logging.INFO
        self._emit(format_progress(done, total, outcome, colour=self.colour), level)

    def summary(self, result: RunResult) -> None:
        level = logging.INFO if result.exit_code == ExitCode.OK else logging.ERROR
        self._emit(format_summary(result, colour=self.colour), level)

    def reports(self, paths: Iterable[str]) -> None:
        for path in paths:
            self._emit(f"wrote {path}")

    def heartbeat(self, activity: Callable[[], ActivitySnapshot]) -> Heartbeat:
        return Heartbeat(self, activity)


class Heartbeat:
    """Says what is going on when the log has been quiet: a CI log that stops moving looks hung.

    After ``quiet`` seconds without a line it names the request BookStack is taking long to answer (or
    says the run is still working); during a wait that was announced (the rate limit, a retry) it
    says how long is left every ``quiet_in_wait`` seconds. Use as a context manager around the
    stages that talk to BookStack.
    """

    def __init__(
        self,
        log: RunLog,
        activity: Callable[[], ActivitySnapshot],
        *,
        quiet: float = 4.0,
        quiet_in_wait: float = 15.0,
        tick: float = 0.25,
    ) -> None:
        self.log = log
        self.activity = activity
        self.quiet = quiet
        self.quiet_in_wait = quiet_in_wait
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self) -> str | None:
        """The line to print now, or None while the log is not quiet for long enough."""
        quiet_for = self.log.quiet_for
        now = self.activity()
        if now.wait is not None:
            if quiet_for < self.quiet_in_wait:
                return None
            return f"… still waiting for {now.wait.reason}: {now.wait_left:.0f} s left"
        if quiet_for < self.quiet:
            return None
        if now.in_flight:
            oldest = now.in_flight[0]
            more = f" (and {len(now.in_flight) - 1} more request(s))" if len(now.in_flight) > 1 else ""
            return (
                f"… waiting for BookStack to answer {oldest.method} {oldest.path}: "
                f"{now.now - oldest.started:.0f} s so far{more}"
            )
        return f"… still working ({quiet_for:.0f} s since the last line)"

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            text = self.line()
            if text is not None:
                self.log.info(text)

    def __enter__(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._run, name="bookstack-sync-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
