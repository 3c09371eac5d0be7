"""Bearer API keys: 401 when missing or wrong, 403 when the role does not allow the call.

Use as a dependency: `key: ApiKey = Depends(require(Role.SERVICE))`. It also applies the
per-key rate limit and records the key on the request (for logs: the key id, never the key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from spendgate.api.context import Services
from spendgate.errors import Forbidden, Unauthorized
from spendgate.tenancy import ApiKey, Role

_VERBS = {Role.READ: "read", Role.SERVICE: "reserve, commit, release and ingest",
          Role.ADMIN: "change configuration"}


async def authenticate(request: Request, role: Role) -> ApiKey:
    """The caller's key, rate-limited and checked to hold at least `role` (hot routes call
    this directly: it spares them FastAPI's dependency resolution)."""
    services: Services = request.app.state.services
    secret = _bearer(request)
    cached = services.directory.cached(secret)
    key = cached if cached is not None else await run_in_threadpool(
        services.directory.authenticate, secret)
    request.state.api_key = key
    services.buckets.take(key.key_id)
    if not key.role.allows(role):
        raise Forbidden(
            f"this {key.role.value} key cannot {_VERBS[role]}; use a key with role "
            f"{role.value} or higher", code="insufficient_role")
    return key


def require(role: Role) -> Callable[[Request], Awaitable[ApiKey]]:
    """A dependency that authenticates the caller and checks it holds at least `role`."""

    async def authenticated(request: Request) -> ApiKey:
        return await authenticate(request, role)

    authenticated.__name__ = f"require_{role.value}"
    return authenticated


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("no API key: send 'Authorization: Bearer sk_live_...'",
                           code="missing_api_key")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <API key>'",
                           code="invalid_authorization")
    return secret.strip()


require_admin = require(Role.ADMIN)
require_service = require(Role.SERVICE)
require_read = require(Role.READ)
