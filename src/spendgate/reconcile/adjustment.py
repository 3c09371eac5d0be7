"""Adjustment usage events for the differences a reconciliation found.

Each event's id is a hash of the run's inputs and the group, so the same reconciliation yields
the same ids and applying it twice adds nothing. The caller journals them as adjustments.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Protocol

import orjson

from spendgate.domain.money import decimal_to_nano
from spendgate.errors import InvalidRequest
from spendgate.metering.events import CREDITS_METER, UsageEvent
from spendgate.reconcile.comparison import ANY, NO_PROJECT
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.mapping import CreditValue
from spendgate.reconcile.report import GroupComparison, Report
from spendgate.reconcile.rows import COST, GroupKey, Quantity

ADJUSTMENT = "adjustment"
# Prices a usage adjustment in nano-credits (the rate card's job); without one credits are 0.
Pricer = Callable[[GroupKey, Mapping[str, Quantity]], int]


class AdjustmentSink(Protocol):
    def apply(self, events: Sequence[UsageEvent]) -> int:
        """Record the events whose ids are new; return how many were new."""
        ...


class InMemoryAdjustmentSink:
    def __init__(self) -> None:
        self.events: dict[str, UsageEvent] = {}

    def apply(self, events: Sequence[UsageEvent]) -> int:
        new = 0
        for event in events:
            if event.id not in self.events:
                self.events[event.id] = event
                new += 1
        return new


class JsonLinesAdjustmentSink:
    """Appends new adjustment events to a JSON Lines journal, one write, flushed to disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def known_ids(self) -> set[str]:
        if not self.path.exists():
            return set()
        ids: set[str] = set()
        with open(self.path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        ids.add(orjson.loads(line)["id"])
                    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                        raise ReconcileInputError(
                            str(self.path), f"line {number}", "is not a usage event"
                        ) from exc
        return ids

    def apply(self, events: Sequence[UsageEvent]) -> int:
        known = self.known_ids()
        fresh = [e for e in events if e.id not in known]
        if not fresh:
            return 0
        data = b"".join(orjson.dumps(e.to_dict()) + b"\n" for e in fresh)
        with open(self.path, "ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return len(fresh)


def adjustment_id(run_id: str, key: GroupKey) -> str:
    text = "\x1f".join((run_id, str(key.period_ms), key.org, key.project, key.model, key.meter))
    return "adj_" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def adjustments(
    report: Report, *, tenant: str, env: str, price: Pricer | None = None,
    credit_value: CreditValue | None = None, cost_quantity: str = "provider_cost",
) -> list[UsageEvent]:
    """One event per group beyond tolerance, moving Spendgate's numbers onto the provider's."""
    if "org" not in report.grain.by:
        raise InvalidRequest("adjustments need a grain that keeps the org", param="by")
    events: list[UsageEvent] = []
    for group in report.discrepancies():
        event = _event(report, group, tenant, env, price, credit_value, cost_quantity)
        if event is not None:
            events.append(event)
    return events


def _event(report: Report, group: GroupComparison, tenant: str, env: str, price: Pricer | None,
           credit_value: CreditValue | None, cost_quantity: str) -> UsageEvent | None:
    key = group.key
    deltas: dict[str, Quantity] = {
        m.name: m.provider - m.spendgate for m in group.measures if m.provider != m.spendgate
    }
    if not deltas:
        return None
    dimensions = {"provider": report.provider, "reconciliation_run": report.run_id,
                  "reconciliation_status": group.status}
    if key.model != ANY:
        dimensions["model"] = key.model
    project = None if key.project in (ANY, NO_PROJECT) else key.project
    if key.meter == ANY:
        cost = Decimal(deltas.pop(COST, 0))
        if credit_value is not None:
            # Rounded once, here, to whole nano-credits, half to even.
            nano: int = decimal_to_nano(cost / credit_value.amount, rounding=ROUND_HALF_EVEN)
            quantities: dict[str, Decimal] = {}
        else:
            nano = 0
            quantities = {cost_quantity: cost}
        meter = CREDITS_METER
    else:
        quantities = {k: Decimal(v) for k, v in deltas.items()}
        nano = price(key, deltas) if price is not None else 0
        meter = key.meter
    return UsageEvent(
        id=adjustment_id(report.run_id, key), tenant=tenant, env=env, org=key.org,
        project=project, user=None, meter=meter, timestamp_ms=key.period_ms,
        credits_nano=nano, quantities=quantities, dimensions=dimensions, kind=ADJUSTMENT,
    )


__all__ = [
    "ADJUSTMENT",
    "AdjustmentSink",
    "InMemoryAdjustmentSink",
    "JsonLinesAdjustmentSink",
    "Pricer",
    "adjustment_id",
    "adjustments",
]
