"""The inbound pipeline the HTTP app and a worker call: receive (verify + store), then act.

`receive` runs inside POST /v1/webhooks/{sink}: it verifies, stores the delivery with its
verdict, and returns at once (2xx once stored; a duplicate is 2xx and stores nothing new).
`process_pending` runs asynchronously: it maps stored deliveries onto signals and hands
them to the ledger, which applies each idempotently by `signal.key`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from spendgate.domain.ids import new_id
from spendgate.webhooks.delivery import Scheme, VerifiedDelivery, parse_payload
from spendgate.webhooks.errors import WebhookRejected
from spendgate.webhooks.headers import Headers, as_headers, redact
from spendgate.webhooks.inbound import (
    DEFAULT_TOLERANCE_MS,
    NativePolicy,
    verify_flexprice_native,
    verify_lago,
    verify_metronome,
    verify_standard,
)
from spendgate.webhooks.mapping import OrgResolver, map_delivery
from spendgate.webhooks.signals import Ignored, Signal

Vendor = Literal["flexprice", "metronome", "lago"]

# A refused request's body is kept only this long: enough to diagnose, too little to abuse.
MAX_REJECTED_BODY = 64 * 1024


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class WebhookSource:
    """How one sink's vendor signs its webhooks: built by the app from the sink's config."""

    tenant: str
    env: str
    sink: str
    vendor: Vendor
    secrets: tuple[str, ...] = field(default=(), repr=False)  # whsec_..., Metronome, Lago HMAC
    public_keys: tuple[str, ...] = field(default=(), repr=False)  # Lago RS256, PEM or b64
    native: NativePolicy | None = None  # Flexprice unsigned deliveries: explicit opt-in only
    tolerance_ms: int = DEFAULT_TOLERANCE_MS
    lago_issuer: str | None = None


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One stored inbound request, accepted or not."""

    id: str
    tenant: str
    env: str
    sink: str
    vendor: Vendor
    received_ms: int
    headers: Mapping[str, str] = field(hash=False)  # redacted: no secrets
    body: bytes = field(repr=False)
    verdict: Verdict
    reason: str | None  # the error code of a refusal
    delivery_id: str | None  # the vendor's id; unique per (tenant, env, sink) when accepted
    event_type: str | None
    scheme: Scheme | None
    source_ip: str | None


@dataclass(frozen=True, slots=True)
class Receipt:
    record_id: str
    delivery_id: str
    event_type: str
    duplicate: bool  # already stored: answer 2xx, do nothing


class Inbox(Protocol):
    """Storage port for inbound deliveries (one row per request)."""

    def record(self, entry: InboundRecord) -> bool:
        """Store `entry`; for an accepted one, False (and nothing stored) when its
        (tenant, env, sink, delivery_id) is already there. Rejected entries are always stored."""
        ...

    def pending(self, limit: int) -> list[InboundRecord]:
        """Accepted entries not yet processed, oldest first."""
        ...

    def mark_processed(self, record_id: str, *, outcome: str, processed_ms: int) -> None: ...


def verify(
    source: WebhookSource,
    headers: Mapping[str, str],
    body: bytes,
    *,
    source_ip: str | None,
    now_ms: int,
) -> VerifiedDelivery:
    """Verify a request by the scheme its sink's vendor uses; raises WebhookRejected."""
    h = as_headers(headers)
    if source.vendor == "metronome":
        return verify_metronome(h, body, source.secrets, now_ms=now_ms,
                                tolerance_ms=source.tolerance_ms)
    if source.vendor == "lago":
        return verify_lago(h, body, public_keys=source.public_keys, hmac_keys=source.secrets,
                           now_ms=now_ms, issuer=source.lago_issuer)
    if _looks_signed(h) or source.native is None:
        return verify_standard(h, body, source.secrets, now_ms=now_ms,
                               tolerance_ms=source.tolerance_ms)
    return verify_flexprice_native(h, body, source_ip=source_ip or "", policy=source.native,
                                   now_ms=now_ms)


