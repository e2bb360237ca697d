"""Talking to BookStack: the API client, its retry policy, rate limiter, statistics and errors."""

from __future__ import annotations

from .client import KINDS, BookStackClient
from .errors import (
    AmbiguousWriteError,
    AuthenticationError,
    AuthFailure,
    BookStackError,
    FailureKind,
    IncompleteSearchError,
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
from .ratelimit import RateLimiter
from .retry import RetryPolicy
from .stats import RequestStats
from .transport import normalise_base_url, normalise_chapter_id

__all__ = [
    "KINDS",
    "AmbiguousWriteError",
    "AuthFailure",
    "AuthenticationError",
    "BookStackClient",
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
