"""Errors the client raises: the API's error object as exceptions, one class per `type`.

    SpendgateError                         (spendgate.errors)
    └── ClientError                        anything this client raises on purpose
        ├── SpendgateAPIError              the server answered with an error object
        │   ├── InvalidRequestError        invalid_request        400/422
        │   ├── AuthenticationError        unauthorized           401
        │   ├── PermissionDeniedError      forbidden              403
        │   ├── NotFoundError              not_found              404
        │   ├── ConflictError              conflict               409
        │   │   └── IdempotencyMismatchError   idempotency_mismatch   409
        │   ├── RateLimitedError           rate_limited           429 (retry_after_s)
        │   └── InternalServerError        internal               5xx
        └── ConnectionFailed               no answer (refused, reset, timed out)

A refusal to fund work is not an error: a denied reservation is a normal result.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from spendgate.errors import SpendgateError


class ClientError(SpendgateError):
    """Root of what the client raises on purpose."""

    type = "client_error"
    code = "client_error"


class SpendgateAPIError(ClientError):
    """The server answered with a non-2xx status and an error object."""

    type = "internal"
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        status: int = 500,
        request_id: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code)
        if type is not None:
            self.type = type
        self.status = status
        self.request_id = request_id
        self.body: Mapping[str, Any] = body or {}

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        return f"{self.status} {self.type}/{self.code}: {self.message}{where}"


class InvalidRequestError(SpendgateAPIError):
    type = "invalid_request"
    code = "invalid_request"


class AuthenticationError(SpendgateAPIError):
    type = "unauthorized"
    code = "invalid_api_key"


class PermissionDeniedError(SpendgateAPIError):
    type = "forbidden"
    code = "insufficient_role"


class NotFoundError(SpendgateAPIError):
    type = "not_found"
    code = "resource_missing"


class ConflictError(SpendgateAPIError):
    type = "conflict"
    code = "conflict"


class IdempotencyMismatchError(ConflictError):
    type = "idempotency_mismatch"
    code = "idempotency_key_reused"


class RateLimitedError(SpendgateAPIError):
    type = "rate_limited"
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: Decimal | None = None,
                 **fields: Any) -> None:
        super().__init__(message, **fields)
        self.retry_after_s = retry_after_s


class InternalServerError(SpendgateAPIError):
    type = "internal"
    code = "internal_error"


class ConnectionFailed(ClientError):
    """No answer from the server: refused, reset, or timed out. The call may or may not
    have taken effect; retrying with the same Idempotency-Key is safe."""

    type = "connection_failed"
    code = "connection_failed"


ERROR_TYPES: Mapping[str, type[SpendgateAPIError]] = {
    "invalid_request": InvalidRequestError,
    "unauthorized": AuthenticationError,
    "forbidden": PermissionDeniedError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "idempotency_mismatch": IdempotencyMismatchError,
    "rate_limited": RateLimitedError,
    "internal": InternalServerError,
}

_BY_STATUS: Mapping[int, type[SpendgateAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitedError,
}


def parse_retry_after(value: str | None) -> Decimal | None:
    """`Retry-After` in seconds (the API sends delta-seconds); None if absent or unreadable."""
    if value is None:
        return None
    try:
        seconds = Decimal(value.strip())
    except InvalidOperation:
        return None  # an HTTP date: fall back to the client's own backoff
    if not seconds.is_finite() or seconds < 0:
        return None
    return seconds


def error_from_response(status: int, body: object, headers: Mapping[str, str]) -> SpendgateAPIError:
    """Build the exception for an error answer, whatever shape its body has."""
    error: Mapping[str, Any] = {}
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        error = body["error"]
    etype = error.get("type")
    cls = ERROR_TYPES.get(etype) if isinstance(etype, str) else None
    if cls is None:
        cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else SpendgateAPIError)
    message = str(error.get("message") or f"HTTP {status}")
    fields: dict[str, Any] = {
        "type": etype if isinstance(etype, str) else None,
        "code": error.get("code") if isinstance(error.get("code"), str) else None,
        "param": error.get("param") if isinstance(error.get("param"), str) else None,
        "status": status,
        "request_id": headers.get("x-request-id"),
        "body": body if isinstance(body, Mapping) else None,
    }
    if cls is RateLimitedError:
        return RateLimitedError(message, retry_after_s=parse_retry_after(
            headers.get("retry-after")), **fields)
    return cls(message, **fields)


def error_from_domain(exc: SpendgateError, status: int) -> SpendgateAPIError:
    """The same exception an HTTP call would raise, for an error raised in-process."""
    return error_from_response(
        status,
        {"error": {"type": exc.type, "code": exc.code, "message": exc.message,
                   "param": exc.param}},
        {},
    )


__all__ = [
    "ERROR_TYPES",
    "AuthenticationError",
    "ClientError",
    "ConflictError",
    "ConnectionFailed",
    "IdempotencyMismatchError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "SpendgateAPIError",
    "error_from_domain",
    "error_from_response",
    "parse_retry_after",
]
