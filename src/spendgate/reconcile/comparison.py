"""Aggregate both sides to the grain and compare them, group by group.

Both sides reduce to `GroupKey -> {measure: quantity}`. Memory is O(groups) plus a 64-bit
identity per distinct provider row (to find duplicates); the rows themselves stream through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Literal

from spendgate.domain.clock import ms_to_rfc3339
from spendgate.metering.events import CREDITS_METER
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.grain import DAY_MS, HOUR_MS, Grain, PeriodClock
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
        self._seen: set[int] = set()
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
        # Rows of one bucket share their span, and few (account, key, model) triples exist:
        # both are resolved once and cached.
        self._span: tuple[int, int] = (0, 0)
        self._span_period: int | None = None
        self._targets: dict[tuple[str | None, str | None, str | None],
                            tuple[str, ...]] = {}

    def add(self, row: ProviderRow) -> None:
        self.add_many((row,))

    def add_many(self, rows: Iterable[ProviderRow]) -> None:
        """Fold rows in; the loop keeps its lookups local because it runs once per row."""
        seen = self._seen
        targets = self._targets
        meters = self.meters
        measures = self.measures
        renames = self.resolver.renames
        all_totals = self.totals
        row_counts = self.row_counts
        for row in rows:
            if (row.start_ms, row.end_ms) != self._span:
                self._enter_span(row)
            period = self._span_period
            if period is None:
                self.outside_range += 1
                continue
            self.rows += 1
            before = len(seen)
            seen.add(row.key)
            duplicate = len(seen) == before
            triple = (row.account, row.api_key, row.model)
            target = targets.get(triple)
            if target is None:
                target = targets[triple] = self._target(row)
            if len(target) == 3:
                # tuple.__new__ skips GroupKey's Python-level __new__: once per row.
                key: GroupKey | None = tuple.__new__(
                    GroupKey, (period, target[0], target[1], target[2], row.meter))
            else:
                key = None
                if not duplicate:
                    self._unmapped(target[0], target[1], row)  # type: ignore[arg-type]
            if duplicate:
                self.duplicate_count += 1
                if len(self.duplicates) < MAX_DUPLICATES_LISTED:
                    self.duplicates.append(DuplicateRow(row.file, row.row, key))
                continue
            if key is None:
                continue
            if row.currency is not None and row.currency != self.currency:
                self._check_currency(row)
            quantities = row.quantities
            if row.meter not in meters:
                meters.add(row.meter)
            if COST in quantities and row.meter != ANY:
                # Cost is compared per period x org x project x model, across meters.
                self._fold(key._replace(meter=ANY), {COST: quantities[COST]})
                quantities = {k: v for k, v in quantities.items() if k != COST}
            if renames:
                self._fold(key, quantities)
                continue
            totals = all_totals.get(key)
            if totals is None:
                totals = all_totals[key] = {}
                row_counts[key] = 0
            row_counts[key] += 1
            for name, value in quantities.items():
                totals[name] = totals.get(name, 0) + value
                if name not in measures:
                    measures.add(name)

    def detached(self) -> ProviderSide:
        """This side without what only an import needs (row identities, the resolver)."""
        self._seen = set()
        self.resolver = None  # type: ignore[assignment]
        return self

    def _enter_span(self, row: ProviderRow) -> None:
        start, end = row.start_ms, row.end_ms
        self._span = (start, end)
        if (self.from_ms is not None and start < self.from_ms) or (
            self.to_ms is not None and start >= self.to_ms
        ):
            self._span_period = None
            return
        if not self.clock.contains(start, end):
            self._span = (0, 0)
            raise ReconcileInputError(
                row.file, row.row,
                f"the bucket {ms_to_rfc3339(start)} .. {ms_to_rfc3339(end)} does not fit "
                f"one UTC {self.grain.period}; compare at a coarser --grain",
            )
        self._span_period = self.clock.start(start)
        if self.first_ms is None or start < self.first_ms:
            self.first_ms = start
        if self.last_ms is None or end > self.last_ms:
            self.last_ms = end

    def _target(self, row: ProviderRow) -> tuple[str, ...]:
        """(org, project, model) at this grain, or (reason, value) when unmapped."""
        org = project = model = ANY
        if self._by_org or self._by_project:
            found = self.resolver.account(row.account, row.api_key)
            if found is None:
                return ("account", row.api_key or row.account or "(none)")
            org = found[0] if self._by_org else ANY
            project = (found[1] or NO_PROJECT) if self._by_project else ANY
        if self._by_model:
            mapped = self.resolver.model(row.model)
            if mapped is None:
                return ("model", row.model or "(none)")
            model = mapped
        return (org, project, model)

    def _check_currency(self, row: ProviderRow) -> None:
        if self.currency is None:
            self.currency = row.currency
            self._currency_from = f"{row.file}: {row.row}"
            return
        raise ReconcileInputError(
            row.file, row.row,
            f"currency {row.currency} differs from {self.currency} "
            f"(first seen at {self._currency_from}); compare one currency at a time",
        )

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

    def __init__(self, resolver: Resolver, grain: Grain, measures: Iterable[str] | None,
                 meters: Iterable[str] | None, *, cost_quantity: str = "provider_cost",
                 credit_value: CreditValue | None = None) -> None:
        """`measures`/`meters` None: keep everything, for when the provider side is not known
        yet (it is imported concurrently); `restrict` trims to it afterwards."""
        self.resolver = resolver
        self.grain = grain
        self.clock = PeriodClock(grain.period)
        wanted = None if measures is None else set(measures)
        self.measures = None if wanted is None else tuple(
            sorted(m for m in wanted if m not in (COST, REQUESTS)))
        self.count_requests = wanted is None or REQUESTS in wanted
        self.compare_cost = wanted is None or COST in wanted
        # Usage is compared for the meters the provider export covers; cost for all of them.
        self.meters = None if meters is None else frozenset(meters) - {CREDITS_METER}
        self.cost_quantity = cost_quantity
        self.credit_value = credit_value
        self.rows = 0
        self.out_of_scope = 0
        self._cells: dict[tuple[int, str, str, str, str], _Cell] = {}
        self._scope: dict[str | None, bool] = {}
        self._by_org = "org" in grain.by
        self._by_project = "project" in grain.by
        self._by_model = "model" in grain.by

    def restrict(self, measures: Iterable[str], meters: Iterable[str]) -> None:
        """Drop what the provider export does not cover (after a superset read)."""
        keep = frozenset(meters) - {CREDITS_METER}
        cost = COST in set(measures)
        for key in list(self._cells):
            if (key[4] == ANY and not cost) or (key[4] != ANY and key[4] not in keep):
                cell = self._cells.pop(key)
                if key[4] != ANY and not cost:  # with cost compared, the row still counts
                    self.out_of_scope += cell.rows
        self.meters = keep

    def add(self, row: MeteredRow) -> None:
        self.add_many((row,))

    def add_many(self, rows: Iterable[MeteredRow]) -> None:
        """Fold rows in; lookups are local because the loop runs once per metered event."""
        scope = self._scope
        cells = self._cells
        meters = self.meters
        measures = self.measures
        count_requests = self.count_requests
        compare_cost = self.compare_cost
        cost_quantity = self.cost_quantity
        period_of = self.clock.start
        width = {"day": DAY_MS, "hour": HOUR_MS}.get(self.grain.period)
        by_org, by_project, by_model = self._by_org, self._by_project, self._by_model
        for row in rows:
            self.rows += 1
            model = row.model
            in_scope = scope.get(model)
            if in_scope is None:
                in_scope = scope[model] = self.resolver.in_scope(model)
            usage = row.meter != CREDITS_METER if meters is None else row.meter in meters
            if not in_scope or not (usage or compare_cost):
                self.out_of_scope += 1
                continue
            ts = row.timestamp_ms
            period = ts - ts % width if width else period_of(ts)
            org = row.org if by_org else ANY
            project = (row.project or NO_PROJECT) if by_project else ANY
            if not by_model or model is None:
                model = ANY
            quantities = row.quantities
            if usage:
                key = (period, org, project, model, row.meter)
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = _Cell()
                cell.credits += row.credits_nano
                cell.events += row.events
                cell.rows += 1
                totals = cell.totals
                if measures is None:
                    for name, value in quantities.items():
                        if name != REQUESTS:
                            totals[name] = totals.get(name, 0) + value
                else:
                    for name in measures:
                        wanted = quantities.get(name)
                        if wanted is not None:
                            totals[name] = totals.get(name, 0) + wanted
                if count_requests:
                    # Usage events count one request each; adjustments carry theirs.
                    totals[REQUESTS] = (totals.get(REQUESTS, 0) + row.events
                                        + quantities.get(REQUESTS, 0))
            if compare_cost:
                key = (period, org, project, model, ANY)
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = _Cell()
                cell.credits += row.credits_nano
                cell.events += row.events
                paid = quantities.get(cost_quantity)
                if paid is not None:
                    cell.totals[cost_quantity] = cell.totals.get(cost_quantity, 0) + paid

    @property
    def totals(self) -> Totals:
        out: Totals = {}
        for k, c in self._cells.items():
            totals = c.totals
            if k[4] == ANY:
                totals = {COST: self._cost(c)}
            out[GroupKey._make(k)] = totals
        return out

    def _cost(self, cell: _Cell) -> Quantity:
        if self.credit_value is not None:
            # Exact: nano-credits times the credit's worth; no rounding here.
            return Decimal(cell.credits).scaleb(-9) * self.credit_value.amount
        return cell.totals.get(self.cost_quantity, 0)

    @property
    def credits(self) -> dict[GroupKey, int]:
        return {GroupKey._make(k): c.credits for k, c in self._cells.items()}

    @property
    def events(self) -> dict[GroupKey, int]:
        return {GroupKey._make(k): c.events for k, c in self._cells.items()}


class _Cell:
    __slots__ = ("credits", "events", "rows", "totals")

    def __init__(self) -> None:
        self.totals: dict[str, Quantity] = {}
        self.credits = 0
        self.events = 0
        self.rows = 0


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
