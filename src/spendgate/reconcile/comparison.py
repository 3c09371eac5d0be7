"""Aggregate both sides to the grain and compare them, group by group.

Both sides reduce to `GroupKey -> {measure: quantity}`. Memory is O(groups) plus a 16-byte
identity per distinct provider row (to find duplicates); the rows themselves stream through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Literal

from spendgate.domain.clock import ms_to_rfc3339
from spendgate.metering.events import CREDITS_METER
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.grain import Grain, PeriodClock
from spendgate.reconcile.mapping import CreditValue, Resolver
from spendgate.reconcile.report import (
    STATUSES,
    DuplicateRow,
    GroupComparison,
    MeasureDiff,
    Status,
    Summary,
    Tolerance,
    UnmappedRows,
)
from spendgate.reconcile.rows import COST, REQUESTS, GroupKey, MeteredRow, ProviderRow, Quantity

ANY = "*"
NO_PROJECT = ""
# The detail list of duplicates is capped; the count in the summary is always complete.
MAX_DUPLICATES_LISTED = 1000

Totals = dict[GroupKey, dict[str, Quantity]]


class ProviderSide:
    """Provider rows folded into groups: deduplicated, mapped, range-filtered."""

    def __init__(self, resolver: Resolver, grain: Grain, *, from_ms: int | None = None,
                 to_ms: int | None = None, strict: bool = False) -> None:
        self.resolver = resolver
        self.grain = grain
        self.clock = PeriodClock(grain.period)
        self.from_ms = from_ms
        self.to_ms = to_ms
        self.strict = strict
        self.totals: Totals = {}
        self.row_counts: dict[GroupKey, int] = {}
        self.measures: set[str] = set()
        self.meters: set[str] = set()
        self.currency: str | None = None
        self._currency_from = ""
        self._seen: set[bytes] = set()
        self.duplicates: list[DuplicateRow] = []
        self.duplicate_count = 0
        self.unmapped: dict[tuple[Literal["account", "model"], str], _Tally] = {}
        self.unmapped_count = 0
        self.rows = 0
        self.outside_range = 0
        self.first_ms: int | None = None
        self.last_ms: int | None = None
        self._by_org = "org" in grain.by
        self._by_project = "project" in grain.by
        self._by_model = "model" in grain.by

    def add(self, row: ProviderRow) -> None:
        start = row.start_ms
        if (self.from_ms is not None and start < self.from_ms) or (
            self.to_ms is not None and start >= self.to_ms
        ):
            self.outside_range += 1
            return
        self.rows += 1
        if not self.clock.contains(start, row.end_ms):
            raise ReconcileInputError(
                row.file, row.row,
                f"the bucket {ms_to_rfc3339(start)} .. {ms_to_rfc3339(row.end_ms)} does not fit "
                f"one UTC {self.grain.period}; compare at a coarser --grain",
            )
        if self.first_ms is None or start < self.first_ms:
            self.first_ms = start
        if self.last_ms is None or row.end_ms > self.last_ms:
            self.last_ms = row.end_ms
        duplicate = row.key in self._seen
        if not duplicate:
            self._seen.add(row.key)
        key = self._group(row, record=not duplicate)
        if duplicate:
            self.duplicate_count += 1
            if len(self.duplicates) < MAX_DUPLICATES_LISTED:
                self.duplicates.append(DuplicateRow(row.file, row.row, key))
            return
        if key is None:
            return
        if row.currency is not None:
            if self.currency is None:
                self.currency = row.currency
                self._currency_from = f"{row.file}: {row.row}"
            elif row.currency != self.currency:
                raise ReconcileInputError(
                    row.file, row.row,
                    f"currency {row.currency} differs from {self.currency} "
                    f"(first seen at {self._currency_from}); compare one currency at a time",
                )
        quantities = row.quantities
        if key.meter not in self.meters:
            self.meters.add(key.meter)
        if COST in quantities and key.meter != ANY:
            # Cost is compared per period x org x project x model, across meters.
            self._fold(key._replace(meter=ANY), {COST: quantities[COST]})
            quantities = {k: v for k, v in quantities.items() if k != COST}
        self._fold(key, quantities)

    def _fold(self, key: GroupKey, quantities: Mapping[str, Quantity]) -> None:
        totals = self.totals.get(key)
        if totals is None:
            totals = self.totals[key] = {}
            self.row_counts[key] = 0
        self.row_counts[key] += 1
        renames = self.resolver.renames
        measures = self.measures
        for name, value in quantities.items():
            if renames:
                name = renames.get(name, name)
            totals[name] = totals.get(name, 0) + value
            if name not in measures:
                measures.add(name)

    def _group(self, row: ProviderRow, *, record: bool) -> GroupKey | None:
        org = project = model = ANY
        if self._by_org or self._by_project:
            target = self.resolver.account(row.account, row.api_key)
            if target is None:
                if record:
                    self._unmapped("account", row.api_key or row.account or "(none)", row)
                return None
            org = target[0] if self._by_org else ANY
            project = (target[1] or NO_PROJECT) if self._by_project else ANY
        if self._by_model:
            mapped = self.resolver.model(row.model)
            if mapped is None:
                if record:
                    self._unmapped("model", row.model or "(none)", row)
                return None
            model = mapped
        return GroupKey(self.clock.start(row.start_ms), org, project, model, row.meter)

    def _unmapped(self, reason: Literal["account", "model"], value: str,
                  row: ProviderRow) -> None:
        if self.strict:
            what = "no account rule maps" if reason == "account" else "no model rule maps"
            raise ReconcileInputError(row.file, row.row, f"{what} {value!r} (strict mode)")
        self.unmapped_count += 1
        tally = self.unmapped.get((reason, value))
        if tally is None:
            tally = self.unmapped[(reason, value)] = _Tally(row.file, row.row)
        tally.rows += 1
        for name, q in row.quantities.items():
            tally.quantities[name] = tally.quantities.get(name, 0) + q

    def unmapped_rows(self) -> list[UnmappedRows]:
        return [
            UnmappedRows(reason, value, t.rows, t.file, t.row, dict(t.quantities))
            for (reason, value), t in sorted(self.unmapped.items())
        ]


class _Tally:
    __slots__ = ("file", "quantities", "row", "rows")

    def __init__(self, file: str, row: str) -> None:
        self.file = file
        self.row = row
        self.rows = 0
        self.quantities: dict[str, Quantity] = {}


class MeteredSide:
    """Metered rows folded into the same groups: the provider's models and meters only."""

    def __init__(self, resolver: Resolver, grain: Grain, measures: Iterable[str],
                 meters: Iterable[str], *, cost_quantity: str = "provider_cost",
                 credit_value: CreditValue | None = None) -> None:
        self.resolver = resolver
        self.grain = grain
        self.clock = PeriodClock(grain.period)
        self.measures = frozenset(m for m in measures if m not in (COST, REQUESTS))
        self.count_requests = REQUESTS in measures
        self.compare_cost = COST in measures
        # Usage is compared for the meters the provider export covers; cost for all of them.
        self.meters = frozenset(meters)
        self.cost_quantity = cost_quantity
        self.credit_value = credit_value
        self.totals: Totals = {}
        self.credits: dict[GroupKey, int] = {}
        self.events: dict[GroupKey, int] = {}
        self.rows = 0
        self.out_of_scope = 0
        self._by_org = "org" in grain.by
        self._by_project = "project" in grain.by
        self._by_model = "model" in grain.by

    def add(self, row: MeteredRow) -> None:
        self.rows += 1
        usage = row.meter in self.meters
        if not (usage or self.compare_cost) or not self.resolver.in_scope(row.model):
            self.out_of_scope += 1
            return
        period = self.clock.start(row.timestamp_ms)
        org = row.org if self._by_org else ANY
        project = (row.project or NO_PROJECT) if self._by_project else ANY
        model = (row.model or ANY) if self._by_model else ANY
        quantities = row.quantities
        if usage and row.meter != CREDITS_METER:
            key = GroupKey(period, org, project, model, row.meter)
            totals = self.totals.get(key)
            if totals is None:
                totals = self.totals[key] = {}
                self.credits[key] = 0
                self.events[key] = 0
            self.credits[key] += row.credits_nano
            self.events[key] += row.events
            for name in self.measures:
                value = quantities.get(name)
                if value is not None:
                    totals[name] = totals.get(name, 0) + value
            if self.count_requests:
                requests = quantities.get(REQUESTS, row.events)
                totals[REQUESTS] = totals.get(REQUESTS, 0) + requests
        if self.compare_cost:
            cost = self._cost(row)
            if cost is not None:
                key = GroupKey(period, org, project, model, ANY)
                totals = self.totals.setdefault(key, {})
                totals[COST] = totals.get(COST, 0) + cost
                self.credits[key] = self.credits.get(key, 0) + row.credits_nano
                self.events[key] = self.events.get(key, 0) + row.events

    def _cost(self, row: MeteredRow) -> Quantity | None:
        if self.credit_value is not None:
            # Exact: nano-credits times the credit's worth; no rounding here.
            return Decimal(row.credits_nano).scaleb(-9) * self.credit_value.amount
        return row.quantities.get(self.cost_quantity)


