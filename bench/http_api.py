"""HTTP API: reserve+commit round trips against the framework's floor, on a real server.

    python bench/http_api.py [--seconds 6] [--connections 16]

(Named http_api.py, not http.py: a bench/http.py would shadow the standard library's `http`
package for every script in this folder, breaking `python bench/ledger.py`.)

Starts `spendgate serve` (uvicorn, one process, SQLite durable: synchronous=FULL) on a free
loopback port and drives it from this process with a minimal keep-alive HTTP/1.1 client
(raw asyncio streams: the client costs a few microseconds a request, so the server is what
is measured). On the same server, side by side:

(a) floor:   GET /healthz, closed loop (the framework + middleware + uvicorn)
(b) spend:   POST /v1/reservations then POST /v1/reservations/{id}/commit, closed loop
(c) paced:   reserve+commit at a fixed 1 000 requests/s (500 cycles/s); reserve p50/p99

Throughput is requests per second; the target is (b) >= 50 % of (a), and at 1 000
requests/s a reserve p99 under 5 ms. The machine's cores are shared by server and client.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from spendgate.stores import open_store
from spendgate.tenancy import Directory


class Connection:
    """One keep-alive HTTP/1.1 connection; enough protocol for our own JSON answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 key: str) -> None:
        self.reader, self.writer = reader, writer
        self.auth = f"Authorization: Bearer {key}\r\n".encode()

    @classmethod
    async def open(cls, port: int, key: str) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, key)

    async def request(self, method: str, path: str, body: bytes | None = None
                      ) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n".encode() + self.auth
        if body is not None:
            head += (b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n")
        self.writer.write(head + b"\r\n" + (body or b""))
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


async def closed_loop(conns: list[Connection], seconds: float, work: object
                      ) -> tuple[int, list[float]]:
    stop = time.perf_counter() + seconds
    counts = [0] * len(conns)
    latencies: list[float] = []

    async def run(i: int, conn: Connection) -> None:
        while time.perf_counter() < stop:
            counts[i] += await work(i, conn, latencies)  # type: ignore[operator]

    await asyncio.gather(*[run(i, c) for i, c in enumerate(conns)])
    return sum(counts), latencies


async def paced(conns: list[Connection], seconds: float, rate: int, work: object
                ) -> tuple[int, list[float]]:
    """Each connection starts its next cycle on a fixed schedule (rate/len(conns) per s)."""
    interval = len(conns) / rate
    latencies: list[float] = []
    counts = [0] * len(conns)
    begin = time.perf_counter()
    elapsed: list[float] = []

    async def run(i: int, conn: Connection) -> None:
        due = begin + i * interval / len(conns)
        while due < begin + seconds:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            counts[i] += await work(i, conn, latencies)  # type: ignore[operator]
            due += interval

    await asyncio.gather(*[run(i, c) for i, c in enumerate(conns)])
    elapsed.append(time.perf_counter() - begin)
    # Requests per second over the time it really took (a server behind schedule runs late).
    return round(sum(counts) * seconds / elapsed[0]), latencies


async def healthz(i: int, conn: Connection, latencies: list[float]) -> int:
    status, _ = await conn.request("GET", "/healthz")
    assert status == 200, status
    return 1


def reserve_commit(orgs: int) -> object:
    async def work(i: int, conn: Connection, latencies: list[float]) -> int:
        body = json.dumps({"org": f"org-{i % orgs}", "project": "p", "user": "u",
                           "items": [{"ref": "job", "amount": "0.01"}]}).encode()
        started = time.perf_counter()
        status, answer = await conn.request("POST", "/v1/reservations", body)
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, answer
        res = json.loads(answer)
        assert res["status"] == "held", res
        status, answer = await conn.request(
            "POST", f"/v1/reservations/{res['id']}/commit",
            b'{"items": [{"ref": "job", "amount": "0.008"}]}')
        assert status == 200, answer
        return 2

    return work


async def drive(port: int, key: str, seconds: float, connections: int, orgs: int,
                pid: int) -> dict[str, object]:
    conns = [await Connection.open(port, key) for _ in range(connections)]
    try:
        for i in range(orgs):
            for method, path, body in (
                ("PUT", f"/v1/orgs/org-{i}", b"{}"),
                ("PUT", f"/v1/orgs/org-{i}/projects/p", b"{}"),
                ("PUT", f"/v1/orgs/org-{i}/projects/p/users/u", b"{}"),
                ("POST", f"/v1/orgs/org-{i}/grants", b'{"amount": "100000000"}'),
            ):
                status, answer = await conns[0].request(method, path, body)
                assert status in (200, 201), answer
        work = reserve_commit(orgs)
        await closed_loop(conns, 1.0, work)  # warm-up
        cpu0 = cpu_seconds(pid)
        floor_n, _ = await closed_loop(conns, seconds, healthz)
        cpu1 = cpu_seconds(pid)
        spend_n, spend_lat = await closed_loop(conns, seconds, work)
        cpu2 = cpu_seconds(pid)
        paced_n, paced_lat = await paced(conns[:8], seconds, 500, work)
    finally:
        for c in conns:
            c.close()
    floor_rps = floor_n / seconds
    spend_rps = spend_n / seconds
    return {
        "floor_healthz_rps": round(floor_rps),
        "reserve_commit_rps": round(spend_rps),
        "reserve_commit_cycles_per_s": round(spend_rps / 2),
        "ratio_reserve_commit_over_floor": round(spend_rps / floor_rps, 2),
        "closed_loop_reserve_p50_ms": round(statistics.median(spend_lat), 3),
        "closed_loop_reserve_p99_ms": round(percentile(spend_lat, 0.99), 3),
        "paced_reserves_per_s": round(paced_n / 2 / seconds),
        "paced_requests_per_s": round(paced_n / seconds),
        "paced_reserve_p50_ms": round(statistics.median(paced_lat), 3),
        "paced_reserve_p99_ms": round(percentile(paced_lat, 0.99), 3),
        "server_cpu_us_per_healthz": round((cpu1 - cpu0) / max(floor_n, 1) * 1e6),
        "server_cpu_us_per_reserve_or_commit": round((cpu2 - cpu1) / max(spend_n, 1) * 1e6),
        "connections": connections,
        "orgs": orgs,
        "seconds_per_phase": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--orgs", type=int, default=4)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-workers", action="store_true",
                        help="serve without the sink/webhook background loops")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = open_store(url)
        directory = Directory(store)
        directory.create_tenant("bench")
        _, key = directory.create_key("bench", "live", "admin")
        store.close()
        port = free_port()
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("spendgate")), "serve", "--port", str(port),
             "--database-url", url, "--log-level", args.log_level,
             *(["--no-workers"] if args.no_workers else [])],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "SPENDGATE_RATE_LIMIT_PER_S": "0"})
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.05)
            result = asyncio.run(drive(port, key, args.seconds, args.connections, args.orgs,
                                       server.pid))
        finally:
            server.terminate()
            server.wait(timeout=15)
            log.close()
    result["cpu_cores"] = os.cpu_count()
    result["store"] = "sqlite durable (synchronous=FULL), one uvicorn process"
    print(f"{'(a) floor GET /healthz':40} {result['floor_healthz_rps']:>8} req/s")
    print(f"{'(b) reserve+commit, closed loop':40} {result['reserve_commit_rps']:>8} req/s  "
          f"({result['ratio_reserve_commit_over_floor']:.0%} of the floor)  reserve p50 "
          f"{result['closed_loop_reserve_p50_ms']} ms  p99 {result['closed_loop_reserve_p99_ms']}"
          " ms")
    print(f"{'(c) reserve+commit paced at 1000 req/s':40} {result['paced_requests_per_s']:>8} "
          f"req/s  reserve p50 {result['paced_reserve_p50_ms']} ms  p99 "
          f"{result['paced_reserve_p99_ms']} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
