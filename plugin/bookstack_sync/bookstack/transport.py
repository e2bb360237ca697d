"""What travels with every request, and what a failed one means: the base URL as BookStack's API wants it,
the token (an auth object, never printed), no cookies (a session cookie would switch the API to session
auth), and the kind of failure behind a ``requests`` exception.
"""

from __future__ import annotations

import re
from http.cookiejar import Cookie, CookiePolicy
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions

from ..errors import UsageError
from .errors import (
    AuthenticationError,
    AuthFailure,
    FailureKind,
)

_TOKEN_CHARS = re.compile(r"[^\s:]+")


def normalise_base_url(url: str) -> str:
    """``https://host[/prefix]`` from what a user may type: trailing ``/``, ``/api`` or ``/api/``."""
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"`url` must be the http(s) address of BookStack, got {text!r}",
            hint="e.g. url: https://docs.example.com",
        )
    if parts.username or parts.password:
        raise UsageError("`url` must not contain a user name or password", hint="use `token_id`/`token_secret`")
    if parts.query or parts.fragment:
        raise UsageError(f"`url` must not have a query or fragment, got {text!r}", hint="e.g. url: https://host")
    path = parts.path.rstrip("/")
    if path.lower().endswith("/api"):
        path = path[: -len("/api")].rstrip("/")
    return urlunsplit((scheme, parts.netloc.lower(), path, "", ""))


def normalise_chapter_id(value: Any) -> int | None:
    """A page's ``chapter_id`` as "no chapter" = None: BookStack says ``0`` before v25.11 and ``null``
    from v25.11 on. Use this once, wherever page payloads are read."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value or None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value) or None
    raise ValueError(f"unexpected chapter_id {value!r}")


class RefuseAllCookies(CookiePolicy):
    """A BookStack session cookie would switch the API to session auth (``ApiAuthenticate``): keep none."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


class Secret:
    """Holds the token secret with a repr that does not show it (for redaction only)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "***"


class TokenAuth(requests.auth.AuthBase):
    """``Authorization: Token <id>:<secret>`` (``ApiTokenGuard``). As an auth object (not a session header) it is
    dropped by requests on a redirect to another host, and ``~/.netrc`` can't override it."""

    def __init__(self, token_id: str, token_secret: str) -> None:
        self._value = f"Token {token_id}:{token_secret}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "<TokenAuth ***>"


def check_token(token_id: str, token_secret: str) -> None:
    """Decide "no token" and "malformed" before sending, without relying on the server's translated text."""
    if not token_id or not token_secret:
        missing = " and ".join(n for n, v in (("`token_id`", token_id), ("`token_secret`", token_secret)) if not v)
        raise AuthenticationError(
            f"no API token: {missing} is empty",
            hint="set `token_id` and `token_secret` to an API token of a user whose role has 'Access System API'",
            reason=AuthFailure.NO_TOKEN,
        )
    for name, value in (("token_id", token_id), ("token_secret", token_secret)):
        # The guard splits the header on ':' (``ApiTokenGuard``); whitespace would end up in the id or secret.
        if not _TOKEN_CHARS.fullmatch(value):
            raise AuthenticationError(
                f"the API token is malformed: `{name}` contains whitespace or ':'",
                hint=f"copy `{name}` again from BookStack's API token page, without spaces or quotes",
                reason=AuthFailure.MALFORMED,
            )


def failure_kind(exc: requests.RequestException) -> FailureKind | None:
    """Classify a requests failure; None for ones that are not about the transport (bad URL etc.)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return FailureKind.TLS
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return FailureKind.CONNECT
    if isinstance(exc, requests.exceptions.Timeout):
        return FailureKind.TIMEOUT
    if isinstance(exc, requests.exceptions.ProxyError):
        return FailureKind.CONNECT
    if isinstance(exc, requests.exceptions.ConnectionError):
        inner = exc.args[0] if exc.args else None
        if isinstance(inner, urllib3.exceptions.MaxRetryError):
            inner = inner.reason
        if isinstance(inner, urllib3.exceptions.NewConnectionError):
            return FailureKind.CONNECT  # refused / DNS: the request never left
        if isinstance(inner, urllib3.exceptions.ReadTimeoutError):
            return FailureKind.TIMEOUT
        if isinstance(inner, urllib3.exceptions.SSLError):
            return FailureKind.TLS
        return FailureKind.DROPPED
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return FailureKind.DROPPED
    return None


def failure_detail(exc: BaseException) -> str:
    inner: Any = exc.args[0] if exc.args else exc
    if isinstance(inner, urllib3.exceptions.MaxRetryError) and inner.reason is not None:
        inner = inner.reason
    text = str(inner)
    return text if len(text) <= 300 else text[:297] + "..."
