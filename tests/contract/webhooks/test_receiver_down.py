"""A receiver that is down for a while still gets every event, once per event id.

Real HTTP on 127.0.0.1 and real time: the retry schedule is shortened to milliseconds so
the receiver can check signatures with the standardwebhooks and svix libraries' own
verifiers, which read the wall clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import svix.webhooks
from standardwebhooks.webhooks import Webhook

from spendgate.domain.clock import SystemClock
from spendgate.webhooks.outbound import (
    Deliverer,
    DeliveryStatus,
    Endpoint,
    InMemoryDeliveryLog,
    RetrySchedule,
    fan_out,
    generate_secret,
    reservation_expired,
)

SECRET = generate_secret()


class Receiver:
    """The tenant's product: verifies, dedups by webhook-id, counts what it processed."""

    def __init__(self, port: int, *, refuse_first: int, slow_event: str | None) -> None:
        self.processed: dict[str, int] = {}
        self.duplicates = 0
        self.refused = 0
        self.requests = 0
        self.unverified = 0
        self._refuse_first = refuse_first
        self._slow_event = slow_event
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = receiver.handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.requests += 1
            if self.requests <= self._refuse_first:
                self.refused += 1
                return 503
        try:
            Webhook(SECRET).verify(body, headers)
            svix.webhooks.Webhook(SECRET).verify(body, headers)
        except Exception:
            with self._lock:
                self.unverified += 1
            return 400
        msg_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        with self._lock:
            if msg_id in self.processed:
                self.duplicates += 1
                return 200
            self.processed[msg_id] = self.processed.get(msg_id, 0) + 1
            slow = msg_id == self._slow_event
            if slow:
                self._slow_event = None
        if slow:
            time.sleep(0.6)  # processed, but the answer comes after the sender gave up
        return 200

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def test_a_receiver_that_is_down_for_a_while_gets_every_event_once(http: httpx.Client) -> None:
    # Find a free port, then leave it closed: the receiver is down.
    probe = Receiver(0, refuse_first=0, slow_event=None)
    port = probe.port
    probe.stop()

    clock, log = SystemClock(), InMemoryDeliveryLog()
    endpoint = Endpoint("we_1", "t1", "live", f"http://127.0.0.1:{port}/hooks",
                        frozenset({"reservation.expired"}), (SECRET,))
    events = [
        reservation_expired(reservation_id=f"res_{i}", org="acme", project=None, user=None,
                            amount=i * 10**9, expired_ms=clock.now_ms(), now_ms=clock.now_ms())
        for i in range(20)
    ]
    for event in events:
        log.add(fan_out(event, [endpoint], now_ms=clock.now_ms()))
    deliverer = Deliverer(
        log, http, clock, rng=random.Random(3), timeout_s=0.3,
        schedule=RetrySchedule.of([20, 40, 80, 160, 200, 200, 200, 200, 200, 200, 200, 200]),
    )

    down_rounds = 0
    down_until = time.monotonic() + 0.3
    while time.monotonic() < down_until:
        down_rounds += deliverer.run_once().attempted
        time.sleep(0.02)
    assert down_rounds >= 20  # every event was tried while the receiver was down
    assert all(d.status is DeliveryStatus.PENDING for d in log.all())

    # Back up, but answering 503 for a while, and slow to acknowledge one event.
    receiver = Receiver(port, refuse_first=15, slow_event=events[7].id)
    try:
        deadline = time.monotonic() + 20
        while any(d.status is DeliveryStatus.PENDING for d in log.all()):
            assert time.monotonic() < deadline, "deliveries still pending"
            deliverer.run_once()
            time.sleep(0.02)
    finally:
        receiver.stop()

    assert all(d.status is DeliveryStatus.SUCCEEDED for d in log.all())
    assert receiver.unverified == 0
    assert receiver.refused == 15
    assert set(receiver.processed) == {e.id for e in events}
    assert set(receiver.processed.values()) == {1}  # once per event id
    assert receiver.duplicates >= 1  # the unacknowledged one came again and was deduplicated
    slow = log.attempts(f"we_1:{events[7].id}")
    assert any(a.error and "Timeout" in a.error for a in slow)
    assert all(len(log.attempts(d.id)) >= 2 for d in log.all())
