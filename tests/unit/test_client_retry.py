"""The retry table, Retry-After, backoff and retry logging (injected sleep: no real waiting)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bookstack_sync.bookstack import (
    AmbiguousWriteError,
    BookStackClient,
    BookStackError,
    FailureKind,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from bookstack_sync.bookstack.retry import parse_retry_after
from tests.unit.test_client_support import SECRET, FakeClock, Reply, ScriptedServer, err, free_port, make_client


def _call(client: BookStackClient, method: str) -> Callable[[], object]:
    return {
        "GET": lambda: client.read("pages", 1),
        "PUT": lambda: client.update("pages", 1, {"name": "x"}),
        "DELETE": lambda: client.delete("pages", 1),
        "POST": lambda: client.create("pages", {"name": "x"}),
    }[method]


RETRIED = {429: {"GET", "PUT", "DELETE", "POST"}, 500: {"GET", "PUT", "DELETE"}, 502: {"GET", "PUT", "DELETE"}}
RETRIED[503] = RETRIED[504] = RETRIED[500]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "POST"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 502, 503, 504])
def test_retry_table(server: ScriptedServer, method: str, status: int) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock)
    body = {"error": {"message": "x", "code": status}}
    if status == 422:
        body["error"]["validation"] = {"name": ["The name field is required."]}
    server.push(Reply(status, body), Reply(200 if method != "DELETE" else 204, {"id": 1}))
    should_retry = method in RETRIED.get(status, set())
    assert RetryPolicy().should_retry_status(method, status) is should_retry
    if should_retry:
        _call(client, method)()
        assert len(server.seen) == 2
        assert len(clock.sleeps) == 1
    else:
        with pytest.raises(BookStackError) as info:
            _call(client, method)()
        assert len(server.seen) == 1
        assert clock.sleeps == []
        if method == "POST" and status >= 500:
            assert isinstance(info.value, AmbiguousWriteError)
            assert "look for the item" in str(info.value)
        assert info.value.exit_code == 3


@pytest.mark.parametrize(
    ("method", "kind", "retried"),
    [
        ("GET", FailureKind.TIMEOUT, True),
        ("PUT", FailureKind.DROPPED, True),
        ("DELETE", FailureKind.TIMEOUT, True),
        ("HEAD", FailureKind.DROPPED, True),
        ("POST", FailureKind.TIMEOUT, False),
        ("POST", FailureKind.DROPPED, False),
        ("POST", FailureKind.CONNECT, True),
        ("GET", FailureKind.CONNECT, True),
        ("GET", FailureKind.TLS, False),
    ],
)
def test_retry_table_for_failures_without_answer(method: str, kind: FailureKind, retried: bool) -> None:
    assert RetryPolicy().should_retry_failure(method, kind) is retried


def test_bookstack_refusal_500_is_not_retried_nor_ambiguous(server: ScriptedServer) -> None:
    # Controller::jsonError answers a failed chapter move with this shape (api §6).
    clock = FakeClock()
    client = make_client(server.url, clock)
    server.push(Reply(500, {"message": "The selected book was not found", "status": "error"}))
    with pytest.raises(ServerError) as info:
        client.update("chapters", 1, {"book_id": 999})
    assert info.value.refused
    assert len(server.seen) == 1
    assert "The selected book was not found" in str(info.value)
    server.push(
        Reply(
            500, {"message": "ZIP import failed with the following errors: \nParent book required", "status": "error"}
        )
    )
    with pytest.raises(ServerError) as info2:
        client.run_import(3)
    assert not isinstance(info2.value, AmbiguousWriteError)


def test_gives_up_after_max_attempts(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock, retry=RetryPolicy(max_attempts=3, jitter=0.0))
    server.default = lambda seen: Reply(503, "<html>Service Unavailable</html>")
    with pytest.raises(ServerError) as info:
        client.read("pages", 1)
    assert len(server.seen) == 3
    assert len(clock.sleeps) == 2
    assert "not BookStack JSON" in str(info.value)
    assert client.stats.total == 3


def test_timeout_get_is_retried_and_post_is_ambiguous(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock, timeout=(2.0, 0.2))
    server.push(Reply(200, {"id": 1}, delay=0.6), Reply(200, {"id": 1}))
    assert client.read("pages", 1) == {"id": 1}
    assert len(clock.sleeps) == 1

    server.push(Reply(200, {"id": 2}, delay=0.6))
    with pytest.raises(AmbiguousWriteError) as info:
        client.create("pages", {"name": "x"})
    assert info.value.kind is FailureKind.TIMEOUT
    assert "`timeout`" in str(info.value)
    assert [s.method for s in server.seen].count("POST") == 1


def test_dropped_connection_get_is_retried_and_post_is_ambiguous(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock)
    server.push(Reply(action="drop"), Reply(200, {"id": 1}))
    assert client.read("pages", 1) == {"id": 1}
    server.push(Reply(action="drop"))
    with pytest.raises(AmbiguousWriteError) as info:
        client.create("pages", {"name": "x"})
    assert info.value.kind is FailureKind.DROPPED
    assert [s.method for s in server.seen].count("POST") == 1


def test_connection_refused_is_retried_for_any_method_then_transport_error() -> None:
    clock = FakeClock()
    client = make_client(f"http://127.0.0.1:{free_port()}", clock, retry=RetryPolicy(max_attempts=3, jitter=0.0))
    with pytest.raises(TransportError) as info:
        client.create("pages", {"name": "x"})
    assert info.value.kind is FailureKind.CONNECT
    assert not isinstance(info.value, AmbiguousWriteError)
    assert "`url`" in str(info.value)
    assert client.stats.total == 3
    assert clock.sleeps == [1.0, 2.0]


def test_delete_that_worked_before_a_5xx_counts_as_deleted(server: ScriptedServer) -> None:
    client = make_client(server.url)
    server.push(
        Reply(502, "<html>Bad Gateway</html>"), Reply(404, {"error": {"message": "Page not found", "code": 404}})
    )
    assert client.delete("pages", 4) is None
    assert len(server.seen) == 2


def test_plain_404_on_delete_still_raises(server: ScriptedServer) -> None:
    client = make_client(server.url)
    server.push(err(404, "Page not found"))
    with pytest.raises(BookStackError):
        client.delete("pages", 4)


# -- 429 and Retry-After ---------------------------------------------------------------------------


def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock)
    server.push(Reply(429, {"error": {"message": "Too Many Attempts.", "code": 429}}, headers={"Retry-After": "57"}))
    client.create("pages", {"name": "x"})  # POST too: a 429 was refused before any work
    assert clock.sleeps == [57.0]
    assert [s.method for s in server.seen] == ["POST", "POST"]


def test_retry_after_is_honoured_through_the_limiter_for_all_threads(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock, rate_limit=180)
    server.push(Reply(429, {"error": {"message": "Too Many Attempts.", "code": 429}}, headers={"Retry-After": "30"}))
    client.read("pages", 1)
    assert sum(clock.sleeps) == pytest.approx(30.0)


def test_retry_after_is_capped(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock, retry=RetryPolicy(retry_after_cap=120.0, jitter=0.0))
    server.push(Reply(429, {"error": {"message": "Too Many Attempts.", "code": 429}}, headers={"Retry-After": "3600"}))
    client.read("pages", 1)
    assert clock.sleeps == [120.0]


def test_429_without_retry_after_backs_off(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock)
    server.push(Reply(429, {"error": {"message": "Too Many Attempts.", "code": 429}}))
    client.read("pages", 1)
    assert clock.sleeps == [1.0]


def test_429_exhausted_is_rate_limited_error(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock)
    server.default = lambda seen: Reply(
        429, {"error": {"message": "Too Many Attempts.", "code": 429}}, headers={"Retry-After": "5"}
    )
    with pytest.raises(RateLimitedError) as info:
        client.read("pages", 1)
    assert len(server.seen) == 5
    assert clock.sleeps == [5.0] * 4
    assert "`rate_limit`" in str(info.value)
    assert info.value.retry_after == 5.0


def test_parse_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("57") == 57.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None
    assert RetryPolicy(jitter=0.0, base_delay=2.0).retry_after("garbage", 1) == 2.0


# -- backoff ---------------------------------------------------------------------------------------


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_backoff_jitter_stays_in_range_and_is_repeatable() -> None:
    a = RetryPolicy(base_delay=1.0, jitter=0.5, rng=random.Random(42))
    b = RetryPolicy(base_delay=1.0, jitter=0.5, rng=random.Random(42))
    waits = [a.backoff(n) for n in range(1, 6)]
    assert waits == [b.backoff(n) for n in range(1, 6)]
    for n, w in enumerate(waits, start=1):
        ceiling = min(30.0, 2.0 ** (n - 1))
        assert ceiling * 0.5 <= w <= ceiling
    # Grows on average: every wait's floor is above the previous ceiling's half.
    assert waits[-1] > waits[0]


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2.0)


def test_backoff_waits_grow_through_the_client(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock, retry=RetryPolicy(base_delay=0.5, jitter=0.0))
    server.push(*[Reply(500, {"error": {"message": "deadlock", "code": 500}})] * 4)
    client.read("pages", 1)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]


# -- logging ---------------------------------------------------------------------------------------


def test_every_retry_is_logged_at_warning(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock)
    server.push(
        Reply(503, {"error": {"message": "down", "code": 503}}),
        Reply(429, {"error": {"message": "Too Many Attempts.", "code": 429}}, headers={"Retry-After": "7"}),
    )
    with caplog.at_level("WARNING", logger="bookstack_sync"):
        client.update("pages", 12, {"name": "x"})
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(lines) == 2
    assert "PUT /api/pages/12" in lines[0] and "attempt 1 of 5" in lines[0] and "1.0 s" in lines[0]
    assert "429" in lines[1] and "attempt 2 of 5" in lines[1] and "7.0 s" in lines[1]
    assert all(SECRET not in line for line in lines)
