"""The SQL outbox: rows written with the change they announce, drained per sink.

A claim leases rows by pushing their next_attempt_ms past the lease; a crashed dispatcher's
lease simply runs out and the rows are claimed again (delivery is idempotent at the vendor).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from spendgate.domain.hierarchy import Scope
from spendgate.metering.events import UsageEvent
from spendgate.sinks.port import Backlog, OutboxMessage
from spendgate.stores.port import Store
from spendgate.stores.sql import SqlSession, dumps, loads
from spendgate.webhooks.outbound.events import sink_dead_lettered, stable_id

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class SqlOutbox:
    """The Outbox port over the `outbox` table, for one tenant environment."""

    def __init__(self, store: Store, scope: Scope, *, lease_ms: int = 60_000) -> None:
        self.store = store
        self.scope = scope
        self.lease_ms = lease_ms

    def _marks(self, seqs: Sequence[int]) -> str:
        return ",".join("?" * len(seqs))

    def claim(self, sink: str, limit: int, now_ms: int) -> list[OutboxMessage]:
        skip = " FOR UPDATE SKIP LOCKED" if self.store.dialect.name == "postgres" else ""
        with self.store.read() as probe:  # idle sinks must not take the write lock
            if probe.one("SELECT 1 FROM outbox WHERE tenant=? AND env=? AND sink=? AND "
                         "state='pending' AND next_attempt_ms <= ? LIMIT 1",
                         (self.scope.tenant, self.scope.env, sink, now_ms)) is None:
                return []
        with self.store.transaction() as tx:
            rows = tx.all(
                "SELECT seq, payload, attempts, next_attempt_ms FROM outbox WHERE tenant=? "
                "AND env=? AND sink=? AND state='pending' AND next_attempt_ms <= ? "
                "ORDER BY seq LIMIT ?" + skip,
                (self.scope.tenant, self.scope.env, sink, now_ms, limit))
            if rows:
                seqs = [r[0] for r in rows]
                tx.execute(f"UPDATE outbox SET next_attempt_ms=? WHERE seq IN "
                           f"({self._marks(seqs)})", [now_ms + self.lease_ms, *seqs])
        return [OutboxMessage(seq, sink, UsageEvent.from_dict(loads(payload)), attempts, due)
                for seq, payload, attempts, due in rows]

    def ack(self, sink: str, seqs: Sequence[int]) -> None:
        self._set(sink, seqs, "state='delivered', last_error=NULL", ())

    def retry(self, sink: str, seqs: Sequence[int], next_attempt_ms: int, error: str) -> None:
        self._set(sink, seqs, "attempts=attempts+1, next_attempt_ms=?, last_error=?",
                  (next_attempt_ms, error[:2000]))

    def dead_letter(self, sink: str, seqs: Sequence[int], error: str) -> None:
        """Park the messages and announce each (sink.dead_lettered) in the same transaction."""
        if not seqs:
            return
        with self.store.transaction() as tx:
            rows = tx.all(f"SELECT seq, event_id, attempts FROM outbox WHERE tenant=? AND env=? "
                          f"AND sink=? AND state='pending' AND seq IN ({self._marks(seqs)})",
                          [self.scope.tenant, self.scope.env, sink, *seqs])
            tx.execute(f"UPDATE outbox SET state='dead', attempts=attempts+1, last_error=? "
                       f"WHERE tenant=? AND env=? AND sink=? AND state='pending' "
                       f"AND seq IN ({self._marks(seqs)})",
                       [error[:2000], self.scope.tenant, self.scope.env, sink, *seqs])
            now = int(time.time() * 1000)
            for seq, event_id, attempts in rows:
                alert = sink_dead_lettered(sink=sink, usage_event_id=event_id,
                                           attempts=int(attempts) + 1, error=error[:500],
                                           now_ms=now)
                tx.execute("INSERT INTO webhook_events (tenant, env, event_id, type, body, "
                           "fanned_out, created_ms) VALUES (?,?,?,?,?,0,?)",
                           (self.scope.tenant, self.scope.env,
                            stable_id(f"dead:{sink}:{seq}:{attempts}"), alert.type,
                            alert.body().decode(), now))

    def _set(self, sink: str, seqs: Sequence[int], assignments: str,
             params: Sequence[object]) -> None:
        if not seqs:
            return
        with self.store.transaction() as tx:
            tx.execute(f"UPDATE outbox SET {assignments} WHERE tenant=? AND env=? AND sink=? "
                       f"AND state='pending' AND seq IN ({self._marks(seqs)})",
                       [*params, self.scope.tenant, self.scope.env, sink, *seqs])

    def backlog(self, sink: str) -> Backlog:
        with self.store.read() as tx:
            count, oldest = tx.one(
                "SELECT COUNT(*), MIN(created_ms) FROM outbox WHERE tenant=? AND env=? "
                "AND sink=? AND state='pending'", (self.scope.tenant, self.scope.env, sink))
        return Backlog(int(count), oldest)

    # ---- operations beyond the port ---------------------------------------------------

    def counts(self, sink: str) -> dict[str, int]:
        """Rows by state, and how many deliveries needed more than one attempt."""
        with self.store.read() as tx:
            rows = tx.all("SELECT state, COUNT(*), SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END)"
                          " FROM outbox WHERE tenant=? AND env=? AND sink=? GROUP BY state",
                          (self.scope.tenant, self.scope.env, sink))
            last = tx.one("SELECT last_error FROM outbox WHERE tenant=? AND env=? AND sink=? "
                          "AND last_error IS NOT NULL ORDER BY seq DESC LIMIT 1",
                          (self.scope.tenant, self.scope.env, sink))
        out = {PENDING: 0, DELIVERED: 0, DEAD: 0, "retried": 0}
        for state, count, retried in rows:
            out[state] = int(count)
            out["retried"] += int(retried or 0)
        out["last_error"] = last[0] if last else None  # type: ignore[assignment]
        return out

    def redrive(self, sink: str, now_ms: int, tx: SqlSession | None = None) -> int:
        """Give every dead-lettered message of a sink a fresh start."""
        if tx is None:
            with self.store.transaction() as own:
                return self.redrive(sink, now_ms, own)
        cur = tx.execute("UPDATE outbox SET state='pending', attempts=0, next_attempt_ms=? "
                         "WHERE tenant=? AND env=? AND sink=? AND state='dead'",
                         (now_ms, self.scope.tenant, self.scope.env, sink))
        return int(cur.rowcount)

    def replay(self, sink: str, from_ms: int, to_ms: int, now_ms: int,
               tx: SqlSession | None = None) -> int:
        """Queue again every usage event whose timestamp is in [from, to) for one sink."""
        if tx is None:
            with self.store.transaction() as own:
                return self.replay(sink, from_ms, to_ms, now_ms, own)
        rows = tx.all("SELECT event_id, doc FROM usage_events WHERE tenant=? AND env=? "
                      "AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms, event_id",
                      (self.scope.tenant, self.scope.env, from_ms, to_ms))
        tx.many(tx.d.sql(
            "INSERT INTO outbox (tenant, env, sink, event_id, payload, state, attempts, "
            "next_attempt_ms, created_ms) VALUES (?,?,?,?,?,'pending',0,?,?)"),
            [(self.scope.tenant, self.scope.env, sink, eid, doc, now_ms, now_ms)
             for eid, doc in rows])
        return len(rows)

    def add(self, sink: str, event: UsageEvent, now_ms: int) -> None:
        """Enqueue one event outside a ledger transaction (tests and tools)."""
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO outbox (tenant, env, sink, event_id, payload, state, "
                       "attempts, next_attempt_ms, created_ms) VALUES (?,?,?,?,?,'pending',0,?,?)",
                       (self.scope.tenant, self.scope.env, sink, event.id,
                        dumps(event.to_dict()), now_ms, now_ms))
