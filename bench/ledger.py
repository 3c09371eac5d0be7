"""Ledger throughput and latency, side by side with per-request-transaction baselines.

    python bench/ledger.py [--pg postgresql://postgres@127.0.0.1:5432/test] [--seconds 8]

(a) Spendgate on SQLite, durable (synchronous=FULL), in-process, many client threads
(b) Spendgate on PostgreSQL, 16 concurrent clients on one hot org
(c) baseline: the same 3-row conditional update + hold insert as one transaction per request:
    pgbench with a custom script, the same SQL from Python on PostgreSQL, and on SQLite
(d) naive: SELECT ... FOR UPDATE of each level, check in Python, update, one tx per request
A cycle is a reserve plus its commit. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import psycopg

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import (
    AddGrant,
    Commit,
    CommitItem,
    ItemRequest,
    PutLimit,
    Reserve,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.ledger.engine import Ledger
from spendgate.stores import open_store

S = Scope("bench", "live")
PATH = NodePath("hot", "p", "u")
BIG = 10**17


def drive(clients: int, seconds: float, cycle: Callable[[], float]) -> dict[str, float]:
    """Run `cycle` (returns its reserve latency in s) from `clients` threads for `seconds`."""
    stop = time.perf_counter() + seconds
    lats: list[list[float]] = [[] for _ in range(clients)]

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            lats[i].append(cycle())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    flat = sorted(x for lst in lats for x in lst)
    return {
        "cycles_per_s": round(len(flat) / elapsed, 1),
        "reserve_p50_ms": round(statistics.median(flat) * 1000, 3),
        "reserve_p99_ms": round(flat[int(len(flat) * 0.99) - 1] * 1000, 3),
        "cycles": len(flat),
    }


def seed(ledger: Ledger) -> None:
    ledger.upsert_org(S, UpsertOrg("hot"))
    ledger.upsert_project(S, UpsertProject("hot", "p"))
    ledger.upsert_user(S, UpsertUser("hot", "p", "u"))
    ledger.add_grant(S, AddGrant("hot", BIG))
    for lid, path in (("org", NodePath("hot")), ("proj", NodePath("hot", "p")), ("user", PATH)):
        ledger.put_limit(S, PutLimit(lid, path, "credits", BIG, "lifetime", "hard"))


def spendgate(url: str, clients: int, seconds: float) -> dict[str, float]:
    store = open_store(url)
    with Ledger(store) as ledger:
        seed(ledger)
        item = (ItemRequest("i", (Charge(1000),)),)
        done = (CommitItem("i", Charge(900)),)

        def cycle() -> float:
            t0 = time.perf_counter()
            res = ledger.reserve(S, Reserve(PATH, item, 60_000))
            t1 = time.perf_counter()
            ledger.commit(S, Commit("hot", res.id, done))
            return t1 - t0

        out = drive(clients, seconds, cycle)
        out["verify_problems"] = len(ledger.verify())
    store.close()
    return out


BASE_SCHEMA = [
    "CREATE TABLE b_nodes (id INT PRIMARY KEY, held BIGINT NOT NULL, spent BIGINT NOT NULL, "
    "lim BIGINT NOT NULL)",
    "CREATE TABLE b_holds (id TEXT PRIMARY KEY, amount BIGINT NOT NULL, state TEXT NOT NULL)",
    f"INSERT INTO b_nodes VALUES (1, 0, 0, {BIG}), (2, 0, 0, {BIG}), (3, 0, 0, {BIG})",
]
RESERVE_SQL = [
    "UPDATE b_nodes SET held = held + 1000 WHERE id = 1 AND spent + held + 1000 <= lim",
    "UPDATE b_nodes SET held = held + 1000 WHERE id = 2 AND spent + held + 1000 <= lim",
    "UPDATE b_nodes SET held = held + 1000 WHERE id = 3 AND spent + held + 1000 <= lim",
]
# Rows are always touched in the same order (1, 2, 3), or the baseline deadlocks.
COMMIT_SQL = [f"UPDATE b_nodes SET held = held - 1000, spent = spent + 900 WHERE id = {i}"
              for i in (1, 2, 3)]


def baseline_pg(url: str, clients: int, seconds: float, naive: bool) -> dict[str, float]:
    local = threading.local()

    def conn() -> psycopg.Connection:
        if not hasattr(local, "c"):
            local.c = psycopg.connect(url, autocommit=False)
        c: psycopg.Connection = local.c
        return c

    def cycle() -> float:
        c = conn()
        hid = uuid.uuid4().hex
        t0 = time.perf_counter()
        if naive:
            rows = [c.execute("SELECT held, spent, lim FROM b_nodes WHERE id = %s FOR UPDATE",
                              (i,)).fetchone() for i in (1, 2, 3)]
            ok = all(r is not None and r[0] + r[1] + 1000 <= r[2] for r in rows)
            if ok:
                for i in (1, 2, 3):
                    c.execute("UPDATE b_nodes SET held = held + 1000 WHERE id = %s", (i,))
        else:
            ok = all(c.execute(sql).rowcount == 1 for sql in RESERVE_SQL)
        c.execute("INSERT INTO b_holds VALUES (%s, 1000, 'held')", (hid,))
        c.commit()
        t1 = time.perf_counter()
        for sql in COMMIT_SQL:
            c.execute(sql)
        c.execute("UPDATE b_holds SET state = 'spent' WHERE id = %s", (hid,))
        c.commit()
        assert ok
        return t1 - t0

    return drive(clients, seconds, cycle)


def baseline_sqlite(path: str, clients: int, seconds: float) -> dict[str, float]:
    local = threading.local()

    def conn() -> sqlite3.Connection:
        if not hasattr(local, "c"):
            c = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=FULL")
            local.c = c
        c2: sqlite3.Connection = local.c
        return c2

    def cycle() -> float:
        c = conn()
        hid = uuid.uuid4().hex
        t0 = time.perf_counter()
        c.execute("BEGIN IMMEDIATE")
        for sql in RESERVE_SQL:
            c.execute(sql)
        c.execute("INSERT INTO b_holds VALUES (?, 1000, 'held')", (hid,))
        c.execute("COMMIT")
        t1 = time.perf_counter()
        c.execute("BEGIN IMMEDIATE")
        for sql in COMMIT_SQL:
            c.execute(sql)
        c.execute("UPDATE b_holds SET state = 'spent' WHERE id = ?", (hid,))
        c.execute("COMMIT")
        return t1 - t0

    return drive(clients, seconds, cycle)


def pgbench(url: str, clients: int, seconds: float) -> dict[str, float] | None:
    if shutil.which("pgbench") is None:
        return None
    script = "\\set hid random(1, 1000000000)\nBEGIN;\n" + ";\n".join(RESERVE_SQL) + ";\n" + \
        "INSERT INTO b_holds VALUES (:hid || '-' || :client_id || '-' || random(), 1000, " \
        "'held') ;\nEND;\nBEGIN;\n" + ";\n".join(COMMIT_SQL) + ";\nEND;\n"
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    info = psycopg.conninfo.conninfo_to_dict(url)
    env = {**os.environ, "PGOPTIONS": info.pop("options", "")}
    args = ["pgbench", "-n", "-f", f.name, "-c", str(clients), "-j", "2", "-T",
            str(int(seconds)), "-h", str(info.get("host", "127.0.0.1")),
            "-p", str(info.get("port", 5432)), "-U", str(info.get("user", "postgres")),
            str(info.get("dbname", "test"))]
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=seconds + 60)
    os.unlink(f.name)
    tps = re.search(r"tps = ([0-9.]+)", out.stdout)
    lat = re.search(r"latency average = ([0-9.]+) ms", out.stdout)
    if tps is None:
        print(out.stdout, out.stderr, file=sys.stderr)
        return None
    return {"cycles_per_s": float(tps.group(1)),
            "cycle_latency_avg_ms": float(lat.group(1)) if lat else -1.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", default=os.environ.get("SPENDGATE_BENCH_PG",
                                                   "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--sqlite-clients", type=int, default=64)
    ap.add_argument("--pg-clients", type=int, default=16)
    a = ap.parse_args()
    results: dict[str, dict[str, float] | None] = {}
    tmp = Path(tempfile.mkdtemp(prefix="spendgate-bench-"))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(a.pg, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    pg = f"{a.pg}{'&' if '?' in a.pg else '?'}options=-csearch_path%3D{schema}"
    try:
        print(f"(a) spendgate sqlite durable, {a.sqlite_clients} threads ...", flush=True)
        results["a_spendgate_sqlite"] = spendgate(f"sqlite:///{tmp / 'sg.db'}",
                                                  a.sqlite_clients, a.seconds)
        print(f"(b) spendgate postgres, {a.pg_clients} clients on one hot org ...", flush=True)
        results["b_spendgate_postgres"] = spendgate(pg, a.pg_clients, a.seconds)
        with psycopg.connect(pg, autocommit=True) as c:
            for sql in BASE_SCHEMA:
                c.execute(sql)
        print("(c) baseline: pgbench, one transaction per request ...", flush=True)
        results["c_pgbench"] = pgbench(pg, a.pg_clients, a.seconds)
        print("(c) baseline: same SQL from Python on postgres ...", flush=True)
        results["c_python_postgres"] = baseline_pg(pg, a.pg_clients, a.seconds, naive=False)
        print("(c) baseline: same SQL on sqlite, durable ...", flush=True)
        sq = sqlite3.connect(tmp / "base.db")
        for sql in BASE_SCHEMA:
            sq.execute(sql)
        sq.commit()
        sq.close()
        results["c_sqlite"] = baseline_sqlite(str(tmp / "base.db"), a.sqlite_clients, a.seconds)
        print("(d) naive SELECT ... FOR UPDATE per level ...", flush=True)
        results["d_naive_for_update"] = baseline_pg(pg, a.pg_clients, a.seconds, naive=True)
    finally:
        with psycopg.connect(a.pg, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'workload':28} {'cycles/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in results.items():
        if r is None:
            print(f"{name:28} {'n/a':>10}")
            continue
        print(f"{name:28} {r['cycles_per_s']:>10.0f} {r.get('reserve_p50_ms', float('nan')):>8.3f} "
              f"{r.get('reserve_p99_ms', float('nan')):>8.3f}")
    a_, b_, cs, cp = (results[k] for k in ("a_spendgate_sqlite", "b_spendgate_postgres",
                                             "c_sqlite", "c_python_postgres"))
    pgb = results["c_pgbench"]
    summary = {
        **{k: v for k, v in results.items()},
        "ratio_a_over_c_sqlite": round(a_["cycles_per_s"] / cs["cycles_per_s"], 2)
        if a_ and cs else None,
        "ratio_b_over_c_python_postgres": round(b_["cycles_per_s"] / cp["cycles_per_s"], 2)
        if b_ and cp else None,
        "ratio_b_over_c_pgbench": round(b_["cycles_per_s"] / pgb["cycles_per_s"], 2)
        if b_ and pgb else None,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
