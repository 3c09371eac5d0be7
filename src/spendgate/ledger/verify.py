"""Balances are a cache of the journal: recompute them and report every difference."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from spendgate.domain.hierarchy import Scope
from spendgate.ledger.book import (
    WALLET_DEBT,
    WALLET_HELD,
    grant_amount_account,
    grant_consumed_account,
    limit_held_account,
    limit_used_account,
)
from spendgate.stores.sql import SqlSession


@dataclass(frozen=True, slots=True)
class Problem:
    scope: Scope
    org: str
    account: str
    journal: int
    balance: int

    def __str__(self) -> str:
        return (f"{self.scope.tenant}/{self.scope.env}/{self.org} {self.account}: "
                f"journal says {self.journal}, balance says {self.balance}")


def verify_org(tx: SqlSession, scope: Scope, org: str) -> list[Problem]:
    book = tx.load_book(scope, org)
    sums: dict[str, int] = defaultdict(int)
    for entry in tx.journal(scope, org):
        for account, delta in entry.postings:
            sums[account] += delta
    expected: dict[str, int] = {WALLET_HELD: book.wallet_held, WALLET_DEBT: book.wallet_debt}
    for g in book.grants.values():
        expected[grant_amount_account(g.id)] = g.amount
        expected[grant_consumed_account(g.id)] = g.consumed
    for lim in book.limits.values():
        expected[limit_held_account(lim.id)] = lim.held
        expected[limit_used_account(lim.id, lim.window_start_ms)] = lim.used
    problems = [Problem(scope, org, acc, sums.get(acc, 0), bal)
                for acc, bal in sorted(expected.items()) if sums.get(acc, 0) != bal]
    # What is held must be exactly what open reservations say they hold.
    holds: dict[str, int] = defaultdict(int)
    for res in tx.open_reservations(scope, org):
        for account, amount in res.holds.items():
            holds[account] += amount
    for account in [WALLET_HELD, *(limit_held_account(i) for i in book.limits)]:
        if holds.get(account, 0) != expected[account]:
            problems.append(Problem(scope, org, f"{account} (open reservations)",
                                    holds.get(account, 0), expected[account]))
    for g in book.grants.values():
        if not 0 <= g.consumed <= g.amount:
            problems.append(Problem(scope, org, f"grant:{g.id} consumed out of range",
                                    g.consumed, g.amount))
    return problems
