"""Typed BookStack failures, and the one place where HTTP answers become exceptions.

Every message names the request (method, path, status), says what to change (which setting) and never
contains the token secret. The shapes are BookStack's (``Handler::renderApiException``, ``ApiTokenGuard``,
``ImportApiController``), as answered by real v25.02 and v26.03 servers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypedDict

from ..errors import BookstackSyncError, ExitCode

__all__ = [
    "AmbiguousWriteError",
    "AuthFailure",
    "AuthenticationError",
    "BookStackError",
    "FailureKind",
    "IncompleteSearchError",
    "MethodNotAllowedError",
    "NotBookStackError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PermissionProblem",
    "RateLimitedError",
    "ReadOnlyError",
    "RequestFacts",
    "ServerError",
    "TransportError",
    "ValidationError",
    "ambiguous_from_server_error",
    "error_for_response",
    "error_for_transport",
    "is_deadlock",
    "not_api_json_error",
    "parse_json_body",
    "redact",
]

_REDACTED = "***"


class RequestFacts(TypedDict):
    """The request an error answers: method, path, HTTP status and BookStack's own message."""

    method: str | None
    path: str | None
    status: int | None
    server_message: str | None


class BookStackError(BookstackSyncError):
    """BookStack (or the way to it) failed or refused; exit code 3 like every sync failure."""

    exit_code = ExitCode.SYNC_FAILED

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.path = path
        self.status = status
        self.server_message = server_message

    def request_facts(self) -> RequestFacts:
        """What this error says of its request, for another error about the same request."""
        return RequestFacts(method=self.method, path=self.path, status=self.status, server_message=self.server_message)


class AuthFailure(Enum):
    """Why the token was not accepted."""

    NO_TOKEN = "no_token"  # decided before sending: token id or secret is empty
    MALFORMED = "malformed"  # decided before sending: the header could not be well formed
    TOKEN_REJECTED = "token_rejected"  # a 401 from BookStack: id unknown or secret wrong (only the text says which)


