"""Reconciliation against the live store: metered usage from usage events, adjustments
journaled through the ledger (idempotent by event id)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.money import quantity_to_nano
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import DirectUsage, RecordUsage
from spendgate.ledger.engine import Ledger
from spendgate.metering import export
from spendgate.metering.events import UsageEvent
from spendgate.reconcile.metered import row_of_event
from spendgate.reconcile.rows import MeteredRow
from spendgate.stores.port import Store


class StoreMeteredUsage:
    """The MeteredUsage port over the usage_events table, streamed in pages."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self.store = store
        self.scope = scope

    def rows(self, from_ms: int, to_ms: int) -> Iterator[MeteredRow]:
        for event in export.events(self.store, self.scope, from_ms, to_ms):
            yield row_of_event(event)


class LedgerAdjustmentSink:
    """Adjustment events become journal entries of kind `adjustment`; replays add nothing."""

    def __init__(self, ledger: Ledger, scope: Scope) -> None:
        self.ledger = ledger
        self.scope = scope

    def apply(self, events: Sequence[UsageEvent]) -> int:
        by_org: dict[str, list[DirectUsage]] = defaultdict(list)
        for ev in events:
            usage: dict[str, object] = {"meter": ev.meter, **ev.dimensions, **ev.quantities}
            quantities = {ev.meter: 0}
            for name, value in ev.quantities.items():
                nano = quantity_to_nano(value, field=name)
                quantities[f"{ev.meter}.{name}"] = nano
                quantities[ev.meter] += nano
            by_org[ev.org].append(DirectUsage(
                ev.id, NodePath(ev.org, ev.project or "", ev.user or ""),
                Charge(ev.credits_nano, quantities, usage), ev.timestamp_ms, kind="adjustment"))
        return sum(self.ledger.record_usage(self.scope, RecordUsage(org, tuple(items)))[0]
                   for org, items in by_org.items())
