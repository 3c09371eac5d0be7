"""The outbound event catalogue and its bodies: {"type", "timestamp", "data"} (Standard Webhooks).

An event's id is minted once, when the change that causes it writes its outbox row; it is
the `webhook-id` of every attempt to every endpoint, so receivers dedup on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import orjson

from spendgate.domain.clock import ms_to_rfc3339, rfc3339_to_ms
from spendgate.domain.ids import new_id
from spendgate.domain.money import format_credits
from spendgate.webhooks.signals import BalanceAlert

LIMIT_THRESHOLD_REACHED = "limit.threshold_reached"
LIMIT_EXCEEDED = "limit.exceeded"
WALLET_LOW_BALANCE = "wallet.low_balance"
ORG_SUSPENDED = "org.suspended"
ORG_REINSTATED = "org.reinstated"
RESERVATION_EXPIRED = "reservation.expired"
SINK_DEAD_LETTERED = "sink.dead_lettered"
RECONCILIATION_DISCREPANCY = "reconciliation.discrepancy"
PING = "webhook.ping"  # sent by `spendgate webhooks test`; never subscribed to

CATALOGUE: frozenset[str] = frozenset({
    LIMIT_THRESHOLD_REACHED, LIMIT_EXCEEDED, WALLET_LOW_BALANCE, ORG_SUSPENDED,
    ORG_REINSTATED, RESERVATION_EXPIRED, SINK_DEAD_LETTERED, RECONCILIATION_DISCREPANCY,
})

JsonValue = str | int | bool | None | list["JsonValue"] | Mapping[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class OutboundEvent:
    id: str  # "evt_...": the webhook-id
    type: str
    created_ms: int
    data: Mapping[str, JsonValue] = field(hash=False)

    def body(self) -> bytes:
        """The exact bytes signed and sent (compact JSON, keys sorted, no floats)."""
        return orjson.dumps(
            {"type": self.type, "timestamp": ms_to_rfc3339(self.created_ms), "data": self.data},
            option=orjson.OPT_SORT_KEYS,
        )

    @classmethod
    def from_body(cls, event_id: str, body: bytes) -> OutboundEvent:
        """Rebuild an event from the bytes an outbox row stored (the inverse of `body`)."""
        doc = orjson.loads(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
            raise ValueError("not an outbound event body")
        return cls(event_id, str(doc["type"]), rfc3339_to_ms(doc["timestamp"], "timestamp"),
                   doc["data"])


def new_event(type_: str, data: Mapping[str, JsonValue], *, now_ms: int,
              event_id: str | None = None) -> OutboundEvent:
    if type_ not in CATALOGUE and type_ != PING:
        raise ValueError(f"unknown outbound event type: {type_}")
    return OutboundEvent(event_id or new_id("evt"), type_, now_ms, dict(data))


def _path(org: str, project: str | None, user: str | None) -> dict[str, JsonValue]:
    return {"org": org, "project": project, "user": user}


def limit_threshold_reached(
    *, limit_id: str, org: str, project: str | None, user: str | None, meter: str,
    threshold: Decimal, limit_amount: int, used: int, window_start_ms: int, now_ms: int,
) -> OutboundEvent:
    """`used` and `limit_amount` are integer billionths (nano-credits for meter "credits")."""
    return new_event(LIMIT_THRESHOLD_REACHED, {
        "limit_id": limit_id, **_path(org, project, user), "meter": meter,
        "threshold": format(threshold.normalize(), "f"),
        "amount": format_credits(limit_amount), "used": format_credits(used),
        "window_start": ms_to_rfc3339(window_start_ms),
    }, now_ms=now_ms)


def limit_exceeded(
    *, limit_id: str, org: str, project: str | None, user: str | None, meter: str,
    limit_amount: int, used: int, mode: str, window_start_ms: int, now_ms: int,
) -> OutboundEvent:
    return new_event(LIMIT_EXCEEDED, {
        "limit_id": limit_id, **_path(org, project, user), "meter": meter, "mode": mode,
        "amount": format_credits(limit_amount), "used": format_credits(used),
        "window_start": ms_to_rfc3339(window_start_ms),
    }, now_ms=now_ms)


def wallet_low_balance(
    *, org: str, kind: str, source: str, details: Mapping[str, str], now_ms: int,
    available: int | None = None,
) -> OutboundEvent:
    """`source` is "spendgate" or "sink:<name>" for an alert forwarded from a vendor."""
    return new_event(WALLET_LOW_BALANCE, {
        "org": org, "kind": kind, "source": source, "details": dict(details),
        "available": format_credits(available) if available is not None else None,
    }, now_ms=now_ms)


def org_suspended(*, org: str, reason: str, ref: str | None, now_ms: int) -> OutboundEvent:
    return new_event(ORG_SUSPENDED, {"org": org, "reason": reason, "ref": ref}, now_ms=now_ms)


def org_reinstated(*, org: str, ref: str | None, now_ms: int) -> OutboundEvent:
    return new_event(ORG_REINSTATED, {"org": org, "ref": ref}, now_ms=now_ms)


def reservation_expired(
    *, reservation_id: str, org: str, project: str | None, user: str | None, amount: int,
    expired_ms: int, now_ms: int,
) -> OutboundEvent:
    return new_event(RESERVATION_EXPIRED, {
        "reservation_id": reservation_id, **_path(org, project, user),
        "amount": format_credits(amount), "expired_at": ms_to_rfc3339(expired_ms),
    }, now_ms=now_ms)


def sink_dead_lettered(
    *, sink: str, usage_event_id: str, attempts: int, error: str, now_ms: int
) -> OutboundEvent:
    return new_event(SINK_DEAD_LETTERED, {
        "sink": sink, "usage_event_id": usage_event_id, "attempts": attempts, "error": error,
    }, now_ms=now_ms)


def reconciliation_discrepancy(data: Mapping[str, JsonValue], *, key: str,
                               now_ms: int) -> OutboundEvent:
    """A reconciliation run found differences beyond tolerance; one event per run (`key`)."""
    return new_event(RECONCILIATION_DISCREPANCY, data, now_ms=now_ms, event_id=_derived_id(key))


def ping(*, endpoint_id: str, now_ms: int) -> OutboundEvent:
    return new_event(PING, {"endpoint_id": endpoint_id}, now_ms=now_ms)


def forwarded_alert(signal: BalanceAlert, *, sink: str, now_ms: int) -> OutboundEvent:
    """A vendor's wallet / threshold alert, forwarded as `wallet.low_balance`.

    The event id derives from the inbound delivery, so re-processing it forwards nothing twice.
    """
    return new_event(WALLET_LOW_BALANCE, {
        "org": signal.org, "kind": signal.kind, "source": f"sink:{sink}",
        "details": dict(signal.details), "available": None,
    }, now_ms=now_ms, event_id=_derived_id(f"{sink}:{signal.key}"))


def stable_id(text: str) -> str:
    """An event id derived from a key, so producing the same event twice yields one id."""
    return "evt_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


_derived_id = stable_id
