"""The machinery every vendor stub shares: a threaded HTTP server, auth, fault injection
and a record of what was accepted (by the vendor's dedup key) and what was a duplicate."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

import orjson

FAULT_KINDS: Final = ("5xx", "429", "slow", "drop", "drop_after")
MAX_BODY: Final = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Faults:
    """Fail `rate` of the calls, picking a kind at random from `kinds` (seeded).

    5xx: a 500/502/503 before anything is stored.  429: Retry-After `retry_after_s`.
    slow: answer after `slow_s` (the call IS processed: a client that timed out lost the
    acknowledgement).  drop: close the connection without processing.  drop_after:
    process, then close without answering (the acknowledgement is lost).
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    slow_s: float = 1.0
    retry_after_s: int = 1

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any = None  # JSON-serialisable, or bytes, or None for an empty body
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return orjson.dumps(self.body)


class VendorStub:
    """Base of the stubs. Subclasses implement `handle` (under the stub's lock)."""

    vendor = "vendor"

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        faults: Faults | None = None,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.api_key = api_key
        self.faults = faults or Faults()
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, ...], dict[str, Any]] = {}
        self._duplicates = 0
        self._calls: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- what tests read -------------------------------------------------------------
    def key_of(self, row_key: tuple[str, ...]) -> str:
        """The idempotency key (the usage event id) of a stored row."""
        return row_key[0]

    def accepted(self) -> dict[str, dict[str, Any]]:
        """Stored events by idempotency key (one entry per key)."""
        with self._lock:
            return {self.key_of(k): dict(v) for k, v in self._rows.items()}

    def stored_rows(self) -> int:
        """Rows the vendor would count: more than len(accepted()) means double counting."""
        with self._lock:
            return len(self._rows)

    @property
    def duplicates(self) -> int:
        with self._lock:
            return self._duplicates

    def calls(self) -> dict[str, int]:
        """Answers given, by kind: "202", "429", "drop", ..."""
        with self._lock:
            return dict(self._calls)

    def now_ms(self) -> int:
        return self._now_ms()

    # ---- for subclasses --------------------------------------------------------------
    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        raise NotImplementedError

    def error_reply(self, status: int, message: str) -> Reply:
        return Reply(status, {"message": message})

    def rate_limit_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.faults.retry_after_s)}

    def store(self, key: tuple[str, ...], row: dict[str, Any]) -> bool:
        """Store a row under its dedup key (caller holds the lock); False if it was there."""
        if key in self._rows:
            self._duplicates += 1
            self._rows[key] = row  # the vendors that keep a repeat replace the earlier one
            return False
        self._rows[key] = row
        return True

    def count_duplicate(self, n: int = 1) -> None:
        self._duplicates += n

    # ---- serving ---------------------------------------------------------------------
    @contextlib.contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        """Run in-process; yields the base URL (http://127.0.0.1:PORT)."""
        url = self.start(port, host)
        try:
            yield url
        finally:
            self.stop()

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        server = _Server((host, port), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"{self.vendor}-stub", daemon=True,
        )
        self._thread.start()
        bound_host, bound_port = server.server_address[:2]
        return f"http://{bound_host!s}:{bound_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _pick_fault(self) -> str | None:
        """The fault for this call, if any; "5xx" comes back as "500", "502" or "503"."""
        with self._lock:
            if self.faults.rate and self._rng.random() < self.faults.rate:
                kind = self._rng.choice(self.faults.kinds)
                return str(self._rng.choice((500, 502, 503))) if kind == "5xx" else kind
            return None

    def _count(self, kind: str) -> None:
        with self._lock:
            self._calls[kind] = self._calls.get(kind, 0) + 1

    def _process(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        with self._lock:
            return self.handle(method, path, headers, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, dropped connection) is expected here."""


def _handler_for(stub: VendorStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"{stub.vendor}-stub"
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive answer.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(stub.error_reply(413, "request body too large; split the batch"))
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            fault = stub._pick_fault()
            if fault == "drop":
                stub._count("drop")
                self._drop()
                return
            if fault in ("500", "502", "503"):
                stub._count(fault)
                self._send(stub.error_reply(int(fault), "injected server error"))
                return
            if fault == "429":
                stub._count("429")
                reply = stub.error_reply(429, "rate limit exceeded")
                self._send(Reply(429, reply.body, stub.rate_limit_headers()))
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = stub._process(method, self.path, headers, body)
            if fault == "drop_after":
                stub._count("drop_after")
                self._drop()
                return
            if fault == "slow":
                stub._count("slow")
                time.sleep(stub.faults.slow_s)
            stub._count(str(reply.status))
            with contextlib.suppress(OSError):
                self._send(reply)

        def _send(self, reply: Reply) -> None:
            payload = reply.encoded()
            self.send_response(reply.status)
            if reply.body is not None:
                self.send_header("Content-Type", "application/json")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


def bearer_ok(headers: Mapping[str, str], api_key: str) -> bool:
    return headers.get("authorization", "") == f"Bearer {api_key}"


def parse_json(body: bytes) -> tuple[bool, Any]:
    try:
        return True, orjson.loads(body)
    except orjson.JSONDecodeError:
        return False, None


__all__ = ["FAULT_KINDS", "Faults", "Reply", "VendorStub", "bearer_ok", "parse_json"]
