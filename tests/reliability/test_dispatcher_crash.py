"""50 000 events, three faulty vendors, a dispatcher killed twice: each event lands once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import DirectUsage, RecordUsage, UpsertOrg, UpsertProject
from spendgate.ledger.engine import Ledger
from spendgate.sinks import SinkConfig
from spendgate.sinks.stubs import Faults, FlexpriceStub, LagoStub, MetronomeStub, VendorStub
from spendgate.stores import open_store
from spendgate.stores.outbox import SqlOutbox
from spendgate.stores.sinks import SinkRepository

S = Scope("acme-inc", "live")
EVENTS = 50_000
ROOT = Path(__file__).resolve().parents[2]
FAULTS = ("5xx", "429", "drop", "drop_after", "slow")


def _start_dispatcher(url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "spendgate.workers", "--database-url", url, "--only", "sinks",
         "--interval", "0.05", "--backoff-base", "0.01", "--backoff-cap", "0.2",
         "--lease", "3"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _delivered(stubs: dict[str, VendorStub]) -> int:
    return min(stub.stored_rows() for stub in stubs.values())


@pytest.mark.slow
def test_every_event_reaches_every_vendor_once_through_faults_and_two_kill_9s(
        sqlite_url: str) -> None:
    url = sqlite_url
    faults = [Faults(rate=0.3, seed=seed, kinds=FAULTS, slow_s=0.3, retry_after_s=0)
              for seed in (1, 2, 3)]
    stubs: dict[str, VendorStub] = {
        "flexprice": FlexpriceStub(api_key="fp", faults=faults[0]),
        "metronome": MetronomeStub(api_key="mn", faults=faults[1]),
        "lago": LagoStub(api_key="lg", faults=faults[2]),
    }
    bases = {name: stub.start() for name, stub in stubs.items()}
    store = open_store(url)
    try:
        repo = SinkRepository(store)
        for name, key in (("flexprice", "fp"), ("metronome", "mn"), ("lago", "lg")):
            repo.put(S, SinkConfig.parse(name, {"type": name, "api_key": key,
                                                "base_url": bases[name],
                                                "options": {"timeout_ms": 200}}), 0)
        with Ledger(store) as ledger:
            ledger.upsert_org(S, UpsertOrg("acme", overdraft_limit=0))
            ledger.upsert_project(S, UpsertProject("acme", "studio"))
            now = int(time.time() * 1000) - 3_600_000
            for start in range(0, EVENTS, 1000):
                ledger.record_usage(S, RecordUsage("acme", tuple(
                    DirectUsage(f"evt-{i:05d}", NodePath("acme", "studio"), Charge(1000, usage={
                        "meter": "llm", "model": "gpt-4o", "output_tokens": i % 97}),
                        timestamp_ms=now + i) for i in range(start, start + 1000))))

        # Kill the dispatcher twice while it is mid-way, then let a third one finish.
        for target in (EVENTS // 5, EVENTS // 2):
            proc = _start_dispatcher(url)
            deadline = time.monotonic() + 300
            while _delivered(stubs) < target and time.monotonic() < deadline:
                time.sleep(0.2)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            assert proc.returncode == -signal.SIGKILL
        proc = _start_dispatcher(url)
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                if all(SqlOutbox(store, S).backlog(n).events == 0 for n in stubs):
                    break
                time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

        expected = {f"evt-{i:05d}" for i in range(EVENTS)}
        for name, stub in stubs.items():
            assert set(stub.accepted()) == expected, f"{name} is missing events"
            assert stub.stored_rows() == EVENTS, f"{name} counted an event twice"
            assert SqlOutbox(store, S).counts(name)["dead"] == 0
        calls = sum(sum(stub.calls().values()) for stub in stubs.values())
        assert calls > 3 * EVENTS // 1000, "faults forced retries"
    finally:
        for stub in stubs.values():
            stub.stop()
        store.close()
