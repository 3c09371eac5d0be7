"""Every error Spendgate raises on purpose.

    SpendgateError
    ├── InvalidRequest                 bad input; nothing changed           (400/422)
    │   ├── InvalidAmount              an amount or quantity is not exact/in range
    │   └── InvalidUsage               a usage object cannot be priced
    ├── NotFound                       no such resource in this tenant+env  (404)
    ├── Conflict                       the resource is in the wrong state    (409)
    │   └── IdempotencyMismatch        key reused with a different request  (409)
    ├── Unauthorized / Forbidden       authentication / role                 (401/403)
    ├── RateLimited                    too many requests; retry later        (429)
    └── StoreUnavailable               the database cannot be reached        (503)

Refusing to fund work is not an error: it is a Decision the caller reads.
Domain errors know no HTTP; api/errors.py maps them to statuses in one table.
"""

from __future__ import annotations


class SpendgateError(Exception):
    """Root of every error we raise on purpose."""

    type = "internal"
    code = "internal_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class InvalidRequest(SpendgateError):
    type = "invalid_request"
    code = "invalid_request"


class InvalidAmount(InvalidRequest):
    code = "invalid_amount"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}", param=field)
        self.field = field


class InvalidUsage(InvalidRequest):
    code = "invalid_usage"


class NotFound(SpendgateError):
    type = "not_found"
    code = "resource_missing"

    def __init__(self, kind: str, ident: str, *, param: str | None = None) -> None:
        super().__init__(f"no such {kind}: {ident}", param=param)
        self.kind = kind
        self.ident = ident


class Conflict(SpendgateError):
    type = "conflict"
    code = "conflict"


class IdempotencyMismatch(Conflict):
    type = "idempotency_mismatch"
    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used with a different request; "
            "use a new key for a new request"
        )
        self.key = key


class Unauthorized(SpendgateError):
    type = "unauthorized"
    code = "invalid_api_key"


class Forbidden(SpendgateError):
    type = "forbidden"
    code = "insufficient_role"


class RateLimited(SpendgateError):
    type = "rate_limited"
    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class StoreUnavailable(SpendgateError):
    type = "internal"
    code = "store_unavailable"


__all__ = [
    "Conflict",
    "Forbidden",
    "IdempotencyMismatch",
    "InvalidAmount",
    "InvalidRequest",
    "InvalidUsage",
    "NotFound",
    "RateLimited",
    "SpendgateError",
    "StoreUnavailable",
    "Unauthorized",
]
