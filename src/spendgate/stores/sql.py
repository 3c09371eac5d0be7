"""The SQL both stores share: one session type over a DB-API connection and a dialect.

SQLite and PostgreSQL differ only in placeholders, how a write transaction begins, and
row locks; everything else (schema, queries, encoding) is one code path, so the contract
suite proves one implementation twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import orjson

from spendgate.domain.hierarchy import Node, NodePath, Scope
from spendgate.domain.limits import CREDITS, Limit
from spendgate.domain.reservations import Reservation
from spendgate.ledger.book import Book, Entry
from spendgate.ledger.codec import (
    grant_from_dict,
    grant_to_dict,
    limit_from_dict,
    limit_to_dict,
    node_from_dict,
    node_to_dict,
)


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=_default).decode()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


loads = orjson.loads


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str  # "sqlite" | "postgres"
    begin: str
    lock_suffix: str

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.name == "postgres" else text


SQLITE = Dialect("sqlite", "BEGIN IMMEDIATE", "")
POSTGRES = Dialect("postgres", "BEGIN", " FOR UPDATE")

OrgKey = tuple[str, str, str]  # tenant, env, org


def _node_doc(node: Node) -> str:
    return dumps(node_to_dict(node))


def _node_from(doc: str) -> Node:
    return node_from_dict(loads(doc))


def _limit_doc(lim: Limit) -> str:
    return dumps(limit_to_dict(lim))


def _limit_from(doc: str, ws: int, used: int, held: int) -> Limit:
    return replace(limit_from_dict(loads(doc)), window_start_ms=ws, used=used, held=held)


class SqlSession:
    """Queries over one connection. Write transactions are opened by the store."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self.conn = conn
        self.d = dialect
        self._sinks: dict[Scope, list[str]] = {}

    # ---- plumbing -------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(self.d.sql(sql), params)

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        if self.d.name == "sqlite":
            self.conn.executemany(sql, rows)
        else:
            with self.conn.cursor() as cur:
                cur.executemany(self.d.sql(sql), rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.execute(sql, params).fetchall())

    # ---- books ----------------------------------------------------------------------

    def lock_orgs(self, keys: Sequence[OrgKey]) -> dict[OrgKey, int]:
        """Lock the org rows in one fixed order (no deadlocks) and read their versions."""
        versions: dict[OrgKey, int] = {}
        for key in sorted(set(keys)):
            row = self.one("SELECT version FROM orgs WHERE tenant=? AND env=? AND org=?"
                           + self.d.lock_suffix, key)
            if row is not None:
                versions[key] = row[0]
        return versions

    def load_book(self, scope: Scope, org: str) -> Book:
        book = Book(scope, org)
        row = self.one("SELECT doc, wallet_held, wallet_debt, version, journal_seq, created_ms "
                       "FROM orgs WHERE tenant=? AND env=? AND org=?",
                       (scope.tenant, scope.env, org))
        if row is None:
            return book
        book.org = _node_from(row[0])
        book.wallet_held, book.wallet_debt, book.version, book.journal_seq = row[1:5]
        key = (scope.tenant, scope.env, org)
        for gid, amount, consumed, doc in self.all(
            "SELECT grant_id, amount, consumed, doc FROM grants "
            "WHERE tenant=? AND env=? AND org=?", key):
            book.grants[gid] = replace(grant_from_dict(loads(doc)), amount=amount,
                                       consumed=consumed)
        for lid, doc, ws, used, held in self.all(
            "SELECT limit_id, doc, window_start_ms, used, held FROM limits "
            "WHERE tenant=? AND env=? AND org=?", key):
            book.limits[lid] = _limit_from(doc, ws, used, held)
        book.next_expiry_ms = self.next_expiry(scope, org)
        return book

    def write_book(self, book: Book, now_ms: int) -> None:
        if self.d.name == "postgres":
            # One network round trip for every statement of the batch, not one each.
            with self.conn.pipeline():
                self._write_book(book, now_ms)
        else:
            self._write_book(book, now_ms)

    def _write_book(self, book: Book, now_ms: int) -> None:
        ch = book.changes
        s, org = book.scope, book.org_id
        if book.org is None:
            return
        book.version += 1
        self.execute(
            "INSERT INTO orgs (tenant, env, org, doc, wallet_held, wallet_debt, version, "
            "journal_seq, created_ms) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (tenant, env, org) DO UPDATE SET doc=excluded.doc, "
            "wallet_held=excluded.wallet_held, wallet_debt=excluded.wallet_debt, "
            "version=excluded.version, journal_seq=excluded.journal_seq",
            (s.tenant, s.env, org, _node_doc(book.org), book.wallet_held, book.wallet_debt,
             book.version, book.journal_seq, book.org.created_ms))
        self.many(self.d.sql(
            "INSERT INTO nodes (tenant, env, org, project, user_id, doc, created_ms) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (tenant, env, org, project, user_id) "
            "DO UPDATE SET doc=excluded.doc"),
            [(s.tenant, s.env, org, p.project, p.user, _node_doc(n), n.created_ms)
             for p in ch.nodes if (n := book.nodes[p]) is not None])
        self.many(self.d.sql(
            "INSERT INTO grants (tenant, env, org, grant_id, amount, consumed, doc, created_ms) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (tenant, env, org, grant_id) "
            "DO UPDATE SET amount=excluded.amount, consumed=excluded.consumed"),
            [(s.tenant, s.env, org, g.id, g.amount, g.consumed, dumps(grant_to_dict(g)),
              g.created_ms)
             for gid in ch.grants if (g := book.grants[gid])])
        self.many(self.d.sql(
            "INSERT INTO limits (tenant, env, org, limit_id, doc, window_start_ms, used, held) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (tenant, env, org, limit_id) DO UPDATE SET "
            "doc=excluded.doc, window_start_ms=excluded.window_start_ms, used=excluded.used, "
            "held=excluded.held"),
            [(s.tenant, s.env, org, lim.id, _limit_doc(lim), lim.window_start_ms, lim.used,
              lim.held) for lid in ch.limits if (lim := book.limits[lid])])
        self.many(self.d.sql(
            "INSERT INTO reservations (tenant, env, org, res_id, status, hold_expires_ms, doc, "
            "created_ms) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (tenant, env, org, res_id) "
            "DO UPDATE SET status=excluded.status, hold_expires_ms=excluded.hold_expires_ms, "
            "doc=excluded.doc"),
            [(s.tenant, s.env, org, r.id, r.status.value,
              r.expires_ms if r.open else None, dumps(r.to_dict()), r.created_ms)
             for rid in ch.reservations if (r := book.reservations[rid])])
        self.many(self.d.sql(
            "INSERT INTO journal (tenant, env, org, seq, at_ms, kind, ref, postings) "
            "VALUES (?,?,?,?,?,?,?,?)"),
            [(s.tenant, s.env, org, e.seq, e.at_ms, e.kind, e.ref, dumps(e.postings))
             for e in ch.entries])
        self.many(self.d.sql(
            "INSERT INTO usage_events (tenant, env, event_id, org, project, user_id, meter, "
            "ts_ms, recorded_ms, credits, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?)"),
            [(s.tenant, s.env, ev.id, ev.org, ev.project or "", ev.user or "", ev.meter,
              ev.timestamp_ms, now_ms, ev.credits_nano, dumps(ev.to_dict()))
             for ev in ch.events])
        if ch.events:
            from spendgate.metering.rollups import UPSERT, rollup_rows

            self.many(self.d.sql(UPSERT), rollup_rows(ch.events))
        self.many(self.d.sql(
            "INSERT INTO outbox (tenant, env, sink, event_id, payload, state, attempts, "
            "next_attempt_ms, created_ms) VALUES (?,?,?,?,?,'pending',0,?,?)"),
            [(s.tenant, s.env, sink, ev.id, dumps(ev.to_dict()), now_ms, now_ms)
             for sink, ev in ch.outbox])
        self.many(self.d.sql(
            "INSERT INTO webhook_events (tenant, env, event_id, type, body, fanned_out, "
            "created_ms) VALUES (?,?,?,?,?,0,?)"),
            [(s.tenant, s.env, a.id, a.type, a.body().decode(), now_ms) for a in ch.alerts])

    # ---- BookSource -----------------------------------------------------------------

    def load_node(self, scope: Scope, path: NodePath) -> Node | None:
        row = self.one("SELECT doc, created_ms FROM nodes WHERE tenant=? AND env=? AND org=? "
                       "AND project=? AND user_id=?",
                       (scope.tenant, scope.env, path.org, path.project, path.user))
        return _node_from(row[0]) if row else None

    def load_reservation(self, scope: Scope, org: str | None, res_id: str) -> Reservation | None:
        if org is None:
            row = self.one("SELECT doc FROM reservations WHERE tenant=? AND env=? AND res_id=?",
                           (scope.tenant, scope.env, res_id))
        else:
            row = self.one("SELECT doc FROM reservations WHERE tenant=? AND env=? AND org=? "
                           "AND res_id=?", (scope.tenant, scope.env, org, res_id))
        return Reservation.from_dict(loads(row[0])) if row else None

    def due_reservations(self, scope: Scope, org: str, now_ms: int) -> list[str]:
        return [r[0] for r in self.all(
            "SELECT res_id FROM reservations WHERE hold_expires_ms <= ? AND tenant=? AND env=? "
            "AND org=?", (now_ms, scope.tenant, scope.env, org))]

    def next_expiry(self, scope: Scope, org: str) -> int | None:
        row = self.one("SELECT MIN(hold_expires_ms) FROM reservations WHERE tenant=? AND env=? "
                       "AND org=? AND hold_expires_ms IS NOT NULL",
                       (scope.tenant, scope.env, org))
        return row[0] if row else None

    def limit_owner(self, scope: Scope, limit_id: str) -> str | None:
        row = self.one("SELECT org FROM limits WHERE tenant=? AND env=? AND limit_id=?",
                       (scope.tenant, scope.env, limit_id))
        return row[0] if row else None

    def spend_since(self, scope: Scope, path: NodePath, meter: str, since_ms: int) -> int:
        """What work at or below `path` recorded since `since_ms`, counted as `meter` counts."""
        sql = ("SELECT credits, doc FROM usage_events WHERE tenant=? AND env=? AND org=? "
               "AND recorded_ms >= ?")
        params: list[Any] = [scope.tenant, scope.env, path.org, since_ms]
        if path.project:
            sql += " AND project=?"
            params.append(path.project)
        if path.user:
            sql += " AND user_id=?"
            params.append(path.user)
        if meter == CREDITS:
            row = self.one(sql.replace("credits, doc", "COALESCE(SUM(credits), 0)"), params)
            return int(row[0])
        from spendgate.domain.money import quantity_to_nano

        name, _, quantity = meter.partition(".")
        total = 0
        for _credits, doc in self.all(sql, params):
            d = loads(doc)
            if d["meter"] != name:
                continue
            for key, value in d["quantities"].items():
                if not quantity or key == quantity:
                    total += quantity_to_nano(Decimal(value), field=key)
        return total

    def existing_events(self, scope: Scope, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.all(
                f"SELECT event_id FROM usage_events WHERE tenant=? AND env=? "
                f"AND event_id IN ({marks})", [scope.tenant, scope.env, *chunk]))
        return found

    def enabled_sinks(self, scope: Scope) -> list[str]:
        if scope not in self._sinks:
            self._sinks[scope] = [r[0] for r in self.all(
                "SELECT name FROM sinks WHERE tenant=? AND env=? AND enabled=1 ORDER BY name",
                (scope.tenant, scope.env))]
        return self._sinks[scope]

    # ---- idempotency ----------------------------------------------------------------

    def idem_get(self, scope: Scope, keys: Sequence[str]) -> dict[str, tuple[str, Any]]:
        found: dict[str, tuple[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            for key, fp, result in self.all(
                    f"SELECT idem_key, fingerprint, result FROM idempotency WHERE tenant=? "
                    f"AND env=? AND idem_key IN ({','.join('?' * len(chunk))})",
                    [scope.tenant, scope.env, *chunk]):
                found[key] = (fp, loads(result))
        return found

    def idem_put(self, rows: Iterable[tuple[Scope, str, str, Any, int]]) -> None:
        self.many(self.d.sql(
            "INSERT INTO idempotency (tenant, env, idem_key, fingerprint, result, created_ms) "
            "VALUES (?,?,?,?,?,?)"),
            [(s.tenant, s.env, k, fp, dumps(res), now) for s, k, fp, res, now in rows])

    # ---- reads ----------------------------------------------------------------------

    def list_nodes(self, scope: Scope, org: str | None, project: str | None, *,
                   level: str, after: str | None, limit: int) -> list[Node]:
        if level == "org":
            rows = self.all(
                "SELECT doc FROM orgs WHERE tenant=? AND env=? AND org > ? "
                "ORDER BY org LIMIT ?", (scope.tenant, scope.env, after or "", limit))
            return [_node_from(r[0]) for r in rows]
        if level == "project":
            rows = self.all(
                "SELECT doc FROM nodes WHERE tenant=? AND env=? AND org=? "
                "AND user_id='' AND project > ? ORDER BY project LIMIT ?",
                (scope.tenant, scope.env, org, after or "", limit))
            return [_node_from(r[0]) for r in rows]
        rows = self.all(
            "SELECT doc FROM nodes WHERE tenant=? AND env=? AND org=? "
            "AND project=? AND user_id <> '' AND user_id > ? ORDER BY user_id LIMIT ?",
            (scope.tenant, scope.env, org, project, after or "", limit))
        return [_node_from(r[0]) for r in rows]

    def list_limits(self, scope: Scope, org: str | None) -> list[Limit]:
        sql = ("SELECT doc, window_start_ms, used, held FROM limits "
               "WHERE tenant=? AND env=?")
        params: list[Any] = [scope.tenant, scope.env]
        if org is not None:
            sql += " AND org=?"
            params.append(org)
        return [_limit_from(r[0], r[1], r[2], r[3])
                for r in self.all(sql + " ORDER BY limit_id", params)]

    def journal(self, scope: Scope, org: str) -> Iterator[Entry]:
        for seq, at, kind, ref, postings in self.all(
            "SELECT seq, at_ms, kind, ref, postings FROM journal WHERE tenant=? AND env=? "
            "AND org=? ORDER BY seq", (scope.tenant, scope.env, org)):
            yield Entry(seq, at, kind, ref, tuple((a, v) for a, v in loads(postings)))

    def all_orgs(self) -> list[OrgKey]:
        return [(r[0], r[1], r[2]) for r in self.all("SELECT tenant, env, org FROM orgs "
                                                     "ORDER BY tenant, env, org")]

    def open_reservations(self, scope: Scope, org: str) -> list[Reservation]:
        return [Reservation.from_dict(loads(r[0])) for r in self.all(
            "SELECT doc FROM reservations WHERE tenant=? AND env=? AND org=? "
            "AND hold_expires_ms IS NOT NULL", (scope.tenant, scope.env, org))]

    def orgs_with_due_holds(self, now_ms: int, limit: int = 1000) -> list[OrgKey]:
        return [(r[0], r[1], r[2]) for r in self.all(
            "SELECT DISTINCT tenant, env, org FROM reservations WHERE hold_expires_ms <= ? "
            "LIMIT ?", (now_ms, limit))]


__all__ = ["POSTGRES", "SQLITE", "Dialect", "OrgKey", "SqlSession", "dumps", "loads"]
