"""The immutable usage event: what one commit or one ingested event recorded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from spendgate.domain.clock import ms_to_rfc3339
from spendgate.domain.money import format_credits

CREDITS_METER = "credits"


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One unit of usage that happened. Its id is every vendor's idempotency key."""

    id: str
    tenant: str
    env: str
    org: str
    project: str | None
    user: str | None
    meter: str
    timestamp_ms: int
    credits_nano: int
    quantities: Mapping[str, Decimal] = field(default_factory=dict)
    dimensions: Mapping[str, str] = field(default_factory=dict)
    rate_card: str | None = None
    rate_card_version: int | None = None
    reservation_id: str | None = None
    kind: str = "usage"  # "usage" | "adjustment"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "env": self.env,
            "org": self.org,
            "project": self.project,
            "user": self.user,
            "meter": self.meter,
            "timestamp": ms_to_rfc3339(self.timestamp_ms),
            "timestamp_ms": self.timestamp_ms,
            "credits": format_credits(self.credits_nano),
            "quantities": {k: str(v) for k, v in self.quantities.items()},
            "dimensions": dict(self.dimensions),
            "rate_card": self.rate_card,
            "rate_card_version": self.rate_card_version,
            "reservation_id": self.reservation_id,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UsageEvent:
        from spendgate.domain.money import parse_credits

        return cls(
            id=data["id"],
            tenant=data["tenant"],
            env=data["env"],
            org=data["org"],
            project=data.get("project"),
            user=data.get("user"),
            meter=data["meter"],
            timestamp_ms=int(data["timestamp_ms"]),
            credits_nano=parse_credits(
                data["credits"], allow_zero=True, allow_negative=True, field="credits"
            ),
            quantities={k: Decimal(v) for k, v in data.get("quantities", {}).items()},
            dimensions=dict(data.get("dimensions", {})),
            rate_card=data.get("rate_card"),
            rate_card_version=data.get("rate_card_version"),
            reservation_id=data.get("reservation_id"),
            kind=data.get("kind", "usage"),
        )
