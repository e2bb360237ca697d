"""Talking to BookStack: the API client, its retry policy, rate limiter, statistics and errors."""

from __future__ import annotations

from bookstack_sync.bookstack.client import (
    KINDS,
    BookStackClient,
    normalise_base_url,
    normalise_chapter_id,
)
from bookstack_sync.bookstack.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    AuthFailure,
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
    ServerError,
    TransportError,
    ValidationError,
)
from bookstack_sync.bookstack.ratelimit import RateLimiter
from bookstack_sync.bookstack.retry import RetryPolicy
from bookstack_sync.bookstack.stats import RequestStats

__all__ = [
    "KINDS",
    "AmbiguousWriteError",
    "AuthFailure",
    "AuthenticationError",
    "BookStackClient",
    "BookStackError",
    "FailureKind",
    "MethodNotAllowedError",
    "NotBookStackError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PermissionProblem",
    "RateLimitedError",
    "RateLimiter",
    "ReadOnlyError",
    "RequestStats",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "ValidationError",
    "normalise_base_url",
    "normalise_chapter_id",
]
