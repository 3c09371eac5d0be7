"""Usage in and out: ingest through the API, dispatch to each vendor stub, lag under load,
and reservation latency with a hanging vendor. Baselines are measured in the same run.

    python bench/sinks.py [--events 20000]

(1) ingest: POST /v1/usage in batches of 1000 vs one event per request (the naive client)
(2) dispatch: outbox -> each vendor stub through its official SDK, batched vs one per call
(3) lag: outbox lag while a steady 5 000 events/s is ingested, the dispatcher in `serve`
(4) hot path: reserve p50/p99 with no sink, a healthy vendor, and a vendor that hangs
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import DirectUsage, RecordUsage, UpsertOrg, UpsertProject
from spendgate.ledger.engine import Ledger
from spendgate.sinks import SinkConfig
from spendgate.sinks.stubs import STUBS, Faults, FlexpriceStub
from spendgate.stores import open_store
from spendgate.stores.outbox import SqlOutbox
from spendgate.stores.sinks import SinkRepository
from spendgate.tenancy import Directory
from spendgate.workers import SinkWorkers

S = Scope("bench", "live")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`spendgate serve` on a fresh SQLite file, with an admin key."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.url = f"sqlite:///{tmp / (name + '.db')}"
        store = open_store(self.url)
        directory = Directory(store)
        directory.create_tenant("bench")
        self.key = directory.create_key("bench", "live", "admin")[1]
        store.close()
        self.port = free_port()
        self.log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("spendgate")), "serve", "--port",
             str(self.port), "--database-url", self.url, "--log-level", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "SPENDGATE_RATE_LIMIT_PER_S": "0"})
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.05)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60,
                                 headers={"Authorization": f"Bearer {self.key}"})

    def call(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, path, json=body)
        if r.status_code >= 300:
            raise SystemExit(f"{method} {path}: {r.status_code} {r.text}")
        return r.json()

    def seed(self) -> None:
        self.call("PUT", "/v1/orgs/acme", {})
        self.call("PUT", "/v1/orgs/acme/projects/studio", {})
        self.call("PUT", "/v1/orgs/acme/projects/studio/users/ana", {})
        self.call("POST", "/v1/orgs/acme/grants", {"amount": "1000000000"})

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=15)
        self.log.close()


def events(start: int, n: int) -> list[dict[str, Any]]:
    return [{"id": f"e{i}", "org": "acme", "project": "studio", "amount": "0.001"}
            for i in range(start, start + n)]


def ingest(server: Server, n: int) -> dict[str, float]:
    t = time.perf_counter()
    for start in range(0, n, 1000):
        server.call("POST", "/v1/usage", {"events": events(start, min(1000, n - start))})
    batched = n / (time.perf_counter() - t)
    single_n = min(1000, n // 10)
    t = time.perf_counter()
    for i in range(single_n):
        server.call("POST", "/v1/usage", {"events": events(10**7 + i, 1)})
    single = single_n / (time.perf_counter() - t)
    return {"batched_events_per_s": round(batched), "one_per_request_events_per_s": round(single)}


def dispatch(tmp: Path, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for vendor, cls in STUBS.items():
        for label, batch in (("batched", None), ("one_per_call", 1)):
            count = n if batch is None else min(n, 2000)
            stub = cls(api_key="k", faults=Faults())
            base = stub.start()
            store = open_store(f"sqlite:///{tmp / f'd-{vendor}-{label}.db'}")
            options = {} if batch is None else {"max_batch": batch}
            SinkRepository(store).put(S, SinkConfig.parse(vendor, {
                "type": vendor, "api_key": "k", "base_url": base, "options": options}), 0)
            with Ledger(store) as ledger:
                ledger.upsert_org(S, UpsertOrg("acme"))
                ledger.upsert_project(S, UpsertProject("acme", "studio"))
                now = int(time.time() * 1000) - 60_000
                for start in range(0, count, 1000):
                    ledger.record_usage(S, RecordUsage("acme", tuple(DirectUsage(
                        f"e{i}", NodePath("acme", "studio"), Charge(10**6, usage={
                            "meter": "llm", "model": "gpt-4o", "output_tokens": i}), now + i)
                        for i in range(start, min(start + 1000, count)))))
            workers = SinkWorkers(store)
            t = time.perf_counter()
            while SqlOutbox(store, S).backlog(vendor).events:
                workers.run_once()
            rate = count / (time.perf_counter() - t)
            workers.close()
            assert len(stub.accepted()) == count
            stub.stop()
            store.close()
            out[f"{vendor}_{label}_events_per_s"] = round(rate)
    return out


def lag_under_load(server: Server, seconds: float, rate: int) -> dict[str, float]:
    vendor = FlexpriceStub(api_key="k")
    base = vendor.start()
    server.call("PUT", "/v1/sinks/flex", {"type": "flexprice", "api_key": "k",
                                          "base_url": base})
    lags: list[int] = []
    sent = 0
    start = time.monotonic()
    next_sample = start
    while time.monotonic() - start < seconds:
        tick = time.monotonic()
        server.call("POST", "/v1/usage", {"events": events(2 * 10**7 + sent, rate // 10)})
        sent += rate // 10
        if time.monotonic() >= next_sample:
            lags.append(server.call("GET", "/v1/sinks/flex/status")["lag_events"])
            next_sample += 0.5
        time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
    achieved = sent / (time.monotonic() - start)
    drain = time.monotonic()
    while server.call("GET", "/v1/sinks/flex/status")["lag_events"] and \
            time.monotonic() - drain < 120:
        time.sleep(0.2)
    drained_s = time.monotonic() - drain
    vendor.stop()
    return {"offered_events_per_s": rate, "achieved_events_per_s": round(achieved),
            "lag_events_max": max(lags), "lag_events_p50": int(statistics.median(lags)),
            "drained_after_load_s": round(drained_s, 2), "delivered": len(vendor.accepted())}


def reserve_latency(server: Server, n: int) -> dict[str, float]:
    lat = []
    for i in range(n):
        t = time.perf_counter()
        res = server.call("POST", "/v1/reservations", {
            "org": "acme", "project": "studio", "user": "ana",
            "items": [{"ref": "a", "amount": "0.01"}]})
        lat.append(time.perf_counter() - t)
        server.call("POST", f"/v1/reservations/{res['id']}/commit",
                    {"items": [{"ref": "a", "amount": "0.01"}]})
        del i
    lat.sort()
    return {"reserve_p50_ms": round(statistics.median(lat) * 1000, 2),
            "reserve_p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--lag-seconds", type=float, default=8.0)
    ap.add_argument("--reserves", type=int, default=400)
    a = ap.parse_args()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = Server(tmp, "ingest")
        try:
            server.seed()
            print("(1) ingest through the API ...", flush=True)
            result["ingest"] = ingest(server, a.events)
        finally:
            server.close()
        print("(2) dispatch to each vendor stub ...", flush=True)
        result["dispatch"] = dispatch(tmp, a.events)
        server = Server(tmp, "lag")
        try:
            server.seed()
            print("(3) outbox lag under a steady 5 000 events/s ...", flush=True)
            result["lag"] = lag_under_load(server, a.lag_seconds, 5000)
        finally:
            server.close()
        print("(4) reserve latency: no sink vs a hanging vendor ...", flush=True)
        server = Server(tmp, "nosink")
        try:
            server.seed()
            result["hot_path_no_sink"] = reserve_latency(server, a.reserves)
        finally:
            server.close()
        healthy = FlexpriceStub(api_key="k")
        base = healthy.start()
        server = Server(tmp, "healthy")
        try:
            server.seed()
            server.call("PUT", "/v1/sinks/ok", {"type": "flexprice", "api_key": "k",
                                                "base_url": base})
            result["hot_path_healthy_vendor"] = reserve_latency(server, a.reserves)
        finally:
            server.close()
            healthy.stop()
        hang = FlexpriceStub(api_key="k", faults=Faults(rate=1.0, kinds=("slow",),
                                                         slow_s=30.0))
        base = hang.start()
        server = Server(tmp, "hang")
        try:
            server.seed()
            server.call("PUT", "/v1/sinks/hung", {"type": "flexprice", "api_key": "k",
                                                  "base_url": base,
                                                  "options": {"timeout_ms": 60_000}})
            result["hot_path_hanging_vendor"] = reserve_latency(server, a.reserves)
            result["hot_path_hanging_vendor"]["undelivered_while_hanging"] = server.call(
                "GET", "/v1/sinks/hung/status")["lag_events"]
        finally:
            server.close()
            hang.stop()
    ing, dis = result["ingest"], result["dispatch"]
    print(f"\n{'ingest batched (1000/request)':42} {ing['batched_events_per_s']:>9} ev/s   "
          f"baseline one per request {ing['one_per_request_events_per_s']} ev/s")
    for vendor in STUBS:
        print(f"{'dispatch ' + vendor + ' batched':42} {dis[vendor + '_batched_events_per_s']:>9}"
              f" ev/s   baseline one per call {dis[vendor + '_one_per_call_events_per_s']} ev/s")
    lag = result["lag"]
    print(f"{'lag at 5000 ev/s offered':42} max {lag['lag_events_max']} events, p50 "
          f"{lag['lag_events_p50']}, drained {lag['drained_after_load_s']} s after the load")
    print(f"{'reserve, no sink':42} p50 {result['hot_path_no_sink']['reserve_p50_ms']} ms  "
          f"p99 {result['hot_path_no_sink']['reserve_p99_ms']} ms")
    print(f"{'reserve, healthy vendor':42} p50 "
          f"{result['hot_path_healthy_vendor']['reserve_p50_ms']} ms  p99 "
          f"{result['hot_path_healthy_vendor']['reserve_p99_ms']} ms")
    print(f"{'reserve, vendor hanging':42} p50 "
          f"{result['hot_path_hanging_vendor']['reserve_p50_ms']} ms  p99 "
          f"{result['hot_path_hanging_vendor']['reserve_p99_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
