"""Random reserve / commit / release / expire traffic on one hot org, from threads or processes."""

from __future__ import annotations

import random
import threading
from typing import Any

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.errors import Conflict
from spendgate.ledger.commands import (
    AddGrant,
    Commit,
    CommitItem,
    ItemRequest,
    PutLimit,
    Release,
    Reserve,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.ledger.engine import Ledger
from spendgate.stores import open_store

SCOPE = Scope("hot", "live")
ORG = "hot-org"
CREDIT = 10**9
PROJECTS = ("p0", "p1")
USERS = ("u0", "u1", "u2")


def seed(ledger: Ledger) -> None:
    """A hot org whose wallet and limits are small enough that traffic keeps hitting them."""
    ledger.upsert_org(SCOPE, UpsertOrg(ORG, overdraft_limit=5 * CREDIT))
    ledger.add_grant(SCOPE, AddGrant(ORG, 400 * CREDIT))
    ledger.put_limit(SCOPE, PutLimit("org-cap", NodePath(ORG), "credits", 300 * CREDIT,
                                     "lifetime", "hard"))
    for p in PROJECTS:
        ledger.upsert_project(SCOPE, UpsertProject(ORG, p))
        ledger.put_limit(SCOPE, PutLimit(f"{p}-cap", NodePath(ORG, p), "credits", 160 * CREDIT,
                                         "lifetime", "hard"))
        for u in USERS:
            ledger.upsert_user(SCOPE, UpsertUser(ORG, p, u))
            ledger.put_limit(SCOPE, PutLimit(f"{p}-{u}-cap", NodePath(ORG, p, u), "credits",
                                             60 * CREDIT, "lifetime", "hard"))
            ledger.put_limit(SCOPE, PutLimit(f"{p}-{u}-frames", NodePath(ORG, p, u), "frames",
                                             400 * CREDIT, "lifetime", "hard"))


def _thread(ledger: Ledger, rng: random.Random, ops: int, counts: dict[str, int],
            lock: threading.Lock) -> None:
    local: dict[str, int] = {}
    open_ids: list[str] = []
    done = 0
    while done < ops:
        path = NodePath(ORG, rng.choice(PROJECTS), rng.choice(USERS))
        if open_ids and rng.random() < 0.5:
            rid = open_ids.pop(rng.randrange(len(open_ids)))
            try:
                if rng.random() < 0.7:
                    actual = rng.randint(0, 3 * CREDIT // 10)
                    ledger.commit(SCOPE, Commit(ORG, rid, (CommitItem("i0", Charge(actual)),)))
                    local["commit"] = local.get("commit", 0) + 1
                else:
                    ledger.release(SCOPE, Release(ORG, rid))
                    local["release"] = local.get("release", 0) + 1
            except Conflict:  # it expired first: only a release is refused then
                local["late"] = local.get("late", 0) + 1
        else:
            items = tuple(
                ItemRequest(f"i{n}", tuple(
                    Charge(rng.randint(1, 3 * CREDIT // 10), {"frames": rng.randint(1, 8) * CREDIT})
                    for _ in range(rng.randint(1, 2))))
                for n in range(rng.randint(1, 3)))
            ttl = rng.choice((5, 50, 60_000))
            policy = rng.choice(("all_or_nothing", "partial"))
            res = ledger.reserve(SCOPE, Reserve(path, items, ttl, policy))
            local[res.status.value] = local.get(res.status.value, 0) + 1
            if res.open:
                open_ids.append(res.id)
        done += 1
    with lock:
        for k, v in local.items():
            counts[k] = counts.get(k, 0) + v
        counts["ops"] = counts.get("ops", 0) + done


def run(url: str, seed_value: int, threads: int, ops_per_thread: int) -> dict[str, int]:
    """Run `threads` threads on one Ledger of this process; returns counts by outcome."""
    store = open_store(url)
    ledger = Ledger(store)
    counts: dict[str, int] = {}
    lock = threading.Lock()
    workers = [threading.Thread(target=_thread, args=(ledger, random.Random(seed_value * 1000 + i),
                                                      ops_per_thread, counts, lock))
               for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    ledger.close()
    store.close()
    return counts


def run_in_process(args: tuple[str, int, int, int]) -> dict[str, Any]:
    return run(*args)
