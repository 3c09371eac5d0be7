from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest

from spendgate.reconcile import (
    COST,
    InputFile,
    ProviderMapping,
    ReconcileInputError,
    jsonstream,
    read_anthropic,
    read_csv,
    read_openai,
)

from .conftest import data_files


def test_openai_completions_become_disjoint_spendgate_token_counts() -> None:
    rows = list(read_openai(data_files("openai_usage_completions.jsonl")[0]))
    assert len(rows) == 12  # 3 days x 4 groups, over two pages
    first = rows[0]
    assert first.meter == "llm"
    assert (first.account, first.api_key, first.model) == (
        "proj_studio", "key_studio_web", "gpt-4o-2024-08-06"
    )
    # OpenAI's input_tokens include the cached ones; Spendgate counts each token once.
    raw_input, raw_cached = 317_900, 137_400
    assert first.quantities["input_tokens"] + first.quantities["cached_input_tokens"] == (
        raw_input
    )
    assert first.quantities["cached_input_tokens"] == raw_cached
    assert first.start_ms == 1_761_955_200_000 and first.end_ms - first.start_ms == 86_400_000
    assert first.row == "line 1, page 1, bucket 1, result 1"


def test_openai_images_count_images_and_requests() -> None:
    rows = list(read_openai(data_files("openai_usage_images.json")[0]))
    assert {r.meter for r in rows} == {"image"}
    assert all(r.quantities["count"] == r.quantities["requests"] for r in rows)


def test_openai_cost_amounts_stay_exact_decimals_never_floats() -> None:
    rows = list(read_openai(data_files("openai_costs.json")[0]))
    costs = [r.quantities[COST] for r in rows]
    assert all(isinstance(c, Decimal) for c in costs)
    assert costs[0] == Decimal("0.79475")
    assert {r.currency for r in rows} == {"USD"}
    assert rows[0].model == "gpt-4o-2024-08-06"  # from the line item "<model>, input"


def test_anthropic_usage_maps_cache_fields_and_cost_cents_become_dollars() -> None:
    usage = list(read_anthropic(data_files("anthropic_usage_messages.json")[0]))
    sonnet = usage[0]
    assert sonnet.account == "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"
    assert set(sonnet.quantities) == {
        "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
        "web_search_requests",
    }
    assert usage[1].account is None  # the default workspace
    costs = list(read_anthropic(data_files("anthropic_cost_report.json")[0]))
    assert costs[0].quantities[COST] == Decimal("0.06843")  # "6.843" cents
    assert costs[0].meter == "*"


def test_csv_rows_use_the_configured_columns(mapping: ProviderMapping) -> None:
    assert mapping.csv is not None
    rows = list(read_csv(data_files("videogen_usage.csv")[0], mapping.csv))
    assert len(rows) == 6
    assert rows[0].quantities == {"seconds": 25, "requests": 5, COST: Decimal("1.25")}
    assert rows[0].row == "line 2"
    assert rows[0].account == "studio-team"


def test_buckets_split_across_read_chunks_parse_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = list(read_openai(data_files("openai_costs.json")[0]))
    monkeypatch.setattr(jsonstream, "_CHUNK", 7)
    chunked = list(read_openai(data_files("openai_costs.json")[0]))
    assert [r.quantities for r in chunked] == [r.quantities for r in whole]
    assert [r.key for r in chunked] == [r.key for r in whole]