def compare(provider: ProviderSide, metered: MeteredSide, tolerance: Tolerance,
            only: Iterable[str] | None = None) -> tuple[list[GroupComparison], Summary]:
    """Every group on either side, with its measures, differences and status."""
    wanted = set(provider.measures) if only is None else set(provider.measures) & set(only)
    usage_measures = sorted(wanted - {COST})
    cost_measures = [COST] if COST in wanted else []
    groups = compare_totals(
        provider.totals, metered.totals,
        lambda key: cost_measures if key.meter == ANY else usage_measures,
        tolerance, credits=metered.credits, provider_rows=provider.row_counts,
        events=metered.events,
    )
    return groups, summarize(groups, provider.duplicate_count, provider.unmapped_count)


def compare_totals(
    provider: Totals, metered: Totals, measures_of: Callable[[GroupKey], list[str]],
    tolerance: Tolerance, *, credits: Mapping[GroupKey, int] | None = None,
    provider_rows: Mapping[GroupKey, int] | None = None,
    events: Mapping[GroupKey, int] | None = None,
) -> list[GroupComparison]:
    """Compare two sets of group totals, key by key, in key order."""
    groups: list[GroupComparison] = []
    for key in sorted(provider.keys() | metered.keys()):
        p = provider.get(key)
        m = metered.get(key)
        diffs = tuple(_diff(name, (m or {}).get(name, 0), (p or {}).get(name, 0), tolerance)
                      for name in measures_of(key))
        groups.append(GroupComparison(
            key, _status(p is not None, m is not None, diffs),
            diffs, (credits or {}).get(key, 0), (provider_rows or {}).get(key, 0),
            (events or {}).get(key, 0),
        ))
    return groups


