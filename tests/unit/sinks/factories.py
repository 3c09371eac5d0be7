"""Usage events and configs for the sink tests."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from spendgate.metering.events import UsageEvent
from spendgate.sinks.config import SinkConfig


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def usage(
    n: int,
    *,
    prefix: str = "ev",
    orgs: tuple[str, ...] = ("org-a", "org-b"),
    meters: tuple[str, ...] = ("tokens", "credits"),
    at_ms: int | None = None,
    tenant: str = "acme",
) -> list[UsageEvent]:
    """n distinct events spread over orgs and meters, with exact fractional quantities."""
    base = now_ms() if at_ms is None else at_ms
    events = []
    for i in range(n):
        meter = meters[i % len(meters)]
        quantities = (
            {} if meter == "credits" else {"input_tokens": Decimal(i % 97) + Decimal("0.5")}
        )
        events.append(
            UsageEvent(
                id=f"{prefix}_{i:06d}",
                tenant=tenant,
                env="live",
                org=orgs[i % len(orgs)],
                project="proj-1",
                user=None,
                meter=meter,
                timestamp_ms=base - i,
                credits_nano=1_000_000_000 * (i % 5) + 150 + i,
                quantities=quantities,
                dimensions={"model": "gpt-x"},
            )
        )
    return events


def config(kind: str, **fields: Any) -> SinkConfig:
    name = str(fields.pop("name", f"{kind}-sink"))
    body: dict[str, Any] = {"type": kind}
    if kind != "nats":
        body["api_key"] = "test-key"
    body.update(fields)
    return SinkConfig.parse(name, body)
