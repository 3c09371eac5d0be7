"""Webhook storage: inbound deliveries, outbound endpoints, deliveries and their attempts.

Outbound alerts are written to `webhook_events` by the ledger in the same transaction as
the change that caused them; `fan_out_pending` turns each into one delivery per subscribed
endpoint, and the Deliverer drains `webhook_deliveries` with retries and an attempt log.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from spendgate.domain.hierarchy import Scope
from spendgate.errors import NotFound
from spendgate.stores.port import Store
from spendgate.stores.sql import SqlSession, dumps, loads
from spendgate.webhooks.intake import InboundRecord, Verdict
from spendgate.webhooks.outbound.events import OutboundEvent
from spendgate.webhooks.outbound.log import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Endpoint,
    fan_out,
)


class SqlInbox:
    """The Inbox port: one row per inbound request, accepted ones unique per delivery id."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, entry: InboundRecord) -> bool:
        with self.store.transaction() as tx:
            if entry.verdict is Verdict.ACCEPTED and tx.one(
                    "SELECT 1 FROM webhook_inbound WHERE tenant=? AND env=? AND sink=? "
                    "AND delivery_id=? AND verdict='accepted'",
                    (entry.tenant, entry.env, entry.sink, entry.delivery_id)) is not None:
                return False
            tx.execute(
                "INSERT INTO webhook_inbound (record_id, tenant, env, sink, vendor, received_ms, "
                "source_ip, headers, body, verdict, reason, delivery_id, event_type, scheme) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (entry.id, entry.tenant, entry.env, entry.sink, entry.vendor, entry.received_ms,
                 entry.source_ip, dumps(dict(entry.headers)),
                 entry.body.decode("utf-8", "replace"), entry.verdict.value, entry.reason,
                 entry.delivery_id, entry.event_type, entry.scheme))
        return True

    def pending(self, limit: int) -> builtins.list[InboundRecord]:
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT record_id, tenant, env, sink, vendor, received_ms, headers, body, "
                "verdict, reason, delivery_id, event_type, scheme, source_ip FROM webhook_inbound "
                "WHERE processed_ms IS NULL AND verdict='accepted' ORDER BY received_ms LIMIT ?",
                (limit,))
        return [InboundRecord(r[0], r[1], r[2], r[3], r[4], r[5], loads(r[6]), r[7].encode(),
                              Verdict(r[8]), r[9], r[10], r[11], r[12], r[13]) for r in rows]

    def mark_processed(self, record_id: str, *, outcome: str, processed_ms: int) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE webhook_inbound SET processed_ms=?, outcome=? WHERE record_id=?",
                       (processed_ms, outcome, record_id))

    def count(self, scope: Scope, sink: str, verdict: str) -> int:
        with self.store.read() as tx:
            return int(tx.one("SELECT COUNT(*) FROM webhook_inbound WHERE tenant=? AND env=? "
                              "AND sink=? AND verdict=?",
                              (scope.tenant, scope.env, sink, verdict))[0])


class EndpointRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def put(self, scope: Scope, endpoint: Endpoint, now_ms: int) -> bool:
        with self.store.transaction() as tx:
            created = tx.one("SELECT 1 FROM webhook_endpoints WHERE tenant=? AND env=? AND "
                             "endpoint_id=?", (scope.tenant, scope.env, endpoint.id)) is None
            tx.execute(
                "INSERT INTO webhook_endpoints (tenant, env, endpoint_id, url, events, secrets, "
                "enabled, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (tenant, env, endpoint_id) DO UPDATE SET url=excluded.url, "
                "events=excluded.events, secrets=excluded.secrets, enabled=excluded.enabled, "
                "updated_ms=excluded.updated_ms",
                (scope.tenant, scope.env, endpoint.id, endpoint.url,
                 dumps(sorted(endpoint.events)), dumps(list(endpoint.secrets)),
                 1 if endpoint.enabled else 0, now_ms, now_ms))
        return created

    def get(self, scope: Scope, endpoint_id: str) -> Endpoint:
        found = [e for e in self.list(scope) if e.id == endpoint_id]
        if not found:
            raise NotFound("webhook endpoint", endpoint_id)
        return found[0]

    def list(self, scope: Scope) -> builtins.list[Endpoint]:
        with self.store.read() as tx:
            return _endpoints(tx, scope)

    def deliveries(self, scope: Scope, endpoint_id: str, *, after: str | None = None,
                   limit: int = 100) -> builtins.list[dict[str, Any]]:
        self.get(scope, endpoint_id)
        with self.store.read() as tx:
            rows = tx.all(
                "SELECT delivery_id, event_id, event_type, status, attempts, next_attempt_ms, "
                "created_ms FROM webhook_deliveries WHERE tenant=? AND env=? AND endpoint_id=? "
                "AND delivery_id > ? ORDER BY delivery_id LIMIT ?",
                (scope.tenant, scope.env, endpoint_id, after or "", limit))
            out = []
            for r in rows:
                attempts = tx.all("SELECT number, attempted_ms, status, response_code, error, "
                                  "duration_ms FROM webhook_attempts WHERE delivery_id=? "
                                  "ORDER BY number", (r[0],))
                out.append({"id": r[0], "event_id": r[1], "event_type": r[2], "status": r[3],
                            "attempts": r[4], "next_attempt_ms": r[5], "created_ms": r[6],
                            "attempt_log": [
                                {"number": a[0], "attempted_ms": a[1], "status": a[2],
                                 "response_code": a[3], "error": a[4], "duration_ms": a[5]}
                                for a in attempts]})
        return out


