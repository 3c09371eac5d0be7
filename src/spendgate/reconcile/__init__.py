"""Reconciliation: import AI providers' usage and cost exports and compare them with what
Spendgate metered, per period, org, project, model and meter; the same against a vendor."""

from spendgate.reconcile.adjustment import (
    AdjustmentSink,
    InMemoryAdjustmentSink,
    JsonLinesAdjustmentSink,
    Pricer,
    adjustment_id,
    adjustments,
)
from spendgate.reconcile.alerting import (
    DISCREPANCY_EVENT,
    ReconcileMetrics,
    WebhookPublisher,
    alert,
    discrepancy_payload,
)
from spendgate.reconcile.anthropic import read_anthropic
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.generic_csv import read_csv
from spendgate.reconcile.grain import Grain
from spendgate.reconcile.mapping import (
    CreditValue,
    CsvLayout,
    ProviderMapping,
    load_mapping,
    mapping_from_dict,
)
from spendgate.reconcile.metered import (
    EventsMeteredUsage,
    JsonLinesMeteredUsage,
    MeteredUsage,
    row_of_event,
)
from spendgate.reconcile.openai import read_openai
from spendgate.reconcile.reconciliation import PROVIDERS, reconcile, run_id_of
from spendgate.reconcile.report import (
    DuplicateRow,
    FileSummary,
    GroupComparison,
    MeasureDiff,
    Report,
    Summary,
    Tolerance,
    UnmappedRows,
)
from spendgate.reconcile.rows import COST, REQUESTS, GroupKey, MeteredRow, ProviderRow
from spendgate.reconcile.source import InputFile
from spendgate.reconcile.vendor import (
    Invoice,
    VendorTotal,
    VendorTotals,
    compare_vendor,
    invoice_totals,
    per_org,
    sent_totals,
)

__all__ = [
    "COST",
    "DISCREPANCY_EVENT",
    "PROVIDERS",
    "REQUESTS",
    "AdjustmentSink",
    "CreditValue",
    "CsvLayout",
    "DuplicateRow",
    "EventsMeteredUsage",
    "FileSummary",
    "Grain",
    "GroupComparison",
    "GroupKey",
    "InMemoryAdjustmentSink",
    "InputFile",
    "Invoice",
    "JsonLinesAdjustmentSink",
    "JsonLinesMeteredUsage",
    "MeasureDiff",
    "MeteredRow",
    "MeteredUsage",
    "Pricer",
    "ProviderMapping",
    "ProviderRow",
    "ReconcileInputError",
    "ReconcileMetrics",
    "Report",
    "Summary",
    "Tolerance",
    "UnmappedRows",
    "VendorTotal",
    "VendorTotals",
    "WebhookPublisher",
    "adjustment_id",
    "adjustments",
    "alert",
    "compare_vendor",
    "discrepancy_payload",
    "invoice_totals",
    "load_mapping",
    "mapping_from_dict",
    "per_org",
    "read_anthropic",
    "read_csv",
    "read_openai",
    "reconcile",
    "row_of_event",
    "run_id_of",
    "sent_totals",
]
