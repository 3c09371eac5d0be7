"""Outbound endpoints, deliveries and attempts, and the DeliveryLog port that stores them.

An outbox row (written in the same transaction as the change it announces) becomes one
Delivery per subscribed endpoint via `fan_out`; the store inserts them idempotently (the
delivery id is derived from endpoint and event), so re-running the fan-out after a crash
adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from spendgate.webhooks.outbound.events import CATALOGUE, OutboundEvent


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_ms
    SUCCEEDED = "succeeded"  # a 2xx was received
    FAILED = "failed"  # the retry schedule ran out


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    tenant: str
    env: str
    url: str
    events: frozenset[str]  # subscribed types; "*" for all
    secrets: tuple[str, ...] = field(repr=False)  # newest first; several while rotating
    enabled: bool = True

    def wants(self, event_type: str) -> bool:
        return self.enabled and (event_type in self.events or "*" in self.events)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str  # "<endpoint id>:<event id>"
    endpoint_id: str
    event_id: str  # the webhook-id
    event_type: str
    body: bytes = field(repr=False)
    url: str
    secrets: tuple[str, ...] = field(repr=False)  # the endpoint's, as of when `due` read it
    created_ms: int
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: str
    number: int  # 1-based
    attempted_ms: int
    status: DeliveryStatus  # the delivery's status after this attempt
    response_code: int | None
    error: str | None
    duration_ms: int
    next_attempt_ms: int | None


class DeliveryLog(Protocol):
    """Storage port for outbound deliveries and their attempts."""

    def add(self, deliveries: Sequence[Delivery]) -> int:
        """Insert the deliveries whose id is new; returns how many were inserted."""
        ...

    def due(self, now_ms: int, limit: int) -> list[Delivery]:
        """Claim up to `limit` pending deliveries with next_attempt_ms <= now_ms, oldest first.

        A claim must keep other deliverers off the row until `record_attempt` (e.g. SELECT
        ... FOR UPDATE SKIP LOCKED, or a lease that moves next_attempt_ms forward)."""
        ...

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
        """Append an attempt and set the delivery's status, attempts and next_attempt_ms."""
        ...

    def attempts(self, delivery_id: str) -> list[Attempt]: ...


def delivery_id(endpoint_id: str, event_id: str) -> str:
    return f"{endpoint_id}:{event_id}"


def fan_out(event: OutboundEvent, endpoints: Iterable[Endpoint], *, now_ms: int
            ) -> list[Delivery]:
    """One pending delivery per endpoint subscribed to the event's type, due now."""
    if event.type not in CATALOGUE:
        raise ValueError(f"not a catalogued event type: {event.type}")
    body = event.body()
    return [
        Delivery(
            id=delivery_id(ep.id, event.id), endpoint_id=ep.id, event_id=event.id,
            event_type=event.type, body=body, url=ep.url, secrets=ep.secrets,
            created_ms=now_ms, next_attempt_ms=now_ms,
        )
        for ep in endpoints if ep.wants(event.type)
    ]


__all__ = ["Attempt", "Delivery", "DeliveryLog", "DeliveryStatus", "Endpoint", "delivery_id",
           "fan_out"]
