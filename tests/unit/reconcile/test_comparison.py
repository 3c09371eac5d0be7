from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from spendgate.metering.events import UsageEvent
from spendgate.reconcile import (
    EventsMeteredUsage,
    Grain,
    GroupKey,
    InputFile,
    ProviderMapping,
    ReconcileInputError,
    Tolerance,
    mapping_from_dict,
    reconcile,
)

from .conftest import ANTHROPIC_FILES, DATA, OPENAI_FILES, data_files, read_pages, write_pages

NOV_1 = 1_761_955_200_000
NOV_2 = NOV_1 + 86_400_000
NOV_3 = NOV_2 + 86_400_000
NOV_4 = NOV_3 + 86_400_000


def test_exact_sample_exports_report_zero_differences(
    mapping: ProviderMapping, events: list[UsageEvent]
) -> None:
    for provider, names in (("openai", OPENAI_FILES), ("anthropic", ANTHROPIC_FILES),
                            ("csv", ("videogen_usage.csv",))):
        report = reconcile(provider, data_files(*names), EventsMeteredUsage(events), mapping)
        assert report.ok, provider
        assert report.summary.groups == report.summary.matched > 0
        for group in report.groups:
            assert group.measures, group.key
            assert all(m.difference == 0 for m in group.measures), group.key


