"""API keys: `sk_<env>_<id><secret>`, shown once, stored as a SHA-256 digest.

The key carries 256 random bits, so a fast digest is enough (no password stretching is
needed for secrets nobody chose); lookups go by the embedded id, and the digest is compared
in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from spendgate.domain.hierarchy import Scope

_ID_CHARS = 16


class Role(StrEnum):
    ADMIN = "admin"  # everything
    SERVICE = "service"  # reserve, commit, release, ingest, read
    READ = "read"  # read only

    def allows(self, needed: Role) -> bool:
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.READ: 0, Role.SERVICE: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    tenant: str
    env: str
    role: Role
    name: str | None = None
    created_ms: int = 0
    revoked_ms: int | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.tenant, self.env)


def new_secret(env: str) -> tuple[str, str]:
    """A fresh key for `env`: (key_id, the full secret to show once)."""
    token = secrets.token_hex(32)
    return key_id_of(token[:_ID_CHARS]), f"sk_{env}_{token}"


def key_id_of(prefix: str) -> str:
    return f"key_{prefix}"


def parse_secret(secret: str) -> tuple[str, str] | None:
    """(env, key_id) from a well-formed secret, else None."""
    for env in ("live", "test"):
        head = f"sk_{env}_"
        if secret.startswith(head):
            token = secret[len(head):]
            if len(token) == 64 and all(c in "0123456789abcdef" for c in token):
                return env, key_id_of(token[:_ID_CHARS])
    return None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
