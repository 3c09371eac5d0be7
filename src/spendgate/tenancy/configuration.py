"""A tenant's configuration as the hot path needs it: settings and rate cards, cached.

Writes go through `put_settings` / `add_version` inside the caller's transaction and
invalidate this process's cache; other processes see them after `ttl_s` seconds at most.
Rate card versions are immutable and scheduled, so a short staleness never mis-prices usage
whose version was created ahead of its effective time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from spendgate.domain.hierarchy import Scope
from spendgate.pricing import RateCard, RateCardVersion
from spendgate.stores.port import Store
from spendgate.stores.sql import SqlSession, dumps, loads
from spendgate.tenancy.settings import EnvSettings


class Configuration:
    def __init__(self, store: Store, *, ttl_s: float = 2.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._settings: dict[Scope, tuple[float, EnvSettings]] = {}
        self._cards: dict[tuple[Scope, str], tuple[float, RateCard | None]] = {}
        self._lock = threading.Lock()

    # ---- settings -------------------------------------------------------------------

    def cached_settings(self, scope: Scope) -> EnvSettings | None:
        """The settings if cached and fresh (no I/O: safe on an event loop), else None."""
        hit = self._settings.get(scope)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def settings(self, scope: Scope) -> EnvSettings:
        now = time.monotonic()
        hit = self._settings.get(scope)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.store.read() as tx:
            value = read_settings(tx, scope)
        self._settings[scope] = (now + self.ttl_s, value)
        return value

    def put_settings(self, tx: SqlSession, scope: Scope, value: EnvSettings, now_ms: int) -> None:
        tx.execute(
            "INSERT INTO env_settings (tenant, env, doc, updated_ms) VALUES (?,?,?,?) "
            "ON CONFLICT (tenant, env) DO UPDATE SET doc=excluded.doc, "
            "updated_ms=excluded.updated_ms",
            (scope.tenant, scope.env, dumps(value.to_dict()), now_ms))
        self.invalidate(scope)

    # ---- rate cards -----------------------------------------------------------------

    def rate_card(self, scope: Scope, card: str) -> RateCard | None:
        now = time.monotonic()
        hit = self._cards.get((scope, card))
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.store.read() as tx:
            value = read_card(tx, scope, card)
        self._cards[(scope, card)] = (now + self.ttl_s, value)
        return value

    def add_version(self, tx: SqlSession, scope: Scope, version: RateCardVersion,
                    now_ms: int) -> None:
        tx.execute(
            "INSERT INTO rate_card_versions (tenant, env, card, version, effective_ms, doc, "
            "created_ms) VALUES (?,?,?,?,?,?,?)",
            (scope.tenant, scope.env, version.card, version.version, version.effective_at_ms,
             dumps(version.to_dict()), now_ms))
        self.invalidate(scope)

    def invalidate(self, scope: Scope) -> None:
        with self._lock:
            self._settings.pop(scope, None)
            for key in [k for k in self._cards if k[0] == scope]:
                self._cards.pop(key, None)


def read_settings(tx: SqlSession, scope: Scope) -> EnvSettings:
    row = tx.one("SELECT doc FROM env_settings WHERE tenant=? AND env=?",
                 (scope.tenant, scope.env))
    return EnvSettings.from_dict(loads(row[0])) if row else EnvSettings()


def read_card(tx: SqlSession, scope: Scope, card: str) -> RateCard | None:
    rows = tx.all("SELECT doc FROM rate_card_versions WHERE tenant=? AND env=? AND card=? "
                  "ORDER BY version", (scope.tenant, scope.env, card))
    if not rows:
        return None
    versions: list[Any] = [RateCardVersion.from_dict(loads(r[0])) for r in rows]
    return RateCard(card, tuple(versions))
