"""The Python client: Gate / AsyncGate over HTTP, EmbeddedGate with the engine in process.

All gates offer the same typed methods and return the same values; `gate.reserve(...)`
returns a Hold to use as a context manager (commit inside; an exception or leaving without
a commit releases it).
"""

from __future__ import annotations

from spendgate.client.embedded import AsyncEmbeddedGate, EmbeddedGate
from spendgate.client.errors import (
    AuthenticationError,
    ClientError,
    ConflictError,
    ConnectionFailed,
    IdempotencyMismatchError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SpendgateAPIError,
)
from spendgate.client.hold import AsyncHold, Hold, PendingHold
from spendgate.client.http import AsyncGate, Gate
from spendgate.client.resources import (
    Balance,
    Denial,
    Grant,
    Limit,
    LimitStatus,
    Node,
    Page,
    Quote,
    QuoteLine,
    RateCard,
    RateCardVersion,
    Reservation,
    ReservationItem,
    Settings,
    UsageIngest,
    UsageReport,
)
from spendgate.client.retry import RetryPolicy

__all__ = [
    "AsyncEmbeddedGate",
    "AsyncGate",
    "AsyncHold",
    "AuthenticationError",
    "Balance",
    "ClientError",
    "ConflictError",
    "ConnectionFailed",
    "Denial",
    "EmbeddedGate",
    "Gate",
    "Grant",
    "Hold",
    "IdempotencyMismatchError",
    "InternalServerError",
    "InvalidRequestError",
    "Limit",
    "LimitStatus",
    "Node",
    "NotFoundError",
    "Page",
    "PendingHold",
    "PermissionDeniedError",
    "Quote",
    "QuoteLine",
    "RateCard",
    "RateCardVersion",
    "RateLimitedError",
    "Reservation",
    "ReservationItem",
    "RetryPolicy",
    "Settings",
    "SpendgateAPIError",
    "UsageIngest",
    "UsageReport",
]
