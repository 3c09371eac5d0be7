"""Sink configurations per tenant environment; secrets stay inside the store."""

from __future__ import annotations

import builtins

from spendgate.domain.hierarchy import Scope
from spendgate.errors import NotFound
from spendgate.sinks.config import SinkConfig
from spendgate.stores.port import Store
from spendgate.stores.sql import SqlSession, dumps, loads


class SinkRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def put(self, scope: Scope, config: SinkConfig, now_ms: int,
            tx: SqlSession | None = None) -> bool:
        """Create or replace a sink; returns True when it was created."""
        if tx is None:
            with self.store.transaction() as own:
                return self.put(scope, config, now_ms, own)
        created = tx.one("SELECT 1 FROM sinks WHERE tenant=? AND env=? AND name=?",
                         (scope.tenant, scope.env, config.name)) is None
        tx.execute(
            "INSERT INTO sinks (tenant, env, name, enabled, config, created_ms, updated_ms) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (tenant, env, name) DO UPDATE SET "
            "enabled=excluded.enabled, config=excluded.config, updated_ms=excluded.updated_ms",
            (scope.tenant, scope.env, config.name, 1 if config.enabled else 0,
             dumps(config.to_private_dict()), now_ms, now_ms))
        return created

    def get(self, scope: Scope, name: str) -> SinkConfig:
        with self.store.read() as tx:
            found = self.find_in(tx, scope, name)
        if found is None:
            raise NotFound("sink", name)
        return found

    @staticmethod
    def find_in(tx: SqlSession, scope: Scope, name: str) -> SinkConfig | None:
        row = tx.one("SELECT config FROM sinks WHERE tenant=? AND env=? AND name=?",
                     (scope.tenant, scope.env, name))
        return SinkConfig.parse(name, loads(row[0])) if row else None

    def find(self, scope: Scope, name: str) -> SinkConfig | None:
        try:
            return self.get(scope, name)
        except NotFound:
            return None

    def list(self, scope: Scope) -> builtins.list[SinkConfig]:
        with self.store.read() as tx:
            rows = tx.all("SELECT name, config FROM sinks WHERE tenant=? AND env=? ORDER BY name",
                          (scope.tenant, scope.env))
        return [SinkConfig.parse(name, loads(doc)) for name, doc in rows]

    def everywhere(self) -> builtins.list[tuple[Scope, SinkConfig]]:
        """Every enabled sink of every tenant environment: what a dispatcher process runs."""
        with self.store.read() as tx:
            rows = tx.all("SELECT tenant, env, name, config FROM sinks WHERE enabled=1 "
                          "ORDER BY tenant, env, name")
        return [(Scope(t, e), SinkConfig.parse(n, loads(doc))) for t, e, n, doc in rows]

    def named(self, name: str) -> builtins.list[tuple[Scope, SinkConfig]]:
        """Sinks with this name in any tenant (inbound webhooks find theirs by signature)."""
        with self.store.read() as tx:
            rows = tx.all("SELECT tenant, env, config FROM sinks WHERE name=? "
                          "ORDER BY tenant, env", (name,))
        return [(Scope(t, e), SinkConfig.parse(name, loads(doc))) for t, e, doc in rows]
