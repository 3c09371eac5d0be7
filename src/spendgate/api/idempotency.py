"""Idempotency-Key for every state-changing call.

Ledger commands carry `Idem(key, fingerprint)` and the engine stores the record in the same
transaction as the effect. Writes outside the ledger (settings, rate cards, and routers added
later) use `idempotent_write`, which does the same over the `idempotency` table: it stores
the first response (status and body) in the transaction of the write, replays it for the same
key and request, and refuses the key with another request (409 idempotency_mismatch).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api.responses import json_response
from spendgate.domain.hierarchy import Scope
from spendgate.errors import IdempotencyMismatch, InvalidRequest
from spendgate.ledger.book import fingerprint
from spendgate.ledger.commands import Idem
from spendgate.stores.port import Store
from spendgate.stores.sql import SqlSession, dumps, loads

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_RETRIES = 8


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters",
                             param=HEADER)
    return key


def request_fingerprint(request: Request, body: Any) -> str:
    """The request an idempotency key stands for: method, path (with query) and body."""
    query = request.url.query
    path = request.url.path + (f"?{query}" if query else "")
    return fingerprint({"method": request.method, "path": path, "body": body})


def ledger_idem(request: Request, body: Any) -> Idem | None:
    key = idempotency_key(request)
    return None if key is None else Idem(key, request_fingerprint(request, body))


@dataclass(frozen=True, slots=True)
class Written:
    status: int
    body: Any
    replayed: bool = False

    def response(self) -> Response:
        return json_response(self.body, self.status, replayed=self.replayed)


Write = Callable[[SqlSession, int], tuple[int, Any]]


async def idempotent_write(request: Request, store: Store, scope: Scope, body: Any,
                           write: Write, now_ms: Callable[[], int]) -> Written:
    """Run `write(tx, now_ms)` -> (status, body) once per Idempotency-Key, atomically."""
    key = idempotency_key(request)
    fp = request_fingerprint(request, body) if key is not None else ""
    return await run_in_threadpool(_run, store, scope, key, fp, write, now_ms)


def _run(store: Store, scope: Scope, key: str | None, fp: str, write: Write,
         now_ms: Callable[[], int]) -> Written:
    for attempt in range(_RETRIES):
        try:
            with store.transaction() as tx:
                if key is not None:
                    row = tx.one("SELECT fingerprint, result FROM idempotency WHERE tenant=? "
                                 "AND env=? AND idem_key=?" + store.dialect.lock_suffix,
                                 (scope.tenant, scope.env, key))
                    if row is not None:
                        if row[0] != fp:
                            raise IdempotencyMismatch(key)
                        stored = loads(row[1])
                        return Written(stored["status"], stored["body"], True)
                now = now_ms()
                status, body = write(tx, now)
                if key is not None:
                    tx.execute("INSERT INTO idempotency (tenant, env, idem_key, fingerprint, "
                               "result, created_ms) VALUES (?,?,?,?,?,?)",
                               (scope.tenant, scope.env, key, fp,
                                dumps({"status": status, "body": body}), now))
                return Written(status, body)
        except Exception as exc:
            # A racing writer (same key, or the same new version number) wins; we re-read.
            if store.is_retryable(exc) and attempt < _RETRIES - 1:
                time.sleep(0.002 * 2**attempt)
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def prune(store: Store, older_than_ms: int) -> int:
    """Forget idempotency records older than the cut-off; returns how many went."""
    with store.transaction() as tx:
        cur = tx.execute("DELETE FROM idempotency WHERE created_ms < ?", (older_than_ms,))
        return int(getattr(cur, "rowcount", 0) or 0)
