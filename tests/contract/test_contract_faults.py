"""The client's failure handling against the fake's injected faults and its auth/rate-limit models.

These need the fake's fault injection or internals, so they skip on a real BookStack (except the
bad-token checks, which work anywhere).
"""

from __future__ import annotations

from typing import Any

import pytest

from bookstack_sync.bookstack import (
    AmbiguousWriteError,
    AuthenticationError,
    BookStackClient,
    FailureKind,
    PermissionDeniedError,
    PermissionProblem,
    RetryPolicy,
    ServerError,
)
from tests.bookstack_target import BookStackTarget

pytestmark = pytest.mark.real_bookstack


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake(bookstack: BookStackTarget) -> Any:
    if not bookstack.is_fake:
        pytest.skip("needs the fake's fault injection")
    return bookstack.fake


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def fclient(bookstack: BookStackTarget, sleep: FakeSleep) -> BookStackClient:
    return bookstack.client(sleep=sleep, retry=RetryPolicy(jitter=0.0), timeout=(2.0, 0.5))


# -- anywhere ----------------------------------------------------------------------------------------


def test_wrong_secret_is_an_authentication_error(bookstack: BookStackTarget) -> None:
    client = BookStackClient(bookstack.url, bookstack.token_id, "wrong-secret-123", rate_limit=0)
    with pytest.raises(AuthenticationError) as info:
        client.read("books", 1)
    assert info.value.status == 401
    assert "`token_secret`" in str(info.value)
    assert "wrong-secret-123" not in str(info.value)


def test_unknown_token_id_is_an_authentication_error(bookstack: BookStackTarget) -> None:
    client = BookStackClient(bookstack.url, "no-such-token-id", "no-such-secret", rate_limit=0)
    with pytest.raises(AuthenticationError) as info:
        list(client.list("books"))
    assert "`token_id`" in str(info.value)


def test_system_is_feature_detection(bookstack: BookStackTarget, client: BookStackClient) -> None:
    info = client.system()
    if info is not None:  # v25.05+
        assert str(info["version"]).startswith("v")
        assert "base_url" in info


# -- fake only ---------------------------------------------------------------------------------------


def test_get_5xx_is_retried(fake: Any, fclient: BookStackClient, sleep: FakeSleep, book: Any) -> None:
    fake.faults.fail_next(n=2, status=503, methods="GET")
    assert fclient.read("books", book["id"])["id"] == book["id"]
    assert sleep.calls == [1.0, 2.0]
    statuses = [r.status for r in fake.requests if r.method == "GET"][-3:]
    assert statuses == [503, 503, 200]


def test_post_5xx_is_not_retried(fake: Any, fclient: BookStackClient, bookstack: BookStackTarget) -> None:
    fake.faults.fail_next(status=500, methods="POST")
    before = len(fake.writes())
    with pytest.raises(AmbiguousWriteError):
        fclient.create("books", {"name": bookstack.unique_name("b")})
    assert len(fake.writes()) == before + 1


def test_post_applied_then_lost_answer_is_ambiguous_and_the_item_exists(
    fake: Any, fclient: BookStackClient, bookstack: BookStackTarget
) -> None:
    name = bookstack.unique_name("lost")
    fake.faults.apply_then_fail_next(status=None, methods="POST")  # the answer is dropped
    with pytest.raises(AmbiguousWriteError) as info:
        fclient.create("books", {"name": name})
    assert info.value.kind is FailureKind.DROPPED
    # "look before creating again": the book is there.
    assert [b["name"] for b in fclient.list("books", filters={"name": name})] == [name]


def test_put_applied_then_500_is_retried_safely(fake: Any, fclient: BookStackClient, book: Any) -> None:
    fake.faults.apply_then_fail_next(status=500, methods="PUT")
    updated = fclient.update("books", book["id"], {"name": book["name"] + "-x"})
    assert updated["name"] == book["name"] + "-x"


def test_delete_applied_then_lost_counts_as_deleted(fake: Any, fclient: BookStackClient, book: Any) -> None:
    fake.faults.apply_then_fail_next(status=502, methods="DELETE")
    fclient.delete("books", book["id"])
    assert [r.status for r in fake.requests if r.method == "DELETE"][-2:] == [502, 404]


def test_429_is_retried_after_retry_after(fake: Any, fclient: BookStackClient, sleep: FakeSleep, book: Any) -> None:
    fake.faults.rate_limit_next(retry_after=7)
    fclient.read("books", book["id"])
    assert sleep.calls == [7.0]


def test_hang_times_out_and_get_is_retried(fake: Any, fclient: BookStackClient, book: Any) -> None:
    fake.faults.hang_next(1.5, methods="GET")
    assert fclient.read("books", book["id"])["id"] == book["id"]


def test_dropped_get_is_retried(fake: Any, fclient: BookStackClient, book: Any) -> None:
    fake.faults.drop_next(methods="GET")
    assert fclient.read("books", book["id"])["id"] == book["id"]


def test_expired_token_is_permission_denied(fake: Any, fclient: BookStackClient) -> None:
    fake.token_expired = True
    with pytest.raises(PermissionDeniedError) as info:
        list(fclient.list("books"))
    assert info.value.reason is PermissionProblem.TOKEN_OR_API_ACCESS
    assert "expired" in str(info.value)


def test_server_rate_limit_headers_slow_the_client_down(bookstack: BookStackTarget) -> None:
    if not bookstack.is_fake:
        pytest.skip("needs a fake with a small rate limit")
    from tests.fake_bookstack import FakeBookStack

    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with FakeBookStack(rate_limit=5, clock=clock) as small:
        client = BookStackClient(
            small.url, small.token_id, small.token_secret, rate_limit=180, clock=clock, sleep=sleep
        )
        for _ in range(12):
            list(client.list("books"))
        assert [r.status for r in small.requests] == [200] * 12  # never a 429: the headers were obeyed
        assert now[0] >= 120.0


def test_fraction_of_failures_on_reads_is_absorbed(fake: Any, bookstack: BookStackTarget, book: Any) -> None:
    client = bookstack.client(sleep=FakeSleep(), retry=RetryPolicy(max_attempts=10, jitter=0.0))
    fake.faults.fail_fraction(0.2, seed=7, methods="GET")
    for _ in range(30):
        assert client.read("books", book["id"])["id"] == book["id"]
    fake.faults.clear()
    assert client.stats.total > 30  # some were retried


def test_refusal_500_shape_is_not_retried(fake: Any, fclient: BookStackClient, book: Any) -> None:
    chapter = fclient.create("chapters", {"book_id": book["id"], "name": "c"})
    with pytest.raises(ServerError) as info:
        fclient.update("chapters", chapter["id"], {"book_id": 999_999})
    assert info.value.refused
    assert [r.status for r in fake.requests if r.method == "PUT"] == [500]
