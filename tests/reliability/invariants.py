"""An independent check of the ledger: replay the journal, entry by entry, in order.

It trusts nothing the engine materialized: balances are rebuilt from postings, and after
every hold the admission invariant must hold for each account the hold touched.
"""

from __future__ import annotations

from collections import defaultdict

from spendgate.domain.hierarchy import Scope
from spendgate.stores.port import Store


def replay_admissions(store: Store, scope: Scope, org: str) -> tuple[int, list[str]]:
    """(holds checked, violations): spent + held <= limit and wallet >= 0 after every hold."""
    with store.read() as tx:
        book = tx.load_book(scope, org)
        entries = list(tx.journal(scope, org))
    overdraft = book.org.overdraft_limit if book.org else 0
    hard = {lim.id: lim.amount for lim in book.limits.values() if lim.hard}
    acct: dict[str, int] = defaultdict(int)
    violations: list[str] = []
    holds = 0
    seqs = [e.seq for e in entries]
    if seqs != list(range(1, len(entries) + 1)):
        violations.append("journal sequence has gaps or repeats")
    for entry in entries:
        for account, delta in entry.postings:
            acct[account] += delta
        if entry.kind != "hold":
            continue
        holds += 1
        touched = {a for a, _ in entry.postings}
        if "wallet.held" in touched:
            granted = sum(v for a, v in acct.items() if a.endswith(".amount"))
            consumed = sum(v for a, v in acct.items() if a.endswith(".consumed"))
            available = granted - consumed - acct["wallet.debt"] - acct["wallet.held"] + overdraft
            if available < 0:
                violations.append(f"entry {entry.seq}: wallet available {available} < 0")
        for account in touched:
            if not account.startswith("limit:") or not account.endswith(".held"):
                continue
            lid = account[6:-5]
            if lid not in hard:
                continue
            used = sum(v for a, v in acct.items() if a.startswith(f"limit:{lid}.used@"))
            if used + acct[account] > hard[lid]:
                violations.append(
                    f"entry {entry.seq}: limit {lid} used {used} + held {acct[account]} "
                    f"> {hard[lid]}")
    return holds, violations
