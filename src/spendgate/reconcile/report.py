"""The reconciliation report: a summary, the per-group detail and every row set aside.

`Report.to_dict()` is the JSON the CLI prints with `--format json` and the HTTP API returns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from spendgate.domain.clock import ms_to_rfc3339
from spendgate.domain.money import format_credits
from spendgate.reconcile.grain import Grain
from spendgate.reconcile.rows import GroupKey, Quantity

Status = Literal["matched", "over", "under", "missing_in_spendgate", "missing_in_provider"]
STATUSES: tuple[Status, ...] = (
    "matched", "over", "under", "missing_in_spendgate", "missing_in_provider"
)
# Relative differences are shown rounded to 6 places (0.000001 = one part per million).
_REL_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Tolerance:
    """A measure matches when |difference| <= absolute or |difference / provider| <= relative."""

    relative: Decimal = Decimal("0.01")
    absolute: Decimal = Decimal(0)

    def accepts(self, difference: Quantity, relative: Decimal | None) -> bool:
        if abs(Decimal(difference)) <= self.absolute:
            return True
        return relative is not None and abs(relative) <= self.relative


@dataclass(frozen=True, slots=True)
class MeasureDiff:
    name: str
    spendgate: Quantity
    provider: Quantity
    difference: Quantity  # spendgate - provider: positive means Spendgate metered more
    relative: Decimal | None  # difference / provider; None when the provider reports zero
    within_tolerance: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spendgate": str(self.spendgate),
            "provider": str(self.provider),
            "difference": str(self.difference),
            "relative": _relative(self.relative),
            "within_tolerance": self.within_tolerance,
        }


@dataclass(frozen=True, slots=True)
class GroupComparison:
    key: GroupKey
    status: Status
    measures: tuple[MeasureDiff, ...]
    spendgate_credits_nano: int
    provider_rows: int
    spendgate_events: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **key_to_dict(self.key),
            "status": self.status,
            "measures": [m.to_dict() for m in self.measures],
            "spendgate_credits": format_credits(self.spendgate_credits_nano),
            "provider_rows": self.provider_rows,
            "spendgate_events": self.spendgate_events,
        }


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    """A provider row whose identity was already imported: counted once, reported here."""

    file: str
    row: str
    group: GroupKey | None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row,
                "group": None if self.group is None else key_to_dict(self.group)}


@dataclass(frozen=True, slots=True)
class UnmappedRows:
    """Provider rows that no mapping rule covers, grouped by what is missing; never dropped."""

    reason: Literal["account", "model"]
    value: str
    rows: int
    first_file: str
    first_row: str
    quantities: Mapping[str, Quantity]

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "value": self.value, "rows": self.rows,
                "first_file": self.first_file, "first_row": self.first_row,
                "quantities": {k: str(v) for k, v in sorted(self.quantities.items())}}


@dataclass(frozen=True, slots=True)
class FileSummary:
    name: str
    digest: str
    rows: int
    outside_range: int
    duplicate_of: str | None = None  # same content as an earlier file: skipped whole

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.digest, "rows": self.rows,
                "outside_range": self.outside_range, "duplicate_of": self.duplicate_of}


@dataclass(frozen=True, slots=True)
class Summary:
    groups: int
    matched: int
    over: int
    under: int
    missing_in_spendgate: int
    missing_in_provider: int
    duplicate_rows: int
    unmapped_rows: int

    @property
    def discrepancies(self) -> int:
        return self.groups - self.matched

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": self.groups, "matched": self.matched, "over": self.over,
            "under": self.under, "missing_in_spendgate": self.missing_in_spendgate,
            "missing_in_provider": self.missing_in_provider,
            "duplicate_rows": self.duplicate_rows, "unmapped_rows": self.unmapped_rows,
        }


@dataclass(frozen=True, slots=True)
class Report:
    run_id: str
    provider: str
    grain: Grain
    from_ms: int
    to_ms: int
    tolerance: Tolerance
    currency: str | None
    files: tuple[FileSummary, ...]
    groups: tuple[GroupComparison, ...]
    summary: Summary
    duplicates: tuple[DuplicateRow, ...] = ()
    unmapped: tuple[UnmappedRows, ...] = ()
    metered_rows: int = 0
    metered_out_of_scope: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Everything matched within tolerance, and no row was duplicated or unmapped."""
        s = self.summary
        return s.discrepancies == 0 and s.duplicate_rows == 0 and s.unmapped_rows == 0

    def discrepancies(self) -> Iterator[GroupComparison]:
        return (g for g in self.groups if g.status != "matched")

    def group(self, key: GroupKey) -> GroupComparison | None:
        return next((g for g in self.groups if g.key == key), None)

    def to_dict(self, *, include_matched: bool = True) -> dict[str, Any]:
        groups = self.groups if include_matched else tuple(self.discrepancies())
        return {
            "object": "reconciliation",
            "run_id": self.run_id,
            "provider": self.provider,
            "ok": self.ok,
            "from": ms_to_rfc3339(self.from_ms),
            "to": ms_to_rfc3339(self.to_ms),
            "grain": {"period": self.grain.period, "by": list(self.grain.by)},
            "tolerance": {"relative": str(self.tolerance.relative),
                          "absolute": str(self.tolerance.absolute)},
            "currency": self.currency,
            "summary": self.summary.to_dict(),
            "files": [f.to_dict() for f in self.files],
            "groups": [g.to_dict() for g in groups],
            "duplicates": [d.to_dict() for d in self.duplicates],
            "unmapped": [u.to_dict() for u in self.unmapped],
            "metered": {"rows": self.metered_rows, "out_of_scope": self.metered_out_of_scope},
            "notes": list(self.notes),
        }

    def csv_rows(self) -> Iterator[list[str]]:
        """One line per group and measure, header first: the `--format csv` output."""
        yield ["period", "org", "project", "model", "meter", "status", "measure", "spendgate",
               "provider", "difference", "relative", "within_tolerance"]
        for g in self.groups:
            k = key_to_dict(g.key)
            head = [k["period"], k["org"], k["project"], k["model"], k["meter"], g.status]
            for m in g.measures:
                yield [*head, m.name, str(m.spendgate), str(m.provider), str(m.difference),
                       _relative(m.relative) or "", "true" if m.within_tolerance else "false"]


def key_to_dict(key: GroupKey) -> dict[str, str]:
    return {"period": ms_to_rfc3339(key.period_ms), "org": key.org, "project": key.project,
            "model": key.model, "meter": key.meter}


def _relative(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return str(value.quantize(_REL_PLACES, rounding=ROUND_HALF_EVEN))


__all__ = [
    "STATUSES",
    "DuplicateRow",
    "FileSummary",
    "GroupComparison",
    "MeasureDiff",
    "Report",
    "Status",
    "Summary",
    "Tolerance",
    "UnmappedRows",
    "key_to_dict",
]
