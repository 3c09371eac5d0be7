from __future__ import annotations

import spendgate.reconcile as reconcile


def test_package_exports_exactly_its_documented_surface() -> None:
    assert sorted(reconcile.__all__) == sorted([
        "COST", "DISCREPANCY_EVENT", "PROVIDERS", "REQUESTS", "AdjustmentSink", "CreditValue",
        "CsvLayout", "DuplicateRow", "EventsMeteredUsage", "FileSummary", "Grain",
        "GroupComparison", "GroupKey", "InMemoryAdjustmentSink", "InputFile", "Invoice",
        "JsonLinesAdjustmentSink", "JsonLinesMeteredUsage", "MeasureDiff", "MeteredRow",
        "MeteredUsage", "Pricer", "ProviderMapping", "ProviderRow", "ReconcileInputError",
        "ReconcileMetrics", "Report", "Summary", "Tolerance", "UnmappedRows", "VendorTotal",
        "VendorTotals", "WebhookPublisher", "adjustment_id", "adjustments", "alert",
        "compare_vendor", "discrepancy_payload", "invoice_totals", "load_mapping",
        "mapping_from_dict", "per_org",
        "read_anthropic", "read_csv", "read_openai", "reconcile", "row_of_event", "run_id_of",
        "sent_totals",
    ])
    for name in reconcile.__all__:
        assert hasattr(reconcile, name), name


def test_cli_module_imports_no_other_entry_point() -> None:
    import ast
    from pathlib import Path

    import spendgate.cli_reconcile as cli

    tree = ast.parse(Path(cli.__file__).read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    entry_points = {m for m in imported if m == "spendgate.cli" or m.startswith("spendgate.api")}
    assert not entry_points
