"""The organization's credit pool: grants burned down by priority, then earliest expiry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_NEVER = 2**62


@dataclass(slots=True)
class Grant:
    """A credit grant; `consumed` moves in place inside the ledger, callers get copies."""

    id: str
    amount: int  # nano-credits
    consumed: int = 0
    priority: int = 100  # lower burns first
    effective_ms: int = 0
    expires_ms: int | None = None
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0

    @property
    def remaining(self) -> int:
        return self.amount - self.consumed

    def active(self, now_ms: int) -> bool:
        return self.effective_ms <= now_ms and (self.expires_ms is None or now_ms < self.expires_ms)

    def burn_key(self) -> tuple[int, int, int, int, str]:
        # Priority, then earliest expiry (never-expiring last), then the largest, then age.
        expiry = self.expires_ms if self.expires_ms is not None else _NEVER
        return (self.priority, expiry, -self.amount, self.created_ms, self.id)


@dataclass(frozen=True, slots=True)
class Burn:
    grant_id: str
    amount: int


def plan_burn(grants: Iterable[Grant], amount: int, now_ms: int) -> tuple[list[Burn], int]:
    """Which active grants pay `amount`, in burn order; the rest is returned as unpaid."""
    burns: list[Burn] = []
    left = amount
    for grant in sorted((g for g in grants if g.active(now_ms) and g.remaining > 0),
                        key=Grant.burn_key):
        if left == 0:
            break
        take = min(left, grant.remaining)
        burns.append(Burn(grant.id, take))
        left -= take
    return burns, left


@dataclass(frozen=True, slots=True)
class Balance:
    """available = granted_active - spent - held + overdraft_limit.

    `spent` is what active grants have paid plus the unpaid overdraft (debt).
    """

    granted: int
    spent: int
    held: int
    overdraft_limit: int
    debt: int
    remaining: int
    spent_lifetime: int

    @property
    def available(self) -> int:
        return self.granted - self.spent - self.held + self.overdraft_limit


def balance_of(
    grants: Iterable[Grant], held: int, debt: int, overdraft_limit: int, now_ms: int
) -> Balance:
    granted = consumed = remaining = lifetime = 0
    for g in grants:
        lifetime += g.consumed
        if g.active(now_ms):
            granted += g.amount
            consumed += g.consumed
            remaining += g.remaining
    return Balance(
        granted=granted,
        spent=consumed + debt,
        held=held,
        overdraft_limit=overdraft_limit,
        debt=debt,
        remaining=remaining,
        spent_lifetime=lifetime + debt,
    )