def test_a_day_missing_from_the_provider_export_is_found_on_that_day(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_usage_completions.jsonl")
    del pages[0]["data"][1]  # the provider export lacks 2025-11-02
    usage = write_pages(tmp_path / "usage.jsonl", pages)
    report = reconcile("openai", [usage], EventsMeteredUsage(events), mapping)
    missing = [g for g in report.groups if g.status != "matched"]
    assert {g.key.period_ms for g in missing} == {NOV_2}
    assert {g.status for g in missing} == {"missing_in_provider"}
    assert {(g.key.org, g.key.project, g.key.model) for g in missing} == {
        ("acme", "studio", "gpt-4o"), ("acme", "studio", "gpt-4o-mini"),
        ("acme", "support", "gpt-4o-mini"), ("globex", "batch", "gpt-4o"),
    }


def test_a_day_missing_from_spendgate_is_found_when_the_range_covers_it(
    mapping: ProviderMapping, events: list[UsageEvent]
) -> None:
    kept = [e for e in events if not NOV_3 <= e.timestamp_ms < NOV_4]
    report = reconcile("openai", data_files("openai_usage_completions.jsonl"),
                       EventsMeteredUsage(kept), mapping, from_ms=NOV_1, to_ms=NOV_4)
    statuses = {(g.key.period_ms, g.status) for g in report.groups if g.status != "matched"}
    assert statuses == {(NOV_3, "missing_in_spendgate")}


def test_a_wrongly_mapped_model_shows_on_both_models_it_touches(
    mapping: ProviderMapping, events: list[UsageEvent]
) -> None:
    wrong = dict(mapping.models)
    wrong["openai"] = {**mapping.models["openai"], "gpt-4o-mini-*": "gpt-4o"}
    report = reconcile("openai", data_files("openai_usage_completions.jsonl"),
                       EventsMeteredUsage(events), replace(mapping, models=wrong))
    bad = {(g.key.project, g.key.model, g.status) for g in report.discrepancies()}
    assert bad == {
        ("studio", "gpt-4o", "under"),  # the provider's mini usage landed on gpt-4o
        ("studio", "gpt-4o-mini", "missing_in_provider"),
        ("support", "gpt-4o-mini", "missing_in_provider"),
        ("support", "gpt-4o", "missing_in_spendgate"),
    }


def test_tokens_three_percent_high_are_found_in_their_group_only(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_usage_completions.jsonl")
    target = pages[0]["data"][1]["results"][2]  # Nov 2, acme/support, gpt-4o-mini
    target["output_tokens"] = target["output_tokens"] * 103 // 100
    usage = write_pages(tmp_path / "usage.jsonl", pages)
    report = reconcile("openai", [usage], EventsMeteredUsage(events), mapping)
    [group] = report.discrepancies()
    assert group.key == GroupKey(NOV_2, "acme", "support", "gpt-4o-mini", "llm")
    assert group.status == "under"  # Spendgate metered less than the provider
    [measure] = [m for m in group.measures if not m.within_tolerance]
    assert measure.name == "output_tokens"
    assert measure.relative is not None
    assert Decimal("-0.030") < measure.relative < Decimal("-0.028")
    # Within a 5 % tolerance the same drift is accepted.
    loose = reconcile("openai", [usage], EventsMeteredUsage(events), mapping,
                      tolerance=Tolerance(Decimal("0.05")))
    assert loose.ok


def test_a_duplicated_provider_row_is_reported_once_and_counted_once(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_usage_completions.jsonl")
    results = pages[1]["data"][0]["results"]
    results.append(copy.deepcopy(results[3]))  # Nov 3, globex/batch, gpt-4o twice
    usage = write_pages(tmp_path / "usage.jsonl", pages)
    report = reconcile("openai", [usage], EventsMeteredUsage(events), mapping)
    assert report.summary.discrepancies == 0
    assert report.summary.duplicate_rows == 1
    assert not report.ok
    [dup] = report.duplicates
    assert dup.group == GroupKey(NOV_3, "globex", "batch", "gpt-4o", "llm")
    assert dup.file.endswith("usage.jsonl") and "result 5" in dup.row


def test_the_same_file_imported_twice_adds_nothing(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    once = reconcile("openai", data_files("openai_usage_completions.jsonl"),
                     EventsMeteredUsage(events), mapping)
    copy_path = tmp_path / "again.jsonl"
    copy_path.write_bytes((DATA / "openai_usage_completions.jsonl").read_bytes())
    twice = reconcile(
        "openai",
        [*data_files("openai_usage_completions.jsonl"), InputFile.from_path(copy_path)],
        EventsMeteredUsage(events), mapping,
    )
    assert twice.ok and twice.groups == once.groups
    assert twice.files[1].duplicate_of is not None and twice.files[1].rows == 0
    assert twice.run_id == once.run_id


def test_unmapped_rows_are_reported_with_their_quantities_never_dropped(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_usage_completions.jsonl")
    row = pages[0]["data"][0]["results"][0]
    row["model"] = "gpt-5-turbo-preview"
    row["project_id"], row["api_key_id"] = "proj_unknown", "key_unknown"
    pages[0]["data"][0]["results"].append({**row, "model": "gpt-4o-2024-08-06"})
    usage = write_pages(tmp_path / "usage.jsonl", pages)
    report = reconcile("openai", [usage], EventsMeteredUsage(events), mapping)
    reasons = {(u.reason, u.value): u for u in report.unmapped}
    assert set(reasons) == {("account", "key_unknown")}
    assert reasons[("account", "key_unknown")].rows == 2
    assert reasons[("account", "key_unknown")].first_row.startswith("line 1, page 1, bucket 1")
    with pytest.raises(ReconcileInputError, match="strict"):
        reconcile("openai", [usage], EventsMeteredUsage(events), mapping, strict=True)


def test_an_unknown_model_is_reported_or_refused_in_strict_mode(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_usage_completions.jsonl")
    pages[0]["data"][0]["results"][1]["model"] = "gpt-5-turbo-preview"
    usage = write_pages(tmp_path / "usage.jsonl", pages)
    report = reconcile("openai", [usage], EventsMeteredUsage(events), mapping)
    [unmapped] = report.unmapped
    assert (unmapped.reason, unmapped.value, unmapped.rows) == ("model", "gpt-5-turbo-preview", 1)
    with pytest.raises(ReconcileInputError) as caught:
        reconcile("openai", [usage], EventsMeteredUsage(events), mapping, strict=True)
    assert caught.value.file.endswith("usage.jsonl")
    assert caught.value.row == "line 1, page 1, bucket 1, result 2"


def test_mixed_currencies_in_one_comparison_are_refused(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_costs.json")
    pages[0]["data"][2]["results"][0]["amount"]["currency"] = "eur"
    costs = write_pages(tmp_path / "costs.jsonl", pages)
    with pytest.raises(ReconcileInputError) as caught:
        reconcile("openai", [costs], EventsMeteredUsage(events), mapping)
    assert "EUR differs from USD" in caught.value.detail
    assert caught.value.row is not None and "bucket 3, result 1" in caught.value.row


def test_buckets_not_aligned_to_utc_days_are_refused(
    mapping: ProviderMapping, events: list[UsageEvent]
) -> None:
    page = (b'{"data": [{"starting_at": "2025-11-02T00:00:00+02:00", "ending_at": '
            b'"2025-11-03T00:00:00+02:00", "results": [{"uncached_input_tokens": 1, '
            b'"output_tokens": 1, "model": "claude-sonnet-4-20250514", "workspace_id": null}]}]}')
    with pytest.raises(ReconcileInputError, match="does not fit one UTC day"):
        reconcile("anthropic", [InputFile.from_bytes("usage.json", page)],
                  EventsMeteredUsage(events), mapping)
    # At month grain the same bucket fits.
    report = reconcile("anthropic", [InputFile.from_bytes("usage.json", page)],
                       EventsMeteredUsage(events), mapping, grain=Grain("month"))
    assert report.summary.groups > 0


def test_the_grain_can_drop_dimensions_and_widen_the_period(
    mapping: ProviderMapping, events: list[UsageEvent]
) -> None:
    report = reconcile("openai", data_files("openai_usage_completions.jsonl"),
                       EventsMeteredUsage(events), mapping, grain=Grain("month", ("org",)))
    assert report.ok
    assert {(g.key.org, g.key.project, g.key.model) for g in report.groups} == {
        ("acme", "*", "*"), ("globex", "*", "*")
    }


def test_metered_usage_of_other_providers_models_is_out_of_scope(
    mapping: ProviderMapping, events: list[UsageEvent]
) -> None:
    report = reconcile("anthropic", data_files("anthropic_usage_messages.json"),
                       EventsMeteredUsage(events), mapping)
    assert report.ok
    assert report.metered_out_of_scope > 0
    assert all(g.key.model.startswith("claude-") for g in report.groups)


def test_quantity_names_can_be_renamed_and_measures_restricted(
    events: list[UsageEvent],
) -> None:
    mapping = mapping_from_dict({
        "accounts": [{"provider": "openai", "org": "acme", "project": "studio"}],
        "models": {"openai": {"dall-e-3": "dall-e-3"}},
        "quantities": {"openai": {"count": "images"}},
        "measures": ["images"],
    })
    renamed = [replace(e, quantities={"images": e.quantities["count"]})
               if e.meter == "image" else e for e in events]
    report = reconcile("openai", data_files("openai_usage_images.json"),
                       EventsMeteredUsage(renamed), mapping)
    assert report.ok
    assert {m.name for g in report.groups for m in g.measures} == {"images"}


def test_a_worker_process_gives_the_same_report_as_one_process(
    mapping: ProviderMapping, tmp_path: Path
) -> None:
    from spendgate.reconcile import JsonLinesMeteredUsage

    pages = read_pages("openai_usage_completions.jsonl")
    pages[0]["data"][0]["results"][0]["output_tokens"] += 10_000
    files = [write_pages(tmp_path / "u.jsonl", pages), *data_files("openai_costs.json")]
    metered = JsonLinesMeteredUsage([DATA / "metered_events.jsonl"])
    one = reconcile("openai", files, metered, mapping, from_ms=NOV_1, to_ms=NOV_4)
    two = reconcile("openai", files, metered, mapping, from_ms=NOV_1, to_ms=NOV_4, workers=2)
    assert two.to_dict() == one.to_dict()
    assert not two.ok and two.summary.under == 1
    assert two.metered_out_of_scope == one.metered_out_of_scope


def test_bad_input_in_a_worker_process_is_raised_here(
    mapping: ProviderMapping, events: list[UsageEvent]
) -> None:
    bad = InputFile.from_bytes("cut.json", b'{"data": [{"object": "bucket", "start_')
    with pytest.raises(ReconcileInputError) as caught:
        reconcile("openai", [bad], EventsMeteredUsage(events), mapping, from_ms=NOV_1,
                  to_ms=NOV_4, workers=2)
    assert caught.value.file == "cut.json"
