"""The one way a command talks to BookStack: a client made from the settings, closed at the end.

Nothing here catches the client's failures: a ``BookStackError`` (a ``BookstackSyncError`` with its hint and
exit code) goes on to ``cli.main``, the one error boundary, which prints the message and the hint and exits
with the error's code. So ``sync``, ``plan``, ``export`` and ``pull`` fail the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..bookstack import BookStackClient
from ..errors import UsageError
from ..settings import Settings

TOKEN_HINT = "set BOOKSTACK_URL / BOOKSTACK_TOKEN_ID / BOOKSTACK_TOKEN_SECRET or pass --url/--token-id/--token-secret"


def require_bookstack(settings: Settings, command: str) -> None:
    """A command that needs BookStack refuses to start without its address and token."""
    if not settings.url or not settings.has_token:
        raise UsageError(f"{command} needs BookStack's `url`, `token_id` and `token_secret`", hint=TOKEN_HINT)


@contextlib.contextmanager
def bookstack_session(
    settings: Settings, *, read_only: bool, requests: dict[str, Any] | None = None
) -> Iterator[BookStackClient]:
    """The client for ``settings``; on the way out, whatever happened, its request counts go into
    ``requests`` (for the report) and its connections are closed."""
    assert settings.url and settings.token_id and settings.token_secret
    client = BookStackClient(
        settings.url,
        settings.token_id,
        settings.token_secret,
        timeout=settings.timeout,
        rate_limit=settings.rate_limit,
        concurrency=settings.concurrency,
        verify=settings.verify,
        read_only=read_only,
    )
    try:
        yield client
    finally:
        if requests is not None:
            requests.update(client.stats.as_dict())
        client.close()