class SqlDeliveryLog:
    """The DeliveryLog port; `due` leases rows by pushing next_attempt_ms forward."""

    def __init__(self, store: Store, *, lease_ms: int = 60_000) -> None:
        self.store = store
        self.lease_ms = lease_ms

    def add(self, deliveries: Sequence[Delivery]) -> int:
        with self.store.transaction() as tx:
            return self._add(tx, deliveries)

    def _add(self, tx: SqlSession, deliveries: Sequence[Delivery]) -> int:
        added = 0
        for d in deliveries:
            if tx.one("SELECT 1 FROM webhook_deliveries WHERE delivery_id=?", (d.id,)):
                continue
            ep = tx.one("SELECT tenant, env FROM webhook_endpoints WHERE endpoint_id=?",
                        (d.endpoint_id,))
            tenant, env = ep if ep else ("", "")
            tx.execute("INSERT INTO webhook_deliveries (delivery_id, tenant, env, endpoint_id, "
                       "event_id, event_type, body, status, attempts, next_attempt_ms, "
                       "created_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (d.id, tenant, env, d.endpoint_id, d.event_id, d.event_type,
                        d.body.decode(), d.status.value, d.attempts, d.next_attempt_ms,
                        d.created_ms))
            added += 1
        return added

    def due(self, now_ms: int, limit: int) -> builtins.list[Delivery]:
        skip = " FOR UPDATE OF d SKIP LOCKED" if self.store.dialect.name == "postgres" else ""
        with self.store.read() as probe:  # nothing due: no write transaction at all
            if probe.one("SELECT 1 FROM webhook_deliveries WHERE status='pending' AND "
                         "next_attempt_ms <= ? LIMIT 1", (now_ms,)) is None:
                return []
        with self.store.transaction() as tx:
            rows = tx.all(
                "SELECT d.delivery_id, d.endpoint_id, d.event_id, d.event_type, d.body, e.url, "
                "e.secrets, d.created_ms, d.attempts, d.next_attempt_ms, e.enabled "
                "FROM webhook_deliveries d JOIN webhook_endpoints e ON e.tenant = d.tenant "
                "AND e.env = d.env AND e.endpoint_id = d.endpoint_id WHERE d.status='pending' "
                "AND d.next_attempt_ms <= ? ORDER BY d.next_attempt_ms, d.created_ms LIMIT ?"
                + skip, (now_ms, limit))
            rows = [r for r in rows if r[10]]  # a disabled endpoint's deliveries wait
            for r in rows:
                tx.execute("UPDATE webhook_deliveries SET next_attempt_ms=? WHERE delivery_id=?",
                           (now_ms + self.lease_ms, r[0]))
        return [Delivery(r[0], r[1], r[2], r[3], r[4].encode(), r[5], tuple(loads(r[6])), r[7],
                         DeliveryStatus.PENDING, r[8], r[9]) for r in rows]

    def record_attempt(self, delivery_id: str, *, status: DeliveryStatus,
                       response_code: int | None, error: str | None,
                       next_attempt_ms: int | None, attempted_ms: int,
                       duration_ms: int) -> None:
        with self.store.transaction() as tx:
            (attempts,) = tx.one("SELECT attempts FROM webhook_deliveries WHERE delivery_id=?",
                                 (delivery_id,))
            tx.execute("UPDATE webhook_deliveries SET status=?, attempts=?, next_attempt_ms=? "
                       "WHERE delivery_id=?",
                       (status.value, attempts + 1, next_attempt_ms, delivery_id))
            tx.execute("INSERT INTO webhook_attempts (delivery_id, number, attempted_ms, status, "
                       "response_code, error, duration_ms, next_attempt_ms) "
                       "VALUES (?,?,?,?,?,?,?,?)",
                       (delivery_id, attempts + 1, attempted_ms, status.value, response_code,
                        (error or "")[:2000] or None, duration_ms, next_attempt_ms))

    def attempts(self, delivery_id: str) -> builtins.list[Attempt]:
        with self.store.read() as tx:
            rows = tx.all("SELECT number, attempted_ms, status, response_code, error, "
                          "duration_ms, next_attempt_ms FROM webhook_attempts "
                          "WHERE delivery_id=? ORDER BY number", (delivery_id,))
        return [Attempt(delivery_id, r[0], r[1], DeliveryStatus(r[2]), r[3], r[4], r[5], r[6])
                for r in rows]

    def fan_out_pending(self, now_ms: int, limit: int = 500) -> int:
        """Turn alerts the ledger wrote into deliveries to every subscribed endpoint."""
        with self.store.read() as probe:
            if probe.one("SELECT 1 FROM webhook_events WHERE fanned_out=0 LIMIT 1") is None:
                return 0
        with self.store.transaction() as tx:
            events = tx.all("SELECT tenant, env, event_id, body FROM webhook_events "
                            "WHERE fanned_out=0 ORDER BY created_ms LIMIT ?", (limit,))
            made = 0
            for tenant, env, event_id, body in events:
                endpoints = _endpoints(tx, Scope(tenant, env))
                event = OutboundEvent.from_body(event_id, body.encode())
                made += self._add(tx, fan_out(event, endpoints, now_ms=now_ms))
                tx.execute("UPDATE webhook_events SET fanned_out=1 WHERE tenant=? AND env=? "
                           "AND event_id=?", (tenant, env, event_id))
        return made

    def events(self, scope: Scope, type_: str | None = None) -> builtins.list[OutboundEvent]:
        """Alerts the ledger emitted (for status pages and tests)."""
        with self.store.read() as tx:
            rows = tx.all("SELECT event_id, body FROM webhook_events WHERE tenant=? AND env=? "
                          "ORDER BY created_ms, event_id", (scope.tenant, scope.env))
        found = [OutboundEvent.from_body(i, b.encode()) for i, b in rows]
        return [e for e in found if type_ is None or e.type == type_]


