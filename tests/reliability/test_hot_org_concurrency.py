"""32 threads and 4 processes hammer one hot org; the ledger must never overspend."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from spendgate.ledger.engine import Ledger
from spendgate.stores import open_store
from tests.reliability import workload
from tests.reliability.invariants import replay_admissions

THREADS, PROCESSES, PROCESS_THREADS, OPS = 32, 4, 8, 320  # 20 480 operations in all


@pytest.mark.slow
def test_hot_org_under_threads_and_processes_never_overspends(store_url: str) -> None:
    store = open_store(store_url)
    with Ledger(store) as ledger:
        workload.seed(ledger)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        remote = pool.map_async(workload.run_in_process,
                                [(store_url, 100 + p, PROCESS_THREADS, OPS)
                                 for p in range(PROCESSES)])
        local: dict[str, int] = {}
        t = threading.Thread(target=lambda: local.update(workload.run(store_url, 1, THREADS, OPS)))
        t.start()
        t.join()
        results = [local, *remote.get(timeout=900)]
    total = sum(r["ops"] for r in results)
    assert total >= 20_000
    denied = sum(r.get("denied", 0) for r in results)
    assert denied > 0, "the workload must reach the limits to prove anything"

    with Ledger(store) as ledger:
        ledger.sweep()
        assert ledger.verify() == []
    holds, violations = replay_admissions(store, workload.SCOPE, workload.ORG)
    assert holds > 1000
    assert violations == []
    store.close()
