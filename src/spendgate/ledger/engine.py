"""The ledger engine: reserve / commit / release / expire over a Store, plus reads.

Writes go through the group committer; reads use their own snapshot. Reads of an org whose
holds are overdue first expire them, so a balance is never stale.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from spendgate.domain.clock import Clock, SystemClock
from spendgate.domain.hierarchy import Node, NodePath, Scope
from spendgate.domain.limits import Limit, window_start
from spendgate.domain.reservations import Reservation
from spendgate.domain.wallet import Balance, Grant
from spendgate.errors import NotFound
from spendgate.ledger.book import Book
from spendgate.ledger.commands import (
    AddGrant,
    Command,
    Commit,
    Envelope,
    ExpireDue,
    Idem,
    PutLimit,
    RecordUsage,
    Release,
    Reserve,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.ledger.committer import Committer, Outcome
from spendgate.ledger.verify import Problem, verify_org
from spendgate.stores.port import Store


@dataclass(frozen=True, slots=True)
class LimitStatus:
    limit: Limit
    used: int
    held: int
    remaining: int
    window_start_ms: int


class Ledger:
    """The engine. One per process; thread-safe; `close()` when done."""

    def __init__(self, store: Store, clock: Clock | None = None, *, workers: int | None = None,
                 max_batch: int = 512) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        if workers is None:
            workers = 1 if store.dialect.name == "sqlite" else 4
        self.committer = Committer(store, self.clock, workers=workers, max_batch=max_batch)
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()

    # ---- writes ---------------------------------------------------------------------

    def submit(self, scope: Scope, command: Command, idem: Idem | None = None) -> Future[Outcome]:
        return self.committer.submit(Envelope(scope, command, idem))

    def execute(self, scope: Scope, command: Command, idem: Idem | None = None) -> Outcome:
        return self.submit(scope, command, idem).result()

    async def aexecute(self, scope: Scope, command: Command,
                       idem: Idem | None = None) -> Outcome:
        return await asyncio.wrap_future(self.submit(scope, command, idem))

    def upsert_org(self, scope: Scope, cmd: UpsertOrg, idem: Idem | None = None
                   ) -> tuple[Node, bool]:
        value: tuple[Node, bool] = self.execute(scope, cmd, idem).value
        return value

    def upsert_project(self, scope: Scope, cmd: UpsertProject, idem: Idem | None = None
                       ) -> tuple[Node, bool]:
        value: tuple[Node, bool] = self.execute(scope, cmd, idem).value
        return value

    def upsert_user(self, scope: Scope, cmd: UpsertUser, idem: Idem | None = None
                    ) -> tuple[Node, bool]:
        value: tuple[Node, bool] = self.execute(scope, cmd, idem).value
        return value

    def add_grant(self, scope: Scope, cmd: AddGrant, idem: Idem | None = None) -> Grant:
        value: Grant = self.execute(scope, cmd, idem).value
        return value

    def put_limit(self, scope: Scope, cmd: PutLimit, idem: Idem | None = None
                  ) -> tuple[Limit, bool]:
        value: tuple[Limit, bool] = self.execute(scope, cmd, idem).value
        return value

    def reserve(self, scope: Scope, cmd: Reserve, idem: Idem | None = None) -> Reservation:
        value: Reservation = self.execute(scope, cmd, idem).value
        return value

    def commit(self, scope: Scope, cmd: Commit, idem: Idem | None = None) -> Reservation:
        value: Reservation = self.execute(scope, cmd, idem).value
        return value

    def release(self, scope: Scope, cmd: Release, idem: Idem | None = None) -> Reservation:
        value: Reservation = self.execute(scope, cmd, idem).value
        return value

    def record_usage(self, scope: Scope, cmd: RecordUsage, idem: Idem | None = None
                     ) -> tuple[int, int]:
        value: tuple[int, int] = self.execute(scope, cmd, idem).value
        return value

    def expire_due(self, scope: Scope, org: str) -> int:
        value: int = self.execute(scope, ExpireDue(org)).value
        return value

    def sweep(self) -> int:
        """Expire every overdue hold in the store; returns how many orgs were swept."""
        with self.store.read() as tx:
            due = tx.orgs_with_due_holds(self.clock.now_ms())
        futures = [self.submit(Scope(t, e), ExpireDue(o)) for t, e, o in due]
        for f in futures:
            f.result()
        return len(futures)

    def start_sweeper(self, interval_s: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.sweep()
                except Exception:  # the next sweep tries again; reads expire lazily anyway
                    continue

        self._sweeper = threading.Thread(target=loop, daemon=True, name="spendgate-sweeper")
        self._sweeper.start()

    def close(self) -> None:
        self._stop.set()
        self.committer.close()
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)

    # ---- reads ----------------------------------------------------------------------

    def _book(self, scope: Scope, org: str) -> Book:
        """A read snapshot of one org, with overdue holds expired first."""
        with self.store.read() as tx:
            book = tx.load_book(scope, org)
        if book.org is None:
            raise NotFound("org", org, param="org")
        if book.next_expiry_ms is not None and book.next_expiry_ms <= self.clock.now_ms():
            self.expire_due(scope, org)
            with self.store.read() as tx:
                book = tx.load_book(scope, org)
        return book

    def get_node(self, scope: Scope, path: NodePath) -> Node:
        with self.store.read() as tx:
            if path.level.value == "org":
                book = tx.load_book(scope, path.org)
                node = book.org
            else:
                if tx.load_node(scope, NodePath(path.org)) is None and tx.load_book(
                        scope, path.org).org is None:
                    raise NotFound("org", path.org, param="org")
                node = tx.load_node(scope, path)
        if node is None:
            raise NotFound(path.level.value, str(path))
        return node

    def list_nodes(self, scope: Scope, level: str, org: str | None = None,
                   project: str | None = None, *, after: str | None = None,
                   limit: int = 100) -> list[Node]:
        if org is not None:
            self.get_node(scope, NodePath(org, project or ""))
        with self.store.read() as tx:
            return tx.list_nodes(scope, org, project, level=level, after=after, limit=limit)

    def balance(self, scope: Scope, org: str) -> Balance:
        return self._book(scope, org).balance(self.clock.now_ms())

    def grants(self, scope: Scope, org: str) -> list[Grant]:
        book = self._book(scope, org)
        return sorted(book.grants.values(), key=Grant.burn_key)

    def limits(self, scope: Scope, org: str | None = None, project: str | None = None,
               user: str | None = None) -> list[Limit]:
        with self.store.read() as tx:
            found = tx.list_limits(scope, org)
        now = self.clock.now_ms()
        out = []
        for lim in found:
            if project is not None and lim.path.project != project:
                continue
            if user is not None and lim.path.user != user:
                continue
            out.append(replace(lim, used=lim.used_now(now),
                               window_start_ms=window_start(lim.window, now)))
        return out

    def status(self, scope: Scope, path: NodePath) -> list[LimitStatus]:
        """Every limit on the path with its used, held and remaining in the current window."""
        self.get_node(scope, path)
        book = self._book(scope, path.org)
        now = self.clock.now_ms()
        return [LimitStatus(lim, lim.used_now(now), lim.held,
                            lim.amount - lim.used_now(now) - lim.held,
                            window_start(lim.window, now))
                for lim in book.limits_on(path)]

    def get_reservation(self, scope: Scope, res_id: str) -> Reservation:
        with self.store.read() as tx:
            res = tx.load_reservation(scope, None, res_id)
        if res is None:
            raise NotFound("reservation", res_id)
        if res.open and res.expires_ms <= self.clock.now_ms():
            self.expire_due(scope, res.path.org)
            with self.store.read() as tx:
                res = tx.load_reservation(scope, None, res_id)
            assert res is not None
        return res

    def verify(self, scopes: Sequence[Scope] | None = None) -> list[Problem]:
        """Recompute every balance from the journal; an empty list means all agree."""
        problems: list[Problem] = []
        with self.store.read() as tx:
            for tenant, env, org in tx.all_orgs():
                scope = Scope(tenant, env)
                if scopes is not None and scope not in scopes:
                    continue
                problems.extend(verify_org(tx, scope, org))
        return problems

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