def _endpoints(tx: SqlSession, scope: Scope) -> builtins.list[Endpoint]:
    rows = tx.all("SELECT endpoint_id, url, events, secrets, enabled FROM webhook_endpoints "
                  "WHERE tenant=? AND env=? ORDER BY endpoint_id", (scope.tenant, scope.env))
    return [Endpoint(r[0], scope.tenant, scope.env, r[1], frozenset(loads(r[2])),
                     tuple(loads(r[3])), bool(r[4])) for r in rows]


class SqlWebhookPublisher:
    """Enqueues an outbound event for a scope's endpoints; one per idempotency key."""

    def __init__(self, store: Store, scope: Scope, now_ms: Callable[[], int]) -> None:
        self.store = store
        self.scope = scope
        self.now_ms = now_ms

    def publish(self, event_type: str, data: Mapping[str, Any], *, idempotency_key: str) -> None:
        from spendgate.webhooks.outbound.events import new_event, stable_id

        event = new_event(event_type, data, now_ms=self.now_ms(),
                          event_id=stable_id(idempotency_key))
        with self.store.transaction() as tx:
            if tx.one("SELECT 1 FROM webhook_events WHERE tenant=? AND env=? AND event_id=?",
                      (self.scope.tenant, self.scope.env, event.id)) is None:
                tx.execute("INSERT INTO webhook_events (tenant, env, event_id, type, body, "
                           "fanned_out, created_ms) VALUES (?,?,?,?,?,0,?)",
                           (self.scope.tenant, self.scope.env, event.id, event.type,
                            event.body().decode(), event.created_ms))
