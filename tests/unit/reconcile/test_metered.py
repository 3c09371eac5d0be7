from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from spendgate.metering.events import UsageEvent
from spendgate.reconcile import JsonLinesMeteredUsage, ReconcileInputError, row_of_event

from .conftest import DATA


def _event(**changes: object) -> dict[str, object]:
    event = UsageEvent(
        id="evt_1", tenant="t", env="live", org="acme", project="studio", user=None, meter="llm",
        timestamp_ms=1_761_955_200_000, credits_nano=1_500_000_000,
        quantities={"input_tokens": Decimal(10), "output_tokens": Decimal("2.5")},
        dimensions={"model": "gpt-4o"},
    ).to_dict()
    event.update(changes)
    return event


def test_json_lines_events_read_as_the_rows_usage_events_give(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(_event()) + "\n\n" + json.dumps(_event(kind="adjustment")) + "\n")
    rows = list(JsonLinesMeteredUsage([path]).rows(0, 2**62))
    expected = row_of_event(UsageEvent.from_dict(_event()))
    assert rows[0] == expected
    assert rows[0].quantities == {"input_tokens": 10, "output_tokens": Decimal("2.5")}
    assert rows[0].credits_nano == 1_500_000_000 and rows[0].model == "gpt-4o"
    assert rows[1].events == 0  # an adjustment is not a request
    assert list(JsonLinesMeteredUsage([path]).rows(0, 1_761_955_200_000)) == []


def test_the_tenant_filter_keeps_only_its_events(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(_event()) + "\n" + json.dumps(_event(tenant="other")) + "\n")
    assert len(list(JsonLinesMeteredUsage([path], tenant="t").rows(0, 2**62))) == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "evt_1", "org": "acme"', "invalid JSON"),
        (json.dumps(_event(quantities={"input_tokens": 1.5})), "no floats"),
        (json.dumps(_event(credits="1.5e3")), "credits"),
        (json.dumps(_event(timestamp_ms="2025-11-01")), "timestamp_ms"),
    ],
)
def test_a_bad_event_line_names_the_file_and_line(tmp_path: Path, line: str,
                                                  message: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(_event()) + "\n" + line + "\n")
    with pytest.raises(ReconcileInputError) as caught:
        list(JsonLinesMeteredUsage([path]).rows(0, 2**62))
    assert caught.value.file == str(path) and caught.value.row == "line 2"
    assert message in caught.value.detail


def test_the_sample_events_all_read() -> None:
    rows = list(JsonLinesMeteredUsage([DATA / "metered_events.jsonl"]).rows(0, 2**62))
    assert len(rows) == 102