def test_the_same_row_in_two_files_has_the_same_identity(tmp_path: Path) -> None:
    source = data_files("openai_usage_images.json")[0]
    copy = tmp_path / "copy.json"
    copy.write_bytes(Path(source.name).read_bytes())
    a = [r.key for r in read_openai(source)]
    b = [r.key for r in read_openai(InputFile.from_path(copy))]
    assert a == b and len(set(a)) == len(a)


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b'{"object": "page", "data": [{"object": "bucket", "start_time": 1', "line 1",
         "truncated"),
        (b'{"data": [\n{"object": "bucket", "start_time": 0, "end_time": 86400,\n'
         b' "results": [{"object": "organization.usage.completions.result", '
         b'"input_tokens": 1.5, "output_tokens": 1, "num_model_requests": 1}]}]}',
         "line 2, page 1, bucket 1, result 1", "input_tokens must be a non-negative integer"),
        (b'{"data": [{"object": "bucket", "start_time": 0, "end_time": 86400, "results": '
         b'[{"object": "organization.usage.vector_stores.result", "usage_bytes": 1}]}]}',
         "result 1", "not reconciled"),
        (b'{"data": [{"object": "bucket", "start_time": "2025-11-01", "end_time": 1, '
         b'"results": []}]}', "bucket 1", "start_time must be Unix seconds"),
        (b"", None, "is empty"),
    ],
)
def test_bad_openai_input_names_the_file_and_row(content: bytes, where: str | None,
                                                 message: str) -> None:
    with pytest.raises(ReconcileInputError) as caught:
        list(read_openai(InputFile.from_bytes("export.json", content)))
    error = caught.value
    assert error.file == "export.json"
    assert message in error.detail
    if where is not None:
        assert error.row is not None and where in error.row
    assert str(error).startswith("export.json")


def test_anthropic_naive_timestamps_are_refused() -> None:
    page = (b'{"data": [{"starting_at": "2025-11-01T00:00:00", "ending_at": '
            b'"2025-11-02T00:00:00", "results": []}], "has_more": false}')
    with pytest.raises(ReconcileInputError, match="no time zone"):
        list(read_anthropic(InputFile.from_bytes("usage.json", page)))


def test_csv_with_wrong_columns_is_refused_naming_the_header(mapping: ProviderMapping) -> None:
    assert mapping.csv is not None
    bad = (b"day,project,model,duration_seconds,generations,cost,currency\n"
           b"2025-11-01,a,b,1,1,1,USD\n")
    with pytest.raises(ReconcileInputError) as caught:
        list(read_csv(InputFile.from_bytes("video.csv", bad), mapping.csv))
    assert caught.value.row == "line 1 (header)"
    assert "missing column(s) date" in caught.value.detail


def test_csv_bad_value_names_the_line(mapping: ProviderMapping) -> None:
    assert mapping.csv is not None
    bad = (b"date,project,model,resolution,duration_seconds,generations,cost,currency\n"
           b"2025-11-01,studio-team,gen4_turbo,720p,25,5,1.25,USD\n"
           b"2025-11-02,studio-team,gen4_turbo,720p,ten,5,1.25,USD\n")
    with pytest.raises(ReconcileInputError) as caught:
        list(read_csv(InputFile.from_bytes("video.csv", bad), mapping.csv))
    assert caught.value.row == "line 3"
    assert "duration_seconds" in caught.value.detail


def test_invalid_json_in_the_middle_is_a_syntax_error_not_truncation() -> None:
    doc = io.BytesIO(b'{"data": [{"a": 1,}]}')
    with pytest.raises(ReconcileInputError, match="invalid JSON"):
        list(jsonstream.iter_buckets(doc, "x.json"))


def test_csv_naive_times_and_cost_without_currency_are_refused(
    mapping: ProviderMapping,
) -> None:
    assert mapping.csv is not None
    header = b"date,project,model,resolution,duration_seconds,generations,cost,currency\n"
    naive = header + b"2025-11-01T10:00:00,studio-team,gen4_turbo,720p,25,5,1.25,USD\n"
    with pytest.raises(ReconcileInputError, match="no time zone") as caught:
        list(read_csv(InputFile.from_bytes("video.csv", naive), mapping.csv))
    assert caught.value.row == "line 2"
    unknown = header + b"2025-11-01,studio-team,gen4_turbo,720p,25,5,1.25,XXX\n"
    with pytest.raises(ReconcileInputError, match="unsupported currency"):
        list(read_csv(InputFile.from_bytes("video.csv", unknown), mapping.csv))