class AuthenticationError(BookStackError):
    """401: BookStack did not accept the API token."""

    def __init__(self, message: str, *, reason: AuthFailure, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class PermissionProblem(Enum):
    """Why BookStack answered 403, judged from the request that got it."""

    TOKEN_OR_API_ACCESS = "token_or_api_access"  # expired token, or the role lacks "Access System API"
    ACTION_NOT_PERMITTED = "action_not_permitted"  # the role may not do this to this item
    IMPORT_NOT_PERMITTED = "import_not_permitted"  # the role lacks "Import content" (content-import)
    ADMIN_ONLY = "admin_only"  # recycle bin etc.: needs settings-manage + restrictions-manage-all


class PermissionDeniedError(BookStackError):
    """403: the token is valid but may not do this."""

    def __init__(self, message: str, *, reason: PermissionProblem, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class NotFoundError(BookStackError):
    """404 with BookStack's JSON body: the item does not exist or the token's user cannot see it."""


class ValidationError(BookStackError):
    """422: BookStack rejected the input; ``fields`` maps field (or ZIP path) to messages."""

    def __init__(self, message: str, *, fields: Mapping[str, list[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}


class MethodNotAllowedError(BookStackError):
    """405: no such route for this method (BookStack answers unknown write routes this way)."""


class PayloadTooLargeError(BookStackError):
    """413: the body is larger than PHP or the web server accepts."""


class RateLimitedError(BookStackError):
    """429 after every retry was spent."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(BookStackError):
    """5xx. ``refused`` is True for BookStack's ``{"message", "status": "error"}`` answers, which are
    deliberate refusals (failed move, failed import run), not crashes; retrying them does not help."""

    def __init__(self, message: str, *, refused: bool = False, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.refused = refused


class NotBookStackError(BookStackError):
    """The answer is not BookStack API JSON (an HTML page, a redirect, something else)."""


class IncompleteSearchError(BookStackError):
    """A search whose hits could not all be read: BookStack counted more than its pages brought, and the
    query gives no tag to read them by in smaller parts. Nothing may be planned on part of them."""

    def __init__(self, query: str, found: int, total: int) -> None:
        super().__init__(
            f"GET /api/search: BookStack counted {total} hit(s) of {query!r} but its pages brought {found} "
            "different ones (it pages an unordered search), and the query could not be read in smaller parts",
            hint="run again; if it persists, report it with BookStack's version",
            method="GET",
            path="/api/search",
            status=200,
        )
        self.query = query
        self.found = found
        self.total = total


class FailureKind(Enum):
    """How a request failed without an HTTP answer."""

    CONNECT = "connect"  # never reached the server (refused, DNS, connect timeout): nothing was sent
    TIMEOUT = "timeout"  # sent, but no answer in time
    DROPPED = "dropped"  # sent, connection closed before a full answer
    TLS = "tls"  # certificate or handshake failure


class TransportError(BookStackError):
    """No usable HTTP answer: timeout, refused or dropped connection, TLS failure."""

    def __init__(self, message: str, *, kind: FailureKind, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind


class ReadOnlyError(BookStackError):
    """A write was attempted on a read-only (dry-run) client; nothing was sent."""


class AmbiguousWriteError(BookStackError):
    """A POST failed without a clear answer (timeout, dropped connection, 5xx): it may or may not have
    been applied. Look for the item before creating it again."""

    def __init__(self, message: str, *, kind: FailureKind | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind


# --------------------------------------------------------------------------------------------------


def redact(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced."""
    if secret and secret in text:
        return text.replace(secret, _REDACTED)
    return text


def parse_json_body(body: bytes, content_type: str) -> Any | None:
    """The decoded JSON body, or None when it is not JSON (HTML page, empty, garbage)."""
    if not body.strip():
        return None
    if "html" in content_type.lower():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _server_message(data: Any) -> str | None:
    """BookStack's message from either error shape (``Handler::renderApiException``), or the imports' plain-string ``error``."""
    if not isinstance(data, Mapping):
        return None
    err = data.get("error")
    if isinstance(err, Mapping) and isinstance(err.get("message"), str):
        return str(err["message"])
    if isinstance(err, str):
        return err
    if isinstance(data.get("message"), str):
        return str(data["message"])
    return None


def _is_status_error_shape(data: Any) -> bool:
    # Controller::jsonError: {"message": "...", "status": "error"} (failed moves, ZIP import errors)
    return isinstance(data, Mapping) and data.get("status") == "error" and isinstance(data.get("message"), str)


_ZIP_LINE = re.compile(r"^\[(?P<key>[^\]]+)\]\s*(?P<msg>.*)$")


def _validation_fields(data: Any) -> dict[str, list[str]]:
    if not isinstance(data, Mapping):
        return {}
    err = data.get("error")
    if isinstance(err, Mapping) and isinstance(err.get("validation"), Mapping):
        out: dict[str, list[str]] = {}
        for key, msgs in err["validation"].items():
            if isinstance(msgs, list):
                out[str(key)] = [str(m) for m in msgs]
            else:
                out[str(key)] = [str(msgs)]
        return out
    if _is_status_error_shape(data):
        # ZIP import: one "[dotted.path] message" per line after a header line (``ImportApiController``)
        fields: dict[str, list[str]] = {}
        for line in str(data["message"]).splitlines():
            match = _ZIP_LINE.match(line.strip())
            if match:
                fields.setdefault(match["key"], []).append(match["msg"])
        return fields
    return {}


def _describe(method: str, path: str, status: int | None) -> str:
    return f"{method} {path} -> {status}" if status is not None else f"{method} {path}"


def _entity_kind(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        return parts[1]
    return parts[0] if parts else ""


def _permission_problem(method: str, path: str, data: Any) -> PermissionProblem:
    kind = _entity_kind(path)
    if kind == "imports" and isinstance(data, Mapping) and isinstance(data.get("error"), str):
        # ImportApiController answers a missing content-import permission with {"error": "..."}
        return PermissionProblem.IMPORT_NOT_PERMITTED
    if kind == "imports":
        return PermissionProblem.IMPORT_NOT_PERMITTED
    if kind in ("recycle-bin", "audit-log", "users", "roles"):
        return PermissionProblem.ADMIN_ONLY
    if method in ("GET", "HEAD"):
        # Reads of items the user may not see answer 404, not 403, so a 403 on a read comes from
        # the token guard: expired token or no "Access System API" (``ApiTokenGuard``).
        return PermissionProblem.TOKEN_OR_API_ACCESS
    return PermissionProblem.ACTION_NOT_PERMITTED


_PERMISSION_HINTS = {
    PermissionProblem.TOKEN_OR_API_ACCESS: (
        "the API token has expired, or its user's role lacks the 'Access System API' permission: "
        "renew the token (`token_id`/`token_secret`) or grant the role API access"
    ),
    PermissionProblem.ACTION_NOT_PERMITTED: (
        "the token's user may not do this to this item: give its role the create/update/delete "
        "permission for this content type (or on the item); if every call fails, the token may have "
        "expired or lack 'Access System API'"
    ),
    PermissionProblem.IMPORT_NOT_PERMITTED: (
        "the token's role lacks the 'Import content' (content-import) permission needed for ZIP imports"
    ),
    PermissionProblem.ADMIN_ONLY: (
        "this endpoint needs admin-level role permissions (settings-manage and restrictions-manage-all)"
    ),
}


def error_for_response(
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str,
) -> BookStackError:
    """Map a non-success HTTP answer to a typed error. ``path`` has no query string."""
    content_type = headers.get("Content-Type", "") or ""
    data = parse_json_body(body, content_type)
    server_msg = _server_message(data)
    if server_msg is not None:
        server_msg = redact(server_msg, secret)
    where = _describe(method, path, status)
    said = f': BookStack said "{server_msg}"' if server_msg else ""
    common: dict[str, Any] = {"method": method, "path": path, "status": status, "server_message": server_msg}

    if 300 <= status < 400:
        location = redact(headers.get("Location", "") or "?", secret)
        return NotBookStackError(
            f"{where}: the API answered with a redirect to {location}",
            hint="set `url` to the final address of BookStack (scheme, host and any path prefix)",
            **common,
        )
    if status == 413:
        return PayloadTooLargeError(
            f"{where}: the request body is too large for the server{said}",
            hint="raise FILE_UPLOAD_SIZE_LIMIT / PHP post_max_size / the proxy's body limit, or send a smaller file",
            **common,
        )
    if status == 429:
        retry_after = headers.get("Retry-After")
        try:
            wait = float(retry_after) if retry_after is not None else None
        except ValueError:
            wait = None
        return RateLimitedError(
            f"{where}: BookStack's rate limit was still exceeded after every retry{said}",
            hint="lower `rate_limit` (requests per minute) below the server's API_REQUESTS_PER_MIN, "
            "or raise that server setting; all clients from one IP share its budget",
            retry_after=wait,
            **common,
        )
    if status >= 500:
        if _is_status_error_shape(data):
            return ServerError(
                f"{where}: BookStack refused the operation{said}",
                hint="the target or the content is not acceptable (missing parent, permissions, bad import); "
                "this is not a crash and retrying will not help",
                refused=True,
                **common,
            )
        body_note = said if data is not None else " (the body was not BookStack JSON: a proxy or a down server)"
        return ServerError(
            f"{where}: BookStack failed with a server error{body_note}",
            hint="check BookStack's logs (storage/logs/laravel.log) and that it is up; try again later",
            **common,
        )
    if data is None or not isinstance(data, Mapping):
        # BookStack answers every /api/ error with JSON, except a GET to an unknown path, which gets the
        # HTML 404 page (an unknown /api/ route). Anything else non-JSON is not BookStack's API.
        return NotBookStackError(
            f"{where}: the answer is not BookStack API JSON ({content_type or 'no content type'}); "
            "this URL does not look like a BookStack API",
            hint="check `url`: it must be BookStack's base address (the API lives under /api/), "
            "and the BookStack version must have this endpoint",
            **common,
        )
    if status == 401:
        return AuthenticationError(
            f"{where}: BookStack did not accept the API token: the token id or secret is wrong{said}",
            hint="check `token_id` and `token_secret` (and that the user's email is confirmed); if they are "
            "right, check that a proxy in front of BookStack passes the Authorization header on",
            reason=AuthFailure.TOKEN_REJECTED,
            **common,
        )
    if status == 403:
        problem = _permission_problem(method, path, data)
        return PermissionDeniedError(
            f"{where}: permission denied{said}",
            hint=_PERMISSION_HINTS[problem],
            reason=problem,
            **common,
        )
    if status == 404:
        return NotFoundError(
            f"{where}: not found{said}",
            hint="the item does not exist, is in the recycle bin, or the token's user cannot see it",
            **common,
        )
    if status == 405:
        return MethodNotAllowedError(
            f"{where}: BookStack has no such endpoint for this method{said}",
            hint="this BookStack version does not support this call; check `url` and the BookStack version",
            **common,
        )
    if status == 422:
        fields = _validation_fields(data)
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        text = f"{where}: BookStack rejected the input"
        text += f" ({detail})" if detail else said
        return ValidationError(
            redact(text, secret),
            hint="fix the named fields in the docs or front matter",
            fields=fields,
            **common,
        )
    return BookStackError(
        f"{where}: unexpected answer from BookStack{said}",
        hint="check `url` and the BookStack version",
        **common,
    )


_TRANSPORT_HINTS = {
    FailureKind.CONNECT: "check `url` (host, port, scheme) and that BookStack is up and reachable from here",
    FailureKind.TIMEOUT: "BookStack is slow or unreachable: raise `timeout`, or check the server's load",
    FailureKind.DROPPED: "the connection was closed mid-request: check the proxy and BookStack's logs",
    FailureKind.TLS: "the TLS certificate was not accepted: set `ca_cert` to the CA bundle that signed it "
    "(or, only for testing, `insecure`)",
}


def error_for_transport(
    method: str,
    path: str,
    kind: FailureKind,
    detail: str,
    *,
    secret: str,
    ambiguous: bool,
) -> BookStackError:
    """Map a failure without an HTTP answer. ``ambiguous`` marks a POST that may have been applied."""
    detail = redact(detail, secret)
    where = _describe(method, path, None)
    if ambiguous:
        return AmbiguousWriteError(
            f"{where}: no clear answer ({kind.value}: {detail}); the write may or may not have been applied",
            hint="look for the item in BookStack before creating it again; " + _TRANSPORT_HINTS[kind],
            method=method,
            path=path,
            kind=kind,
        )
    return TransportError(
        f"{where}: {kind.value} error: {detail}",
        hint=_TRANSPORT_HINTS[kind],
        method=method,
        path=path,
        kind=kind,
    )


def ambiguous_from_server_error(error: BookStackError) -> AmbiguousWriteError:
    """A POST answered with a (non-refusal) 5xx may have been partly applied (e.g. a page create whose
    publish step failed leaves a draft)."""
    return AmbiguousWriteError(
        f"{error.message}; the write may or may not have been applied",
        hint="look for the item in BookStack (drafts included) before creating it again; " + (error.hint or ""),
        **error.request_facts(),
    )


def is_deadlock(error: BookStackError) -> bool:
    """A 500 whose message is MariaDB's deadlock (``SQLSTATE[40001]``, error 1213): the transaction was
    rolled back whole, so nothing of the request happened (seen on real v25.02 and v26.03 servers)."""
    said = error.server_message or ""
    return "SQLSTATE[40001]" in said or "1213 Deadlock" in said


def is_joint_permissions(error: BookStackError) -> bool:
    """A 500 from BookStack's permission rebuild (``joint_permissions`` "Duplicate entry", BookStack issue
    #4838): two writes in one book at the same moment. The object was stored, but may be left without
    permission rows, invisible to every API call until an admin regenerates the permissions."""
    return error.status == 500 and "joint_permissions" in (error.server_message or "")


def not_api_json_error(method: str, path: str, status: int, content_type: str) -> NotBookStackError:
    """A success status whose body is not the JSON the endpoint always returns."""
    return NotBookStackError(
        f"{_describe(method, path, status)}: expected BookStack API JSON, "
        f"got {content_type or 'no content type'}; this URL does not look like a BookStack API",
        hint="check `url`: it must be BookStack's base address (the API lives under /api/)",
        method=method,
        path=path,
        status=status,
    )
