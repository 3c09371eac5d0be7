"""Group commit: concurrent commands coalesce into one transaction per batch.

Each org always goes to the same worker, so a hot org's requests queue behind one
transaction and are applied together (one row lock, one wallet write, one fsync) while
each still gets its own result. Books stay cached between batches and are reused only
while the org row's version in the database still matches (another process may write).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from spendgate.domain.clock import Clock
from spendgate.domain.hierarchy import Scope
from spendgate.errors import IdempotencyMismatch, SpendgateError, StoreUnavailable
from spendgate.ledger import outcomes
from spendgate.ledger.book import Book, Changes
from spendgate.ledger.commands import Envelope
from spendgate.stores.port import Store
from spendgate.stores.sql import OrgKey, SqlSession

log = logging.getLogger("spendgate.ledger")


@dataclass(frozen=True, slots=True)
class Outcome:
    """A command's result, and whether it is the stored answer to an earlier request."""

    value: Any
    replayed: bool = False


@dataclass(slots=True)
class _Job:
    envelope: Envelope
    future: Future[Outcome]


_STOP = object()


class Committer:
    def __init__(self, store: Store, clock: Clock, *, workers: int = 1, max_batch: int = 512,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.max_batch = max_batch
        self._on_batch = on_batch
        self._queues: list[queue.SimpleQueue[Any]] = [queue.SimpleQueue() for _ in range(workers)]
        self._caches: list[dict[OrgKey, Book]] = [{} for _ in range(workers)]
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True,
                                          name=f"spendgate-committer-{i}")
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, envelope: Envelope) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        key = f"{envelope.scope.tenant}\x00{envelope.scope.env}\x00{envelope.org}".encode()
        self._queues[zlib.crc32(key) % len(self._queues)].put(_Job(envelope, future))
        return future

    def close(self) -> None:
        for q in self._queues:
            q.put(_STOP)
        for t in self._threads:
            t.join(timeout=30)

    def forget(self) -> None:
        """Drop cached books (tests that write behind the engine's back use this)."""
        for cache in self._caches:
            cache.clear()

    # ---- the worker -----------------------------------------------------------------

    def _run(self, index: int) -> None:
        q = self._queues[index]
        while True:
            first = q.get()
            if first is _STOP:
                return
            batch: list[_Job] = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    job = q.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop = True
                    break
                batch.append(job)
            self._apply(index, batch)
            if stop:
                return

    def _apply(self, index: int, batch: list[_Job]) -> None:
        cache = self._caches[index]
        keys = {_key(j.envelope) for j in batch}
        for attempt in range(8):
            try:
                results = self._transaction(cache, batch)
                break
            except BaseException as exc:  # the transaction rolled back
                for key in keys:
                    cache.pop(key, None)
                if self.store.is_retryable(exc) and attempt < 7:
                    time.sleep(0.001 * 2**attempt)
                    continue
                log.exception("ledger transaction failed")
                error = StoreUnavailable(f"the ledger could not write: {exc}")
                for job in batch:
                    job.future.set_exception(error)
                return
        if self._on_batch is not None:
            self._on_batch(len(batch))
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _transaction(self, cache: dict[OrgKey, Book], batch: list[_Job]) -> list[Any]:
        now = self.clock.now_ms()
        with self.store.transaction() as tx:
            keys = [_key(j.envelope) for j in batch]
            versions = tx.lock_orgs(keys)
            books: dict[OrgKey, Book] = {}
            for key in dict.fromkeys(keys):
                cached = cache.get(key)
                if cached is not None and versions.get(key) == cached.version:
                    books[key] = cached
                else:
                    books[key] = tx.load_book(Scope(key[0], key[1]), key[2])
            stored = _prefetch_idempotency(tx, batch)
            idem_rows: list[tuple[Scope, str, str, Any, int]] = []
            results: list[Any] = []
            for job, key in zip(batch, keys, strict=True):
                env = job.envelope
                try:
                    if env.idem is not None:
                        prev = stored.get((env.scope, env.idem.key))
                        if prev is not None:
                            if prev[0] != env.idem.fingerprint:
                                raise IdempotencyMismatch(env.idem.key)
                            results.append(Outcome(outcomes.decode(env.command, prev[1]), True))
                            continue
                    value = outcomes.apply(books[key], tx, env.command, now)
                    if env.idem is not None:
                        encoded = outcomes.encode(env.command, value)
                        stored[(env.scope, env.idem.key)] = (env.idem.fingerprint, encoded)
                        idem_rows.append((env.scope, env.idem.key, env.idem.fingerprint,
                                          encoded, now))
                    results.append(Outcome(value))
                except SpendgateError as exc:
                    results.append(exc)
            for book in books.values():
                if book.changes:
                    tx.write_book(book, now)
            tx.idem_put(idem_rows)
        for key, book in books.items():
            book.changes = Changes()
            # Only open reservations stay cached: settled ones are read back when needed, so
            # a long-running process holds memory for what is in flight, not for history.
            book.reservations = {k: r for k, r in book.reservations.items() if r.open}
            if book.org is not None:
                cache[key] = book
        return results


def _key(envelope: Envelope) -> OrgKey:
    return (envelope.scope.tenant, envelope.scope.env, envelope.org)


def _prefetch_idempotency(tx: SqlSession, batch: list[_Job]) -> dict[tuple[Scope, str],
                                                                       tuple[str, Any]]:
    by_scope: dict[Scope, list[str]] = {}
    for job in batch:
        if job.envelope.idem is not None:
            by_scope.setdefault(job.envelope.scope, []).append(job.envelope.idem.key)
    found: dict[tuple[Scope, str], tuple[str, Any]] = {}
    for scope, keys in by_scope.items():
        for key, value in tx.idem_get(scope, keys).items():
            found[(scope, key)] = value
    return found
