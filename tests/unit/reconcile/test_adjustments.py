from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from spendgate.errors import InvalidRequest
from spendgate.metering.events import UsageEvent
from spendgate.reconcile import (
    EventsMeteredUsage,
    Grain,
    InMemoryAdjustmentSink,
    InputFile,
    JsonLinesAdjustmentSink,
    JsonLinesMeteredUsage,
    ProviderMapping,
    Report,
    adjustments,
    reconcile,
)

from .conftest import DATA, read_pages, write_pages


def _drifted(tmp_path: Path) -> list[InputFile]:
    pages = read_pages("openai_usage_completions.jsonl")
    row = pages[0]["data"][1]["results"][2]
    row["output_tokens"] = row["output_tokens"] * 103 // 100
    del pages[1]["data"][0]["results"][0]  # Nov 3 acme/studio gpt-4o: not at the provider
    return [write_pages(tmp_path / "usage.jsonl", pages)]


def _run(files: list[InputFile], metered: list[UsageEvent], mapping: ProviderMapping) -> Report:
    return reconcile("openai", files, EventsMeteredUsage(metered), mapping)


def test_adjustments_move_spendgate_onto_the_provider_and_rerunning_adds_nothing(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    files = _drifted(tmp_path)
    sink = InMemoryAdjustmentSink()
    first = _run(files, events, mapping)
    made = adjustments(first, tenant="acme-tenant", env="live")
    assert sink.apply(made) == 2
    assert {e.kind for e in made} == {"adjustment"}
    by_model = {(e.org, e.project, e.dimensions["model"]): e for e in made}
    under = by_model[("acme", "support", "gpt-4o-mini")]
    assert under.quantities["output_tokens"] > 0 and set(under.quantities) == {"output_tokens"}
    reversed_ = by_model[("acme", "studio", "gpt-4o")]
    assert all(q <= 0 for q in reversed_.quantities.values())
    assert reversed_.quantities["requests"] < 0
    # The journal now holds the adjustments: the same reconciliation matches and adds nothing.
    second = _run(files, [*events, *sink.events.values()], mapping)
    assert second.ok
    assert adjustments(second, tenant="acme-tenant", env="live") == []
    # Applying the first run's events again adds nothing either: ids are deterministic.
    assert sink.apply(adjustments(first, tenant="acme-tenant", env="live")) == 0


def test_adjustment_ids_depend_on_the_inputs_not_on_the_metered_numbers(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    files = _drifted(tmp_path)
    a = adjustments(_run(files, events, mapping), tenant="t", env="live")
    fewer = [e for e in events if e.org != "globex"]
    b = adjustments(_run(files, fewer, mapping), tenant="t", env="live")
    assert len(b) > len(a)
    assert {e.id for e in a} <= {e.id for e in b}


def test_cost_differences_become_credit_adjustments_at_the_credit_value(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    pages = read_pages("openai_costs.json")
    pages[0]["data"][0]["results"][0]["amount"]["value"] = (
        pages[0]["data"][0]["results"][0]["amount"]["value"] + 1
    )
    report = reconcile("openai", [write_pages(tmp_path / "c.jsonl", pages)],
                       EventsMeteredUsage(events), mapping)
    [event] = adjustments(report, tenant="t", env="live", credit_value=mapping.credit_value)
    assert event.meter == "credits"
    assert event.credits_nano == 100 * 10**9  # $1 at 1 credit = $0.01
    assert event.quantities == {}


def test_adjustments_need_the_org_in_the_grain(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    report = reconcile("openai", _drifted(tmp_path), EventsMeteredUsage(events), mapping,
                       grain=Grain("day", ("model",)))
    with pytest.raises(InvalidRequest, match="org"):
        adjustments(report, tenant="t", env="live")


def test_the_json_lines_journal_appends_only_new_events_and_feeds_the_metered_side(
    mapping: ProviderMapping, tmp_path: Path
) -> None:
    files = _drifted(tmp_path)
    journal = tmp_path / "adjustments.jsonl"
    sink = JsonLinesAdjustmentSink(journal)
    metered = [DATA / "metered_events.jsonl"]
    first = reconcile("openai", files, JsonLinesMeteredUsage(metered), mapping)
    assert sink.apply(adjustments(first, tenant="acme-tenant", env="live")) == 2
    assert sink.apply(adjustments(first, tenant="acme-tenant", env="live")) == 0
    assert len(journal.read_text().splitlines()) == 2
    again = reconcile("openai", files, JsonLinesMeteredUsage([*metered, journal]), mapping)
    assert again.ok
    written = UsageEvent.from_dict(json.loads(journal.read_text().splitlines()[0]))
    assert written.kind == "adjustment"
    assert all(isinstance(q, Decimal) for q in written.quantities.values())


def test_adjustments_fed_back_match_with_a_worker_process_too(
    mapping: ProviderMapping, events: list[UsageEvent], tmp_path: Path
) -> None:
    files = _drifted(tmp_path)
    nov_1, nov_4 = 1_761_955_200_000, 1_762_214_400_000
    first = reconcile("openai", files, EventsMeteredUsage(events), mapping, from_ms=nov_1,
                      to_ms=nov_4)
    made = adjustments(first, tenant="acme-tenant", env="live")
    again = reconcile("openai", files, EventsMeteredUsage([*events, *made]), mapping,
                      from_ms=nov_1, to_ms=nov_4, workers=2)
    assert again.ok, [g.to_dict() for g in again.discrepancies()]