def receive(
    source: WebhookSource,
    headers: Mapping[str, str],
    body: bytes,
    *,
    source_ip: str | None,
    now_ms: int,
    inbox: Inbox,
) -> Receipt:
    """Verify and store one inbound request. Raises WebhookRejected (after storing the
    refusal) so the app answers 400; otherwise the app answers 2xx with the receipt."""
    h = as_headers(headers)
    secret_headers = [source.native.header] if source.native else []
    stored_headers = redact(h, secret_headers)
    try:
        delivery = verify(source, h, body, source_ip=source_ip, now_ms=now_ms)
    except WebhookRejected as exc:
        inbox.record(InboundRecord(
            id=new_id("whin"), tenant=source.tenant, env=source.env, sink=source.sink,
            vendor=source.vendor, received_ms=now_ms, headers=stored_headers,
            body=body[:MAX_REJECTED_BODY], verdict=Verdict.REJECTED, reason=exc.code,
            delivery_id=None, event_type=None, scheme=None, source_ip=source_ip,
        ))
        raise
    record = InboundRecord(
        id=new_id("whin"), tenant=source.tenant, env=source.env, sink=source.sink,
        vendor=source.vendor, received_ms=now_ms, headers=stored_headers, body=body,
        verdict=Verdict.ACCEPTED, reason=None, delivery_id=delivery.delivery_id,
        event_type=delivery.event_type, scheme=delivery.scheme, source_ip=source_ip,
    )
    inserted = inbox.record(record)
    return Receipt(record.id, delivery.delivery_id, delivery.event_type, duplicate=not inserted)


def signals_for(record: InboundRecord, resolve: OrgResolver) -> tuple[Signal, ...]:
    """Map a stored, accepted delivery onto signals (pure; the body was verified on receipt)."""
    if record.verdict is not Verdict.ACCEPTED or record.delivery_id is None:
        return (Ignored(record.event_type or "", "not an accepted delivery"),)
    delivery = VerifiedDelivery(
        delivery_id=record.delivery_id,
        event_type=record.event_type or "",
        payload=parse_payload(record.body),
        received_ms=record.received_ms,
        scheme=record.scheme or Scheme.STANDARD,
    )
    return map_delivery(record.vendor, delivery, resolve)


def process_pending(
    inbox: Inbox,
    *,
    resolver: Callable[[InboundRecord], OrgResolver],
    apply: Callable[[InboundRecord, Sequence[Signal]], None],
    now_ms: int,
    limit: int = 100,
) -> int:
    """Act on up to `limit` stored deliveries; returns how many were processed.

    `resolver(record)` gives the customer→org lookup for the record's tenant and sink.
    `apply` must be idempotent per `signal.key`: a crash between `apply` and
    `mark_processed` replays the delivery (at least once).
    """
    done = 0
    for record in inbox.pending(limit):
        signals = signals_for(record, resolver(record))
        apply(record, signals)
        outcome = ",".join(type(s).__name__ for s in signals)
        inbox.mark_processed(record.id, outcome=outcome, processed_ms=now_ms)
        done += 1
    return done


def _looks_signed(h: Headers) -> bool:
    return any(n in h for n in ("svix-signature", "webhook-signature", "svix-id", "webhook-id"))


class MemoryInbox:
    """The Inbox port in memory, for tests and the embedded mode's first steps."""

    def __init__(self) -> None:
        self.records: list[InboundRecord] = []
        self._keys: set[tuple[str, str, str, str]] = set()
        self._processed: dict[str, tuple[str, int]] = {}

    def record(self, entry: InboundRecord) -> bool:
        if entry.verdict is Verdict.ACCEPTED:
            if entry.delivery_id is None:
                raise ValueError("an accepted delivery needs a delivery id")
            key = (entry.tenant, entry.env, entry.sink, entry.delivery_id)
            if key in self._keys:
                return False
            self._keys.add(key)
        self.records.append(entry)
        return True

    def pending(self, limit: int) -> list[InboundRecord]:
        todo = [r for r in self.records
                if r.verdict is Verdict.ACCEPTED and r.id not in self._processed]
        return todo[:limit]

    def mark_processed(self, record_id: str, *, outcome: str, processed_ms: int) -> None:
        self._processed[record_id] = (outcome, processed_ms)

    def outcome(self, record_id: str) -> str | None:
        done = self._processed.get(record_id)
        return done[0] if done else None


__all__ = [
    "MAX_REJECTED_BODY",
    "InboundRecord",
    "Inbox",
    "MemoryInbox",
    "Receipt",
    "Vendor",
    "Verdict",
    "WebhookSource",
    "process_pending",
    "receive",
    "signals_for",
    "verify",
]
