"""The DeliveryLog port in memory (tests, embedded mode); the SQL one belongs to the store."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence

from spendgate.webhooks.outbound.log import Attempt, Delivery, DeliveryStatus

DEFAULT_LEASE_MS = 60_000


class InMemoryDeliveryLog:
    def __init__(self, *, lease_ms: int = DEFAULT_LEASE_MS) -> None:
        self._lease_ms = lease_ms
        self._lock = threading.Lock()
        self._deliveries: dict[str, Delivery] = {}
        self._attempts: dict[str, list[Attempt]] = {}

    def add(self, deliveries: Sequence[Delivery]) -> int:
        with self._lock:
            added = 0
            for d in deliveries:
                if d.id not in self._deliveries:
                    self._deliveries[d.id] = d
                    self._attempts[d.id] = []
                    added += 1
            return added

    def due(self, now_ms: int, limit: int) -> list[Delivery]:
        with self._lock:
            ready = sorted(
                (d for d in self._deliveries.values()
                 if d.status is DeliveryStatus.PENDING
                 and d.next_attempt_ms is not None and d.next_attempt_ms <= now_ms),
                key=lambda d: (d.next_attempt_ms or 0, d.created_ms, d.id),
            )[:limit]
            for d in ready:  # the lease: nobody else sees it until it lapses or is recorded
                self._deliveries[d.id] = dataclasses.replace(
                    d, next_attempt_ms=now_ms + self._lease_ms)
            return ready

    def record_attempt(
        self,
        delivery_id: str,
        *,
        status: DeliveryStatus,
        response_code: int | None,
        error: str | None,
        next_attempt_ms: int | None,
        attempted_ms: int,
        duration_ms: int,
    ) -> None:
        with self._lock:
            d = self._deliveries[delivery_id]
            number = d.attempts + 1
            self._deliveries[delivery_id] = dataclasses.replace(
                d, status=status, attempts=number, next_attempt_ms=next_attempt_ms)
            self._attempts[delivery_id].append(Attempt(
                delivery_id, number, attempted_ms, status, response_code, error, duration_ms,
                next_attempt_ms,
            ))

    def attempts(self, delivery_id: str) -> list[Attempt]:
        with self._lock:
            return list(self._attempts.get(delivery_id, ()))

    def get(self, delivery_id: str) -> Delivery:
        with self._lock:
            return self._deliveries[delivery_id]

    def all(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries.values())

    def next_due_ms(self) -> int | None:
        """When the earliest pending delivery is due (tests use it to move a manual clock)."""
        with self._lock:
            times = [d.next_attempt_ms for d in self._deliveries.values()
                     if d.status is DeliveryStatus.PENDING and d.next_attempt_ms is not None]
            return min(times) if times else None
