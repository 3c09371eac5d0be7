"""Tenants and their API keys, over the store's `tenants` and `api_keys` tables."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from spendgate.domain.clock import Clock, SystemClock
from spendgate.domain.ids import check_env, check_id
from spendgate.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from spendgate.stores.port import Store
from spendgate.tenancy.keys import ApiKey, Role, digest, matches, new_secret, parse_secret


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant: str
    name: str
    created_ms: int


class Directory:
    """Creates tenants and keys, and turns a bearer secret into its ApiKey.

    Successful authentications are cached for `cache_s` seconds (a revoked key stops
    working within that time); a wrong secret is never cached.
    """

    def __init__(self, store: Store, clock: Clock | None = None, *, cache_s: float = 2.0) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, ApiKey]] = {}  # by digest, never by secret
        self._lock = threading.Lock()

    # ---- tenants --------------------------------------------------------------------

    def create_tenant(self, name: str) -> Tenant:
        tenant = check_id(name, "name")
        now = self.clock.now_ms()
        with self.store.transaction() as tx:
            if tx.one("SELECT 1 FROM tenants WHERE tenant=?", (tenant,)):
                raise Conflict(f"tenant {tenant!r} already exists", code="tenant_exists")
            tx.execute("INSERT INTO tenants (tenant, name, created_ms) VALUES (?,?,?)",
                       (tenant, name, now))
        return Tenant(tenant, name, now)

    def ensure_tenant(self, name: str) -> tuple[Tenant, bool]:
        """The tenant named `name`, created if missing; True when it was created."""
        try:
            return self.create_tenant(name), True
        except Conflict:
            return self.get_tenant(name), False

    def get_tenant(self, name: str) -> Tenant:
        with self.store.read() as tx:
            row = tx.one("SELECT tenant, name, created_ms FROM tenants WHERE tenant=?", (name,))
        if row is None:
            raise NotFound("tenant", name, param="tenant")
        return Tenant(row[0], row[1], row[2])

    def list_tenants(self) -> list[Tenant]:
        with self.store.read() as tx:
            rows = tx.all("SELECT tenant, name, created_ms FROM tenants ORDER BY tenant")
        return [Tenant(r[0], r[1], r[2]) for r in rows]

    # ---- keys -----------------------------------------------------------------------

    def create_key(self, tenant: str, env: str, role: str, name: str | None = None
                   ) -> tuple[ApiKey, str]:
        """A new key; the secret is returned once and only its digest is stored."""
        check_env(env)
        try:
            parsed_role = Role(role)
        except ValueError:
            raise InvalidRequest("role must be 'admin', 'service' or 'read'",
                                 param="role") from None
        self.get_tenant(tenant)
        key_id, secret = new_secret(env)
        key = ApiKey(key_id, tenant, env, parsed_role, name, self.clock.now_ms())
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO api_keys (key_id, tenant, env, role, secret_hash, name, "
                "created_ms, revoked_ms) VALUES (?,?,?,?,?,?,?,NULL)",
                (key.key_id, tenant, env, key.role.value, digest(secret), name, key.created_ms))
        return key, secret

    def list_keys(self, tenant: str) -> list[ApiKey]:
        with self.store.read() as tx:
            rows = tx.all("SELECT key_id, tenant, env, role, name, created_ms, revoked_ms "
                          "FROM api_keys WHERE tenant=? ORDER BY created_ms, key_id", (tenant,))
        return [ApiKey(r[0], r[1], r[2], Role(r[3]), r[4], r[5], r[6]) for r in rows]

    def revoke_key(self, key_id: str) -> None:
        with self.store.transaction() as tx:
            found = tx.one("SELECT 1 FROM api_keys WHERE key_id=?", (key_id,))
            if not found:
                raise NotFound("api key", key_id, param="key_id")
            tx.execute("UPDATE api_keys SET revoked_ms=? WHERE key_id=? AND revoked_ms IS NULL",
                       (self.clock.now_ms(), key_id))
        with self._lock:
            self._cache = {s: v for s, v in self._cache.items() if v[1].key_id != key_id}

    def count_keys(self) -> int:
        with self.store.read() as tx:
            return int(tx.one("SELECT COUNT(*) FROM api_keys")[0])

    def cached(self, secret: str) -> ApiKey | None:
        """The key behind `secret` if it authenticated recently (no I/O: safe on an event loop)."""
        hit = self._cache.get(digest(secret))
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def authenticate(self, secret: str) -> ApiKey:
        """The live key behind a bearer secret, or Unauthorized (never says which part failed)."""
        now = time.monotonic()
        hashed = digest(secret)
        cached = self._cache.get(hashed)
        if cached is not None and cached[0] > now:
            return cached[1]
        parsed = parse_secret(secret)
        if parsed is None:
            raise _unauthorized()
        env, key_id = parsed
        with self.store.read() as tx:
            row = tx.one("SELECT key_id, tenant, env, role, name, created_ms, revoked_ms, "
                         "secret_hash FROM api_keys WHERE key_id=?", (key_id,))
        if row is None or row[6] is not None or row[2] != env or not matches(secret, row[7]):
            raise _unauthorized()
        key = ApiKey(row[0], row[1], row[2], Role(row[3]), row[4], row[5], None)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[hashed] = (now + self.cache_s, key)
        return key


def _unauthorized() -> Unauthorized:
    return Unauthorized("the API key is missing, malformed, revoked or unknown; send "
                        "'Authorization: Bearer sk_live_...' (create one with "
                        "`spendgate keys create`)")
