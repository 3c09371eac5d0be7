"""Telling people: the `reconciliation.discrepancy` webhook event and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge

from spendgate.reconcile.report import STATUSES, Report

DISCREPANCY_EVENT = "reconciliation.discrepancy"
MAX_GROUPS_IN_EVENT = 100


class WebhookPublisher(Protocol):
    """The outbound webhooks port: enqueue one event for the tenant's endpoints."""

    def publish(self, event_type: str, data: Mapping[str, Any], *, idempotency_key: str) -> None:
        ...


def discrepancy_payload(report: Report) -> dict[str, Any] | None:
    """The event's `data`, or None when everything matched; at most 100 groups are listed."""
    if report.ok:
        return None
    groups = [g.to_dict() for g in report.discrepancies()]
    listed = groups[:MAX_GROUPS_IN_EVENT]
    full = report.to_dict(include_matched=False)
    return {
        "run_id": report.run_id,
        "provider": report.provider,
        "from": full["from"],
        "to": full["to"],
        "grain": full["grain"],
        "tolerance": full["tolerance"],
        "currency": report.currency,
        "summary": full["summary"],
        "orgs": sorted({g.key.org for g in report.discrepancies()}),
        "discrepancies": listed,
        "discrepancies_truncated": len(groups) - len(listed),
        "unmapped": full["unmapped"][:MAX_GROUPS_IN_EVENT],
    }


class ReconcileMetrics:
    """Counters and gauges on the registry the process exposes at /metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "spendgate_reconciliation_runs", "Reconciliation runs by outcome",
            ["provider", "outcome"], registry=registry,
        )
        self.groups = Gauge(
            "spendgate_reconciliation_groups", "Groups by status in the last run",
            ["provider", "status"], registry=registry,
        )
        self.discrepancies = Counter(
            "spendgate_reconciliation_discrepancies",
            "Groups beyond tolerance, duplicate and unmapped rows found",
            ["provider", "kind"], registry=registry,
        )

    def record(self, report: Report) -> None:
        s = report.summary
        self.runs.labels(report.provider, "ok" if report.ok else "discrepancy").inc()
        by_status = s.to_dict()
        for status in STATUSES:
            self.groups.labels(report.provider, status).set(by_status[status])
        self.discrepancies.labels(report.provider, "group").inc(s.discrepancies)
        self.discrepancies.labels(report.provider, "duplicate_row").inc(s.duplicate_rows)
        self.discrepancies.labels(report.provider, "unmapped_row").inc(s.unmapped_rows)


def alert(report: Report, publisher: WebhookPublisher | None = None,
          metrics: ReconcileMetrics | None = None) -> bool:
    """Record metrics and, beyond tolerance, publish one event per run; True if published."""
    if metrics is not None:
        metrics.record(report)
    data = discrepancy_payload(report)
    if data is None or publisher is None:
        return False
    key = f"{DISCREPANCY_EVENT}:{report.run_id}"
    publisher.publish(DISCREPANCY_EVENT, data, idempotency_key=key)
    return True


__all__ = [
    "DISCREPANCY_EVENT",
    "ReconcileMetrics",
    "WebhookPublisher",
    "alert",
    "discrepancy_payload",
]
