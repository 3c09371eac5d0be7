"""The outermost layer of the app: request ids, timing, metrics, the access log, and 500s.

A pure ASGI middleware (no per-request task or body buffering), so the floor it adds to
every call stays in the microseconds.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spendgate.api.errors import internal_error_response
from spendgate.api.logging import request_id_var
from spendgate.api.metrics import Metrics

log = logging.getLogger("spendgate.api")
access = logging.getLogger("spendgate.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Request ids: a random per-process prefix and a counter. Unique across processes and cheap
# (reading the OS's randomness on every request costs more than the rest of a probe).
_PREFIX = secrets.token_hex(8)
_COUNTER = itertools.count(1)


class RequestMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_id(scope) or f"req_{_PREFIX}{next(_COUNTER):012x}"
        token = request_id_var.set(request_id)
        header = (b"x-request-id", request_id.encode())
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"method": scope["method"],
                                                    "path": scope["path"]})
            if not response_started:
                await internal_error_response()(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            self.metrics.observe_request(scope["method"], route, status, elapsed)
            if access.isEnabledFor(logging.INFO):
                key = scope.get("state", {}).get("api_key")
                extra: dict[str, Any] = {
                    "method": scope["method"], "path": scope["path"], "route": route,
                    "status": status, "duration_ms": round(elapsed * 1000, 3),
                }
                if key is not None:
                    extra.update(tenant=key.tenant, env=key.env, key_id=key.key_id)
                access.info("request", extra=extra)
            request_id_var.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
