"""Reservations: held items, the decision about each, and what they settled to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from spendgate.domain.hierarchy import Level, NodePath


class DenyReason(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    LIMIT_EXCEEDED = "limit_exceeded"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Denied:
    """Why an item was not funded: a value the caller reads, not an error."""

    level: Level
    reason: DenyReason
    limit_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"level": self.level.value, "reason": self.reason.value}
        if self.limit_id is not None:
            out["limit_id"] = self.limit_id
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Denied:
        return cls(Level(data["level"]), DenyReason(data["reason"]), data.get("limit_id"))


@dataclass(frozen=True, slots=True)
class Charge:
    """What an option or an actual costs: credits plus meter quantities, all integers."""

    credits: int  # nano-credits
    quantities: dict[str, int] = field(default_factory=dict)  # billionths, by meter key
    usage: dict[str, Any] | None = None  # the usage object it was priced from
    rate_card: str | None = None
    rate_card_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "credits": self.credits,
            "quantities": self.quantities,
            "usage": self.usage,
            "rate_card": self.rate_card,
            "rate_card_version": self.rate_card_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Charge:
        return cls(
            credits=data["credits"],
            quantities=dict(data.get("quantities") or {}),
            usage=data.get("usage"),
            rate_card=data.get("rate_card"),
            rate_card_version=data.get("rate_card_version"),
        )


class ReservationStatus(StrEnum):
    HELD = "held"
    PARTIAL = "partial"
    DENIED = "denied"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


OPEN = (ReservationStatus.HELD, ReservationStatus.PARTIAL)


@dataclass(frozen=True, slots=True)
class Item:
    ref: str
    status: str  # "held" | "denied"
    option: int | None = None
    held: Charge | None = None
    denied_by: Denied | None = None
    charged: Charge | None = None  # set at commit
    event_id: str | None = None  # the usage event the commit wrote

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "status": self.status,
            "option": self.option,
            "held": self.held.to_dict() if self.held else None,
            "denied_by": self.denied_by.to_dict() if self.denied_by else None,
            "charged": self.charged.to_dict() if self.charged else None,
            "event_id": self.event_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        return cls(
            ref=data["ref"],
            status=data["status"],
            option=data.get("option"),
            held=Charge.from_dict(data["held"]) if data.get("held") else None,
            denied_by=Denied.from_dict(data["denied_by"]) if data.get("denied_by") else None,
            charged=Charge.from_dict(data["charged"]) if data.get("charged") else None,
            event_id=data.get("event_id"),
        )


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    path: NodePath
    policy: str
    status: ReservationStatus
    items: tuple[Item, ...]
    created_ms: int
    expires_ms: int
    # What the hold added to each account ("wallet.held", "limit:<id>.held"), to undo exactly.
    holds: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    settled_ms: int | None = None

    @property
    def open(self) -> bool:
        return self.status in OPEN

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org": self.path.org,
            "project": self.path.project,
            "user": self.path.user,
            "policy": self.policy,
            "status": self.status.value,
            "items": [i.to_dict() for i in self.items],
            "created_ms": self.created_ms,
            "expires_ms": self.expires_ms,
            "holds": self.holds,
            "metadata": self.metadata,
            "settled_ms": self.settled_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reservation:
        return cls(
            id=data["id"],
            path=NodePath(data["org"], data.get("project") or "", data.get("user") or ""),
            policy=data["policy"],
            status=ReservationStatus(data["status"]),
            items=tuple(Item.from_dict(i) for i in data["items"]),
            created_ms=data["created_ms"],
            expires_ms=data["expires_ms"],
            holds=dict(data.get("holds") or {}),
            metadata=dict(data.get("metadata") or {}),
            settled_ms=data.get("settled_ms"),
        )
