"""The same comparison against a billing vendor: totals per org and meter, sent vs reported.

`sent` comes from what Spendgate metered (`sent_totals`); `reported` from the vendor (its usage
query, a stub, or finalized invoices recorded from webhooks) through the `VendorTotals` port.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple, Protocol

from spendgate.domain.money import credits_to_decimal, decimal_to_nano
from spendgate.errors import InvalidRequest
from spendgate.reconcile.comparison import ANY, Totals, compare_totals, summarize
from spendgate.reconcile.grain import Grain
from spendgate.reconcile.mapping import CreditValue
from spendgate.reconcile.metered import MeteredUsage
from spendgate.reconcile.report import Report, Tolerance
from spendgate.reconcile.rows import GroupKey, Quantity

CREDITS = "credits"


class VendorTotal(NamedTuple):
    org: str
    meter: str
    quantities: Mapping[str, Quantity]
    credits_nano: int | None = None  # None when the vendor does not report an amount


class VendorTotals(Protocol):
    def totals(self, from_ms: int, to_ms: int) -> Iterable[VendorTotal]: ...


def sent_totals(metered: MeteredUsage, from_ms: int, to_ms: int) -> list[VendorTotal]:
    """What Spendgate sent for the period: every metered row summed per org and meter."""
    sums: dict[tuple[str, str], dict[str, Quantity]] = {}
    credits: dict[tuple[str, str], int] = {}
    for row in metered.rows(from_ms, to_ms):
        key = (row.org, row.meter)
        acc = sums.setdefault(key, {})
        for name, value in row.quantities.items():
            acc[name] = acc.get(name, 0) + value
        credits[key] = credits.get(key, 0) + row.credits_nano
    return [VendorTotal(org, meter, sums[(org, meter)], credits[(org, meter)])
            for org, meter in sorted(sums)]


class Invoice(Protocol):
    """A finalized vendor invoice as the webhooks record it (e.g. signals.InvoiceFinalized)."""

    @property
    def org(self) -> str: ...
    @property
    def total(self) -> Decimal | None: ...  # major currency units
    @property
    def currency(self) -> str | None: ...


def invoice_totals(invoices: Iterable[Invoice], credit_value: CreditValue) -> list[VendorTotal]:
    """Invoiced totals per org as credits (meter "*"), to compare with `per_org(sent)`."""
    nano: dict[str, int] = {}
    for invoice in invoices:
        if invoice.total is None:
            continue
        if (invoice.currency or "").upper() != credit_value.currency:
            raise InvalidRequest(
                f"an invoice of {invoice.org} is in {invoice.currency}, credits are valued in "
                f"{credit_value.currency}; compare one currency at a time", param="currency",
            )
        # Rounded once, here, to whole nano-credits, half to even.
        credits = decimal_to_nano(invoice.total / credit_value.amount, rounding=ROUND_HALF_EVEN)
        nano[invoice.org] = nano.get(invoice.org, 0) + credits
    return [VendorTotal(org, ANY, {}, n) for org, n in sorted(nano.items())]


def per_org(totals: Iterable[VendorTotal]) -> list[VendorTotal]:
    """Totals collapsed over meters (meter "*"): credits summed, quantities dropped."""
    nano: dict[str, int] = {}
    for t in totals:
        nano[t.org] = nano.get(t.org, 0) + (t.credits_nano or 0)
    return [VendorTotal(org, ANY, {}, n) for org, n in sorted(nano.items())]


def compare_vendor(
    vendor: str, sent: Iterable[VendorTotal], reported: Iterable[VendorTotal], *,
    from_ms: int, to_ms: int, tolerance: Tolerance | None = None,
) -> Report:
    """Per org and meter: the measures the vendor reports, and credits when it reports them."""
    tolerance = tolerance or Tolerance()
    theirs, measures = _totals(reported, from_ms, collect=True)
    ours, _ = _totals(sent, from_ms, collect=False)
    names = sorted(measures)
    groups = compare_totals(theirs, ours, lambda _key: names, tolerance)
    digest = hashlib.blake2b(
        repr((vendor, from_ms, to_ms, sorted((k, sorted(v.items())) for k, v in theirs.items())))
        .encode(), digest_size=16,
    ).hexdigest()
    return Report(
        run_id=f"rec_{digest}", provider=vendor, grain=Grain("month", ("org",)),
        from_ms=from_ms, to_ms=to_ms, tolerance=tolerance, currency=None, files=(),
        groups=tuple(groups), summary=summarize(groups),
        notes=("vendor comparison: one group per org and meter over the whole range",),
    )


def _totals(rows: Iterable[VendorTotal], period_ms: int, *,
            collect: bool) -> tuple[Totals, set[str]]:
    totals: Totals = {}
    measures: set[str] = set()
    for row in rows:
        key = GroupKey(period_ms, row.org, ANY, ANY, row.meter)
        acc = totals.setdefault(key, {})
        for name, value in row.quantities.items():
            acc[name] = acc.get(name, 0) + value
            if collect:
                measures.add(name)
        if row.credits_nano is not None:
            acc[CREDITS] = Decimal(acc.get(CREDITS, 0)) + credits_to_decimal(row.credits_nano)
            if collect:
                measures.add(CREDITS)
    return totals, measures


__all__ = [
    "CREDITS",
    "Invoice",
    "VendorTotal",
    "VendorTotals",
    "compare_vendor",
    "invoice_totals",
    "per_org",
    "sent_totals",
]