def summarize(groups: Iterable[GroupComparison], duplicates: int = 0,
              unmapped: int = 0) -> Summary:
    counts = dict.fromkeys(STATUSES, 0)
    for g in groups:
        counts[g.status] += 1
    return Summary(
        groups=sum(counts.values()), matched=counts["matched"], over=counts["over"],
        under=counts["under"], missing_in_spendgate=counts["missing_in_spendgate"],
        missing_in_provider=counts["missing_in_provider"],
        duplicate_rows=duplicates, unmapped_rows=unmapped,
    )


def _diff(name: str, spendgate: Quantity, provider: Quantity, tolerance: Tolerance) -> MeasureDiff:
    difference = spendgate - provider
    if provider:
        relative: Decimal | None = Decimal(difference) / Decimal(provider)
    else:
        relative = Decimal(0) if not difference else None
    return MeasureDiff(name, spendgate, provider, difference, relative,
                       tolerance.accepts(difference, relative))


def _status(on_provider: bool, on_spendgate: bool, diffs: tuple[MeasureDiff, ...]) -> Status:
    if all(d.difference == 0 for d in diffs):
        return "matched"  # e.g. metered usage reversed to zero by an adjustment
    if not on_provider:
        return "missing_in_provider"
    if not on_spendgate:
        return "missing_in_spendgate"
    worst: MeasureDiff | None = None
    for d in diffs:
        if d.within_tolerance:
            continue
        if worst is None or _size(d) > _size(worst):
            worst = d
    if worst is None:
        return "matched"
    return "over" if worst.difference > 0 else "under"


def _size(d: MeasureDiff) -> Decimal:
    return Decimal("Infinity") if d.relative is None else abs(d.relative)


__all__ = [
    "ANY",
    "NO_PROJECT",
    "MeteredSide",
    "ProviderSide",
    "Totals",
    "compare",
    "compare_totals",
    "summarize",
]
