"""The one table from domain errors to HTTP statuses, and the error object every failure uses.

    {"error": {"type": "...", "code": "...", "message": "...", "param": "..." | null}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from spendgate.api.responses import json_response
from spendgate.errors import (
    Conflict,
    Forbidden,
    IdempotencyMismatch,
    InvalidAmount,
    InvalidRequest,
    InvalidUsage,
    NotFound,
    RateLimited,
    SpendgateError,
    StoreUnavailable,
    Unauthorized,
)

log = logging.getLogger("spendgate.api")

# The only place statuses of domain errors appear. Looked up along the class's MRO, so a
# subclass (e.g. InvalidRateCard) inherits its parent's status unless listed itself.
STATUS: dict[type[SpendgateError], int] = {
    InvalidRequest: 400,
    InvalidAmount: 422,
    InvalidUsage: 422,
    NotFound: 404,
    Conflict: 409,
    IdempotencyMismatch: 409,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
    StoreUnavailable: 503,
    SpendgateError: 500,
}

# Statuses Starlette raises itself (unknown route, wrong method...), in our vocabulary.
_HTTP_TYPES = {
    400: ("invalid_request", "invalid_request"),
    401: ("unauthorized", "invalid_api_key"),
    403: ("forbidden", "insufficient_role"),
    404: ("not_found", "route_missing"),
    405: ("invalid_request", "method_not_allowed"),
    409: ("conflict", "conflict"),
    413: ("invalid_request", "body_too_large"),
    415: ("invalid_request", "unsupported_media_type"),
    429: ("rate_limited", "rate_limited"),
}


def status_of(exc: SpendgateError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(type_: str, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "code": code, "message": message, "param": param}}


def error_response(exc: SpendgateError) -> Response:
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    return json_response(error_body(exc.type, exc.code, exc.message, exc.param),
                         status_of(exc), headers)


def internal_error_response() -> Response:
    return json_response(error_body(
        "internal", "internal_error",
        "something went wrong on our side; the request changed nothing and can be retried "
        "with the same Idempotency-Key"), 500)


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SpendgateError)
    if isinstance(exc, StoreUnavailable):
        log.error("store unavailable: %s", exc.message)
    return error_response(exc)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    param = ".".join(loc) or None
    message = f"{param}: {first.get('msg', 'is invalid')}" if param else str(
        first.get("msg", "the request is invalid"))
    return json_response(error_body("invalid_request", "invalid_request", message, param), 400)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    type_, code = _HTTP_TYPES.get(exc.status_code, ("invalid_request", "invalid_request"))
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}; see /openapi.json"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /openapi.json"
    else:
        message = str(exc.detail)
    status = exc.status_code if exc.status_code in _HTTP_TYPES else 400
    return json_response(error_body(type_, code, message), status, dict(exc.headers or {}))


def install(app: FastAPI) -> None:
    app.add_exception_handler(SpendgateError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
