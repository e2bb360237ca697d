"""Error mapping: each HTTP answer becomes the right typed error whose message names the setting to
check, the request, and never the token secret. Bodies are the ones in the v25.02 transcripts."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

import pytest

from bookstack_sync.bookstack import (
    AmbiguousWriteError,
    AuthenticationError,
    AuthFailure,
    BookStackClient,
    BookStackError,
    FailureKind,
    MethodNotAllowedError,
    NotBookStackError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PermissionProblem,
    RateLimitedError,
    ReadOnlyError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
)
from bookstack_sync.errors import ExitCode
from tests.unit.test_client_support import (
    HTML_404,
    SECRET,
    TOKEN_ID,
    FakeClock,
    Reply,
    ScriptedServer,
    err,
    free_port,
    make_client,
)


def _raise(client: BookStackClient, call: Callable[[BookStackClient], object]) -> BookStackError:
    with pytest.raises(BookStackError) as info:
        call(client)
    error = info.value
    assert error.exit_code is ExitCode.SYNC_FAILED
    return error


def _text(error: BaseException) -> str:
    return f"{error} {error!r} {getattr(error, 'hint', '')} {getattr(error, 'server_message', '')}"


# (reply, call, expected type, text that must appear)
CASES: list[tuple[str, Reply, Callable[[BookStackClient], object], type[BookStackError], list[str]]] = [
    (
        "401 wrong secret",
        err(401, "The secret provided for the given used API token is incorrect"),
        lambda c: c.read("books", 1),
        AuthenticationError,
        ["GET /api/books/1 -> 401", "`token_id`", "`token_secret`", "token id or secret is wrong"],
    ),
    (
        "401 unknown id (translated)",
        err(401, "Aucun jeton API correspondant"),
        lambda c: c.read("books", 1),
        AuthenticationError,
        ["`token_id`", "Aucun jeton"],
    ),
    (
        "403 on a read: token or API access",
        err(403, "The owner of the used API token does not have permission to make API calls"),
        lambda c: list(c.list("books")),
        PermissionDeniedError,
        ["GET /api/books -> 403", "Access System API", "`token_id`"],
    ),
    (
        "403 on a write: action not permitted",
        err(403, "You do not have permission to perform the requested action."),
        lambda c: c.create("pages", {"name": "x", "book_id": 1, "markdown": "x"}),
        PermissionDeniedError,
        ["POST /api/pages -> 403", "create/update/delete permission"],
    ),
    (
        "403 on imports: plain-string error",
        Reply(403, {"error": "You do not have permission to perform the requested action."}),
        lambda c: c.upload_import("a.zip", b"PK"),
        PermissionDeniedError,
        ["POST /api/imports -> 403", "content-import"],
    ),
    (
        "404 JSON",
        err(404, "Page not found"),
        lambda c: c.read("pages", 999999),
        NotFoundError,
        ["GET /api/pages/999999 -> 404", "Page not found", "cannot see it"],
    ),
    (
        "404 HTML",
        Reply(404, HTML_404),
        lambda c: list(c.list("books")),
        NotBookStackError,
        ["GET /api/books -> 404", "does not look like a BookStack API", "`url`"],
    ),
    (
        "405",
        Reply(
            405,
            {
                "error": {
                    "message": "The PUT method is not supported for route api/shelves/1/books/1/attach. "
                    "Supported methods: GET, HEAD.",
                    "code": 405,
                }
            },
            headers={"Allow": "GET, HEAD"},
        ),
        lambda c: c.update("shelves", 1, {}),
        MethodNotAllowedError,
        ["PUT /api/shelves/1 -> 405", "Supported methods"],
    ),
    (
        "413 from a proxy",
        Reply(413, "<html>413 Request Entity Too Large</html>"),
        lambda c: c.upload_image(1, "big.png", b"x" * 10),
        PayloadTooLargeError,
        ["POST /api/image-gallery -> 413", "FILE_UPLOAD_SIZE_LIMIT"],
    ),
    (
        "422 fields",
        err(
            422,
            "The given data was invalid.",
            validation={
                "book_id": ["The book id field is required when chapter id is not present."],
                "chapter_id": ["The chapter id field is required when book id is not present."],
            },
        ),
        lambda c: c.create("pages", {"name": "x"}),
        ValidationError,
        ["POST /api/pages -> 422", "book_id: The book id field is required"],
    ),
    (
        "500 crash",
        err(500, "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found"),
        lambda c: c.read("pages", 1),
        ServerError,
        ["GET /api/pages/1 -> 500", "Deadlock", "laravel.log"],
    ),
    (
        "500 refusal shape",
        Reply(500, {"message": "The selected book was not found", "status": "error"}),
        lambda c: c.update("chapters", 1, {"book_id": 9}),
        ServerError,
        ["PUT /api/chapters/1 -> 500", "The selected book was not found", "retrying will not help"],
    ),
    (
        "500 on POST",
        err(500, "Call to a member function on null"),
        lambda c: c.create("pages", {"name": "x"}),
        AmbiguousWriteError,
        ["POST /api/pages -> 500", "look for the item"],
    ),
    (
        "429",
        err(429, "Too Many Attempts."),
        lambda c: c.read("pages", 1),
        RateLimitedError,
        ["GET /api/pages/1 -> 429", "`rate_limit`"],
    ),
    (
        "HTML 200",
        Reply(200, "<html>Login</html>"),
        lambda c: c.read("pages", 1),
        NotBookStackError,
        ["`url`"],
    ),
    (
        "redirect",
        Reply(302, "", headers={"Location": "https://sso.example.com/login"}),
        lambda c: c.read("pages", 1),
        NotBookStackError,
        ["`url`", "https://sso.example.com/login"],
    ),
]


@pytest.mark.parametrize(("reply", "call", "kind", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_type_and_message(
    server: ScriptedServer,
    reply: Reply,
    call: Callable[[BookStackClient], object],
    kind: type[BookStackError],
    needles: list[str],
) -> None:
    server.default = lambda seen: reply
    client = make_client(server.url, retry=RetryPolicy(max_attempts=2, jitter=0.0))
    error = _raise(client, call)
    assert type(error) is kind
    text = _text(error)
    for needle in needles:
        assert needle in text
    assert SECRET not in text


def test_validation_fields(server: ScriptedServer) -> None:
    server.push(err(422, "The given data was invalid.", validation={"name": ["The name field is required."]}))
    error = _raise(make_client(server.url), lambda c: c.create("books", {}))
    assert isinstance(error, ValidationError)
    assert error.fields == {"name": ["The name field is required."]}
    assert error.status == 422


def test_zip_validation_shape_becomes_fields(server: ScriptedServer) -> None:
    server.push(
        Reply(
            422,
            {
                "message": "ZIP upload failed with the following validation errors: \n"
                "[page.name] The name field is required.\n[book.pages.1.id] The id must be unique.",
                "status": "error",
            },
        )
    )
    error = _raise(make_client(server.url), lambda c: c.upload_import("a.zip", b"PK"))
    assert isinstance(error, ValidationError)
    assert error.fields == {
        "page.name": ["The name field is required."],
        "book.pages.1.id": ["The id must be unique."],
    }


def test_permission_reasons(server: ScriptedServer) -> None:
    client = make_client(server.url)

    def reason(call: Callable[[BookStackClient], object]) -> PermissionProblem:
        error = _raise(client, call)
        assert isinstance(error, PermissionDeniedError)
        return error.reason

    server.default = lambda seen: err(403, "denied")
    assert reason(lambda c: c.system()) is PermissionProblem.TOKEN_OR_API_ACCESS
    assert reason(lambda c: c.delete("pages", 1)) is PermissionProblem.ACTION_NOT_PERMITTED
    assert reason(lambda c: list(c.list("recycle-bin"))) is PermissionProblem.ADMIN_ONLY
    server.default = lambda seen: Reply(403, {"error": "You do not have permission to perform the requested action."})
    assert reason(lambda c: c.run_import(1)) is PermissionProblem.IMPORT_NOT_PERMITTED


@pytest.mark.parametrize(
    ("token_id", "secret", "reason", "setting"),
    [
        ("", SECRET, AuthFailure.NO_TOKEN, "`token_id`"),
        (TOKEN_ID, "", AuthFailure.NO_TOKEN, "`token_secret`"),
        ("id with space", SECRET, AuthFailure.MALFORMED, "`token_id`"),
        ("id:colon", SECRET, AuthFailure.MALFORMED, "`token_id`"),
        (TOKEN_ID, SECRET + "\n", AuthFailure.MALFORMED, "`token_secret`"),
    ],
)
def test_no_or_malformed_token_is_decided_before_sending(
    token_id: str, secret: str, reason: AuthFailure, setting: str
) -> None:
    with pytest.raises(AuthenticationError) as info:
        BookStackClient("http://127.0.0.1:9", token_id, secret)
    assert info.value.reason is reason
    assert setting in str(info.value)
    assert SECRET not in str(info.value)


def test_tls_failure_names_ca_cert_and_is_not_retried() -> None:
    # A plain-TCP listener that answers a TLS hello with junk: the handshake fails.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(10)
    port = listener.getsockname()[1]

    def serve_one() -> None:
        # One connection, then the thread ends, before the listener is closed: a thread still in
        # accept() once its file descriptor is reused takes connections meant for a later test's
        # server (seen: the next e2e test's sync got this 400 from its own fake's port).
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        clock = FakeClock()
        client = make_client(f"https://127.0.0.1:{port}", clock)
        error = _raise(client, lambda c: c.read("pages", 1))
        assert isinstance(error, TransportError)
        assert error.kind is FailureKind.TLS
        assert "`ca_cert`" in str(error)
        assert client.stats.total == 1
    finally:
        thread.join(15)
        listener.close()
    assert not thread.is_alive()


def test_read_only_error_is_exit_3() -> None:
    client = BookStackClient("http://127.0.0.1:9", TOKEN_ID, SECRET, read_only=True)
    with pytest.raises(ReadOnlyError) as info:
        client.create("books", {"name": "x"})
    assert info.value.exit_code is ExitCode.SYNC_FAILED
    assert "read-only" in str(info.value)


def test_secret_never_in_logs_or_errors(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    """Every error path, with DEBUG logging on; the server even echoes the secret back."""
    echo = f"Token {TOKEN_ID}:{SECRET} rejected"
    replies = [
        err(401, echo),
        err(403, echo),
        Reply(403, {"error": echo}),
        err(404, echo),
        Reply(404, HTML_404 + SECRET.encode()),
        err(405, echo),
        Reply(413, echo),
        err(422, echo, validation={"name": [echo]}),
        Reply(422, {"message": f"ZIP failed: \n[x] {echo}", "status": "error"}),
        err(429, echo),
        err(500, echo),
        Reply(500, {"message": echo, "status": "error"}),
        Reply(502, echo),
        Reply(302, "", headers={"Location": f"https://x/?t={SECRET}"}),
        Reply(200, echo),
        Reply(action="drop"),
        Reply(200, {"ok": 1}, delay=0.5),
    ]
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        for reply in replies:
            for call in (
                lambda c: c.read("pages", 1),
                lambda c: c.create("pages", {"name": "x"}),
                lambda c: c.upload_import("a.zip", b"PK"),
            ):
                server.default = lambda seen, r=reply: r  # type: ignore[misc]
                client = make_client(server.url, timeout=(1.0, 0.1), retry=RetryPolicy(max_attempts=2, jitter=0.0))
                with pytest.raises(BookStackError) as info:
                    call(client)
                errors.append(info.value)
        refused = make_client(f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(max_attempts=2))
        with pytest.raises(TransportError) as info2:
            refused.read("pages", 1)
        errors.append(info2.value)
    assert len(errors) == len(replies) * 3 + 1
    for error in errors:
        assert SECRET not in _text(error), type(error)
        assert SECRET not in str(error.__cause__ or "")
    for record in caplog.records:
        assert SECRET not in record.getMessage()
    assert any(r.levelname == "WARNING" for r in caplog.records)
