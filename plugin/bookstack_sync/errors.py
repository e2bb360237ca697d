"""Exit codes and the exception hierarchy.

Findings about the docs are data (:class:`~bookstack_sync.docs.diagnostics.Diagnostic`); exceptions are only
for stopping a run. Every exception the plugin raises on purpose derives from :class:`BookstackSyncError`
and carries the exit code it maps to, so ``cli.main`` has exactly one error boundary.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What the process exit status means; one meaning each (README and docs.md list them)."""

    OK = 0  # clean, or warnings only
    INVALID_DOCS = 1  # validation errors (or warnings under --strict)
    USAGE = 2  # settings / usage / configuration error
    SYNC_FAILED = 3  # BookStack unreachable or refused, partial apply, drift with on_drift=fail, prune guard
    INTERNAL = 4  # a bug in bookstack-sync


class BookstackSyncError(Exception):
    """Base of every error the plugin raises deliberately.

    ``hint`` is one sentence telling the user what to do about it.
    """

    exit_code: ExitCode = ExitCode.SYNC_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(BookstackSyncError):
    """The command line, the settings or the configuration files are wrong."""

    exit_code = ExitCode.USAGE


class SettingsError(UsageError):
    """One or more settings are missing or malformed; all problems are reported at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid settings:\n  " + "\n  ".join(self.problems))


class SyncError(BookstackSyncError):
    """The sync could not be carried out (partial apply, drift refused, prune guard...)."""

    exit_code = ExitCode.SYNC_FAILED
