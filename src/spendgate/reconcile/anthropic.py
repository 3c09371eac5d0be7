"""Anthropic Admin API exports: the messages usage report and the cost report.

Sources (field names): https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
and https://platform.claude.com/docs/en/api/admin/cost_report/retrieve — see docs/reconcile.md.
Usage maps to Spendgate's disjoint `llm` quantities: `uncached_input_tokens` -> `input_tokens`,
`cache_read_input_tokens` -> `cached_input_tokens`, cache creation (5 m + 1 h) ->
`cache_write_tokens`, `output_tokens`, and `server_tool_use.web_search_requests`. Cost amounts
are decimal strings in the currency's lowest unit (cents) and become `cost` in major units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from spendgate.reconcile._parse import (
    MINOR_EXPONENT,
    amount,
    count,
    currency,
    rfc3339_ms,
    row_key,
    text_or_none,
)
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.jsonstream import read_bucket_rows
from spendgate.reconcile.rows import COST, ProviderRow, Quantity
from spendgate.reconcile.source import InputFile

PROVIDER = "anthropic"
_GROUPING = ("workspace_id", "api_key_id", "model", "service_tier", "context_window",
             "inference_geo", "account_id", "service_account_id", "speed", "cost_type",
             "token_type", "description")


def read_anthropic(
    file: InputFile, progress: Callable[[int], None] | None = None
) -> Iterator[ProviderRow]:
    """Every result of an Anthropic usage or cost report, normalised; bad input raises."""
    return read_bucket_rows(file, _bucket, progress)


def _bucket(value: Any, name: str, where: str) -> list[ProviderRow]:
    if not isinstance(value, dict):
        raise ReconcileInputError(name, where, "expected a bucket object")
    start = rfc3339_ms(value.get("starting_at"), name, where, "starting_at")
    end = rfc3339_ms(value.get("ending_at"), name, where, "ending_at")
    if end <= start:
        raise ReconcileInputError(name, where, "ending_at must be after starting_at")
    results = value.get("results")
    if not isinstance(results, list):
        raise ReconcileInputError(name, where, "bucket has no results list")
    rows = []
    for i, result in enumerate(results, 1):
        if not isinstance(result, dict):
            raise ReconcileInputError(name, f"{where}, result {i}", "expected a result object")
        rows.append(_row(result, name, where, i, start, end))
    return rows


def _row(result: dict[str, Any], name: str, where: str, i: int, start: int,
         end: int) -> ProviderRow:
    row = f"{where}, result {i}"
    key = row_key(PROVIDER, start, end, "amount" in result,
                  *[result.get(f) for f in _GROUPING])
    account = text_or_none(result.get("workspace_id"), name, row, "workspace_id")
    api_key = text_or_none(result.get("api_key_id"), name, row, "api_key_id")
    model = text_or_none(result.get("model"), name, row, "model")
    if "amount" in result:
        code = currency(result.get("currency"), name, row)
        minor = amount(result["amount"], name, row, "amount")
        cost = minor.scaleb(-MINOR_EXPONENT[code])
        return ProviderRow(PROVIDER, name, where, i, key, start, end, account, api_key, model, "*",
                           {COST: cost}, code)
    nested = result.get("cache_creation")
    if nested is None:
        # Flattened spelling seen in some exports of the same report.
        write = count(result.get("cache_creation_5m_input_tokens"), name, row,
                      "cache_creation_5m_input_tokens") + count(
            result.get("cache_creation_1h_input_tokens"), name, row,
            "cache_creation_1h_input_tokens")
    elif isinstance(nested, dict):
        write = count(nested.get("ephemeral_5m_input_tokens"), name, row,
                      "cache_creation.ephemeral_5m_input_tokens") + count(
            nested.get("ephemeral_1h_input_tokens"), name, row,
            "cache_creation.ephemeral_1h_input_tokens")
    else:
        raise ReconcileInputError(name, row, "cache_creation must be an object")
    if "uncached_input_tokens" not in result or "output_tokens" not in result:
        raise ReconcileInputError(
            name, row, "a usage result needs uncached_input_tokens and output_tokens"
        )
    quantities: dict[str, Quantity] = {
        "input_tokens": count(result["uncached_input_tokens"], name, row,
                              "uncached_input_tokens"),
        "cached_input_tokens": count(result.get("cache_read_input_tokens"), name, row,
                                     "cache_read_input_tokens"),
        "cache_write_tokens": write,
        "output_tokens": count(result["output_tokens"], name, row, "output_tokens"),
    }
    tools = result.get("server_tool_use")
    if isinstance(tools, dict) and tools.get("web_search_requests") is not None:
        quantities["web_search_requests"] = count(
            tools["web_search_requests"], name, row, "server_tool_use.web_search_requests"
        )
    return ProviderRow(PROVIDER, name, where, i, key, start, end, account, api_key, model, "llm",
                       quantities)


__all__ = ["PROVIDER", "read_anthropic"]
