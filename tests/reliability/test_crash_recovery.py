"""kill -9 in the middle of sustained reservations loses nothing acknowledged, doubles nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from spendgate.domain.hierarchy import NodePath
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import Commit, CommitItem, Idem, ItemRequest, Reserve
from spendgate.ledger.engine import Ledger
from spendgate.stores import open_store
from tests.reliability import workload
from tests.reliability.invariants import replay_admissions

ROOT = Path(__file__).resolve().parents[2]


def _run_and_kill(url: str, acks_before_kill: int) -> list[list[str]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.crash_worker", url],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout is not None
    acks: list[list[str]] = []
    for line in child.stdout:
        acks.append(line.split())
        if len(acks) >= acks_before_kill:
            os.kill(child.pid, signal.SIGKILL)
            break
    acks.extend(line.split() for line in child.stdout)  # printed before the kill landed
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return acks


@pytest.mark.slow
def test_acknowledged_operations_survive_kill_9_exactly_once(store_url: str) -> None:
    store = open_store(store_url)
    with Ledger(store) as ledger:
        workload.seed(ledger)
    acks = _run_and_kill(store_url, 400)
    assert len(acks) >= 400

    with Ledger(store) as ledger:
        for op, tag, res_id, *_status in acks:
            res = ledger.get_reservation(workload.SCOPE, res_id)
            if op == "C":
                assert res.status == "committed", f"acknowledged commit {tag} was lost"
                again = ledger.execute(workload.SCOPE, Commit(
                    workload.ORG, res_id, (CommitItem("i0", Charge(900)),)),
                    Idem(f"c-{tag}", f"c-{tag}"))
                assert again.replayed and again.value.status == "committed"
            else:
                path = res.path
                again = ledger.execute(workload.SCOPE, Reserve(
                    path, (ItemRequest("i0", (Charge(1000),)),), 600_000),
                    Idem(f"r-{tag}", f"r-{tag}"))
                assert again.replayed and again.value.id == res_id, "a retry would double it"
        assert ledger.verify() == []
        with store.read() as tx:
            holds = tx.all("SELECT ref, COUNT(*) FROM journal WHERE kind='hold' GROUP BY ref "
                           "HAVING COUNT(*) > 1")
            spends = tx.all("SELECT ref, COUNT(*) FROM journal WHERE kind='spend' GROUP BY ref "
                            "HAVING COUNT(*) > 1")
            events = tx.one("SELECT COUNT(*) FROM usage_events")[0]
            commits = tx.one("SELECT COUNT(*) FROM reservations WHERE status='committed'")[0]
        assert holds == [] and spends == []
        assert events == commits, "one usage event per committed item, none lost or doubled"
        # The restarted ledger keeps working.
        res = ledger.reserve(workload.SCOPE, Reserve(
            NodePath(workload.ORG, "p1", "u0"),
            (ItemRequest("i0", (Charge(1000),)),), 60_000))
        assert res.status == "held"
    _, violations = replay_admissions(store, workload.SCOPE, workload.ORG)
    assert violations == []
    store.close()
