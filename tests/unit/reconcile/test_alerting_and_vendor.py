from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from spendgate.metering.events import UsageEvent
from spendgate.reconcile import (
    DISCREPANCY_EVENT,
    EventsMeteredUsage,
    ProviderMapping,
    ReconcileMetrics,
    Tolerance,
    VendorTotal,
    alert,
    compare_vendor,
    discrepancy_payload,
    reconcile,
    sent_totals,
)

from .conftest import data_files, read_pages, write_pages

NOV_1 = 1_761_955_200_000


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Mapping[str, Any], str]] = []

    def publish(self, event_type: str, data: Mapping[str, Any], *, idempotency_key: str) -> None:
        self.sent.append((event_type, data, idempotency_key))


def test_a_discrepancy_publishes_one_event_and_counts_in_metrics(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_usage_completions.jsonl")
    pages[0]["data"][0]["results"][0]["output_tokens"] += 10_000
    report = reconcile("openai", [write_pages(tmp_path / "u.jsonl", pages)],
                       EventsMeteredUsage(events), mapping)
    registry = CollectorRegistry()
    recorder = Recorder()
    assert alert(report, recorder, ReconcileMetrics(registry)) is True
    [(event_type, data, key)] = recorder.sent
    assert event_type == DISCREPANCY_EVENT == "reconciliation.discrepancy"
    assert key == f"reconciliation.discrepancy:{report.run_id}"
    assert data["summary"]["under"] == 1 and data["orgs"] == ["acme"]
    [group] = data["discrepancies"]
    assert (group["org"], group["project"], group["model"]) == ("acme", "studio", "gpt-4o")
    assert registry.get_sample_value(
        "spendgate_reconciliation_runs_total", {"provider": "openai", "outcome": "discrepancy"}
    ) == 1
    assert registry.get_sample_value(
        "spendgate_reconciliation_groups", {"provider": "openai", "status": "under"}
    ) == 1


def test_a_clean_run_publishes_nothing(mapping: ProviderMapping,
                                       events: list[UsageEvent]) -> None:
    report = reconcile("openai", data_files("openai_usage_completions.jsonl"),
                       EventsMeteredUsage(events), mapping)
    recorder = Recorder()
    assert discrepancy_payload(report) is None
    assert alert(report, recorder) is False and recorder.sent == []


def test_vendor_totals_are_compared_per_org_and_meter(events: list[UsageEvent]) -> None:
    to_ms = NOV_1 + 3 * 86_400_000
    sent = sent_totals(EventsMeteredUsage(events), NOV_1, to_ms)
    by_key = {(t.org, t.meter): t for t in sent}
    llm = by_key[("acme", "llm")]
    reported = [
        VendorTotal("acme", "llm", {"output_tokens": llm.quantities["output_tokens"]},
                    llm.credits_nano),
        VendorTotal("acme", "video", {"seconds": Decimal(by_key[("acme", "video")]
                                                         .quantities["seconds"]) - 5}),
    ]
    report = compare_vendor("flexprice", sent, reported, from_ms=NOV_1, to_ms=to_ms,
                            tolerance=Tolerance(Decimal(0)))
    status = {(g.key.org, g.key.meter): g.status for g in report.groups}
    assert status[("acme", "llm")] == "matched"
    assert status[("acme", "video")] == "over"  # Spendgate sent 5 seconds more
    assert status[("globex", "llm")] == "missing_in_provider"
    assert status[("acme", "image")] == "missing_in_provider"


def test_finalized_invoices_compare_with_credits_sent_per_org(events: list[UsageEvent]) -> None:
    from dataclasses import dataclass

    from spendgate.reconcile import CreditValue, invoice_totals, per_org

    @dataclass(frozen=True)
    class Invoiced:
        org: str
        total: Decimal | None
        currency: str | None

    to_ms = NOV_1 + 3 * 86_400_000
    sent = {t.org: t for t in per_org(sent_totals(EventsMeteredUsage(events), NOV_1, to_ms))}
    acme_usd = Decimal(sent["acme"].credits_nano or 0).scaleb(-9) / 100  # 1 credit = $0.01
    invoices = [Invoiced("acme", acme_usd, "usd"), Invoiced("globex", Decimal("1.00"), "USD"),
                Invoiced("initech", None, None)]
    reported = invoice_totals(invoices, CreditValue("USD", Decimal("0.01")))
    report = compare_vendor("lago", sent.values(), reported, from_ms=NOV_1, to_ms=to_ms,
                            tolerance=Tolerance(Decimal(0)))
    status = {g.key.org: g.status for g in report.groups}
    assert status["acme"] == "matched"
    assert status["globex"] == "over"  # Spendgate metered more than the $1.00 invoiced
