"""An in-memory Outbox: for unit tests, simulations and the embedded single-process mode."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from spendgate.metering.events import UsageEvent
from spendgate.sinks.port import Backlog, OutboxMessage


@dataclass(slots=True)
class _Row:
    message: OutboxMessage
    enqueued_ms: int
    leased_until_ms: int = 0
    last_error: str | None = None


class MemoryOutbox:
    """Per-sink queues with leases, retries and a dead-letter list. Thread-safe."""

    def __init__(self, *, lease_ms: int = 60_000) -> None:
        self._lease_ms = lease_ms
        self._lock = threading.Lock()
        self._seq = 0
        self._pending: dict[str, dict[int, _Row]] = {}
        self._dead: dict[str, dict[int, _Row]] = {}
        self._acked: dict[str, int] = {}

    def add(self, sink: str, event: UsageEvent, now_ms: int) -> int:
        """Enqueue one event for one sink (a commit or a replay does this)."""
        with self._lock:
            self._seq += 1
            message = OutboxMessage(self._seq, sink, event, 0, now_ms)
            self._pending.setdefault(sink, {})[self._seq] = _Row(message, now_ms)
            return self._seq

    def add_many(self, sink: str, events: Iterable[UsageEvent], now_ms: int) -> list[int]:
        return [self.add(sink, event, now_ms) for event in events]

    def claim(self, sink: str, limit: int, now_ms: int) -> list[OutboxMessage]:
        with self._lock:
            rows = self._pending.get(sink, {})
            claimed: list[OutboxMessage] = []
            for seq in sorted(rows):
                row = rows[seq]
                if row.message.next_attempt_ms > now_ms or row.leased_until_ms > now_ms:
                    continue
                row.leased_until_ms = now_ms + self._lease_ms
                claimed.append(row.message)
                if len(claimed) >= limit:
                    break
            return claimed

    def ack(self, sink: str, seqs: Sequence[int]) -> None:
        with self._lock:
            rows = self._pending.get(sink, {})
            for seq in seqs:
                if rows.pop(seq, None) is not None:
                    self._acked[sink] = self._acked.get(sink, 0) + 1

    def retry(self, sink: str, seqs: Sequence[int], next_attempt_ms: int, error: str) -> None:
        with self._lock:
            rows = self._pending.get(sink, {})
            for seq in seqs:
                row = rows.get(seq)
                if row is None:
                    continue
                row.message = replace(
                    row.message,
                    attempts=row.message.attempts + 1,
                    next_attempt_ms=next_attempt_ms,
                )
                row.leased_until_ms = 0
                row.last_error = error

    def dead_letter(self, sink: str, seqs: Sequence[int], error: str) -> None:
        with self._lock:
            rows = self._pending.get(sink, {})
            dead = self._dead.setdefault(sink, {})
            for seq in seqs:
                row = rows.pop(seq, None)
                if row is None:
                    continue
                row.message = replace(row.message, attempts=row.message.attempts + 1)
                row.last_error = error
                dead[seq] = row

    def backlog(self, sink: str) -> Backlog:
        with self._lock:
            rows = self._pending.get(sink, {})
            oldest = min((row.enqueued_ms for row in rows.values()), default=None)
            return Backlog(len(rows), oldest)

    def redrive(self, sink: str, now_ms: int) -> int:
        """Move every dead-lettered message of `sink` back to pending, with attempts reset."""
        with self._lock:
            dead = self._dead.pop(sink, {})
            rows = self._pending.setdefault(sink, {})
            for seq, row in dead.items():
                row.message = replace(row.message, attempts=0, next_attempt_ms=now_ms)
                row.leased_until_ms = 0
                rows[seq] = row
            return len(dead)

    def dead(self, sink: str) -> list[tuple[OutboxMessage, str | None]]:
        with self._lock:
            rows = self._dead.get(sink, {})
            return [(rows[seq].message, rows[seq].last_error) for seq in sorted(rows)]

    def acked(self, sink: str) -> int:
        with self._lock:
            return self._acked.get(sink, 0)


__all__ = ["MemoryOutbox"]
