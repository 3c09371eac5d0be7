"""A real `spendgate serve` process on a free loopback port, for end-to-end tests and benches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SPENDGATE = str(Path(sys.executable).with_name("spendgate"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, database_url: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the spendgate CLI; stdout and stderr captured as text."""
    return subprocess.run([SPENDGATE, *args, "--database-url", database_url],
                          capture_output=True, text=True, check=check, timeout=60,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serve(database_url: str, log: Path, *, extra: Sequence[str] = (),
          env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SPENDGATE, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--database-url", database_url, *extra],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"spendgate serve did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield Server(url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
