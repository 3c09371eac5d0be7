"""The sink port: what an adapter promises, what it signals, and the outbox it is fed from.

Delivery is at least once; the vendor-side idempotency key (the usage event's id) turns it
into exactly-once effect. A sink never retries on its own: it raises `RetryLater` and the
dispatcher decides when to try again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from spendgate.errors import InvalidRequest, SpendgateError
from spendgate.metering.events import UsageEvent


class SinkError(SpendgateError):
    """A delivery to a sink did not happen."""

    code = "sink_error"


class RetryLater(SinkError):
    """A transient failure (5xx, 429, timeout, connection): try the same batch again later."""

    code = "sink_retry_later"

    def __init__(self, reason: str, *, after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after_s = after_s


class PermanentFailure(SinkError):
    """What will never succeed as sent. `event_ids` names the bad events of the batch.

    The other events of the batch were delivered when `others_delivered` is true; otherwise
    their fate is unknown and the dispatcher delivers them again (safe: idempotent).
    """

    code = "sink_permanent_failure"

    def __init__(
        self, reason: str, event_ids: Sequence[str], *, others_delivered: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_ids = tuple(event_ids)
        self.others_delivered = others_delivered


class InvalidMapping(InvalidRequest):
    """A usage event cannot become a valid vendor event; caught before anything is sent."""

    code = "invalid_mapping"

    def __init__(self, event_id: str, field: str, problem: str) -> None:
        super().__init__(f"event {event_id}: {field} {problem}", param=field)
        self.event_id = event_id
        self.field = field


@runtime_checkable
class Sink(Protocol):
    """One configured destination. `name` is the configured sink name (the outbox key)."""

    @property
    def name(self) -> str: ...

    @property
    def max_batch(self) -> int: ...

    def deliver(self, events: Sequence[UsageEvent]) -> None:
        """Deliver all events or raise RetryLater / PermanentFailure; never retries itself."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One pending delivery of one usage event to one sink."""

    seq: int
    sink: str
    event: UsageEvent
    attempts: int
    next_attempt_ms: int


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a sink still has to deliver: for `lag_events` and `lag_seconds`."""

    events: int
    oldest_enqueued_ms: int | None


class Outbox(Protocol):
    """What the dispatcher drains. Implemented in memory here and in SQL by the stores.

    Invariants: `claim` returns only messages of `sink` whose next_attempt_ms <= now_ms and
    that are neither acked nor dead, ordered by seq, and hides them from other claimers
    until acked, retried or dead-lettered (a lease; a crashed worker's lease expires and
    the message is claimed again, which is safe because delivery is idempotent).
    """

    def claim(self, sink: str, limit: int, now_ms: int) -> list[OutboxMessage]: ...

    def ack(self, sink: str, seqs: Sequence[int]) -> None: ...

    def retry(self, sink: str, seqs: Sequence[int], next_attempt_ms: int, error: str) -> None:
        """Count one more attempt and make the messages claimable again at next_attempt_ms."""
        ...

    def dead_letter(self, sink: str, seqs: Sequence[int], error: str) -> None: ...

    def backlog(self, sink: str) -> Backlog: ...


__all__ = [
    "Backlog",
    "InvalidMapping",
    "Outbox",
    "OutboxMessage",
    "PermanentFailure",
    "RetryLater",
    "Sink",
    "SinkError",
]
