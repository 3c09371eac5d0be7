"""OpenAI organization Usage API and Costs API exports, read bucket by bucket.

Sources (field names): https://platform.openai.com/docs/api-reference/usage and
https://platform.openai.com/docs/api-reference/usage/costs — see docs/reconcile.md.
Usage results become Spendgate quantities, disjoint like Spendgate's `llm` shape:
`input_tokens` (OpenAI's count includes cached tokens, so cached ones are subtracted),
`cached_input_tokens`, `output_tokens`, audio tokens, `count` (images), `characters`,
`seconds` and `requests`. Cost results become the `cost` measure in major currency units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from spendgate.reconcile._parse import (
    amount,
    count,
    currency,
    row_key,
    text_or_none,
    unix_seconds_ms,
)
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.jsonstream import iter_buckets
from spendgate.reconcile.rows import COST, REQUESTS, ProviderRow, Quantity
from spendgate.reconcile.source import InputFile

PROVIDER = "openai"
_PREFIX = "organization.usage."
# Fields that identify a result inside its bucket (everything that is not a quantity).
_GROUPING = ("object", "project_id", "user_id", "api_key_id", "model", "batch",
             "service_tier", "source", "size", "line_item")

# result kind -> (meter, [(OpenAI field, Spendgate quantity)])
_KINDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "completions": ("llm", (("output_tokens", "output_tokens"),
                            ("input_audio_tokens", "input_audio_tokens"),
                            ("output_audio_tokens", "output_audio_tokens"))),
    "embeddings": ("llm", ()),
    "moderations": ("llm", ()),
    "images": ("image", (("images", "count"),)),
    "audio_speeches": ("audio", (("characters", "characters"),)),
    "audio_transcriptions": ("audio", (("seconds", "seconds"),)),
}


def read_openai(
    file: InputFile, progress: Callable[[int], None] | None = None
) -> Iterator[ProviderRow]:
    """Every usage or cost result in an OpenAI export, normalised; bad input raises."""
    name = file.name
    with file.open() as stream:
        for bucket in iter_buckets(stream, name, progress):
            where = f"line {bucket.line}, page {bucket.page}, bucket {bucket.number}"
            value = bucket.value
            if not isinstance(value, dict) or value.get("object", "bucket") != "bucket":
                raise ReconcileInputError(name, where, "expected a bucket object")
            start = unix_seconds_ms(value.get("start_time"), name, where, "start_time")
            end = unix_seconds_ms(value.get("end_time"), name, where, "end_time")
            if end <= start:
                raise ReconcileInputError(name, where, "end_time must be after start_time")
            results = value.get("results", value.get("result"))
            if not isinstance(results, list):
                raise ReconcileInputError(name, where, "bucket has no results list")
            for i, result in enumerate(results, 1):
                row = f"{where}, result {i}"
                if not isinstance(result, dict):
                    raise ReconcileInputError(name, row, "expected a result object")
                yield _row(result, name, row, start, end)


def _row(result: dict[str, Any], name: str, row: str, start: int, end: int) -> ProviderRow:
    obj = result.get("object")
    key = row_key(PROVIDER, start, end, *[result.get(f) for f in _GROUPING])
    account = text_or_none(result.get("project_id"), name, row, "project_id")
    api_key = text_or_none(result.get("api_key_id"), name, row, "api_key_id")
    model = text_or_none(result.get("model"), name, row, "model")
    if obj == "organization.costs.result":
        money = result.get("amount")
        if not isinstance(money, dict):
            raise ReconcileInputError(name, row, "amount must be an object {value, currency}")
        code = currency(money.get("currency"), name, row)
        cost = amount(money.get("value"), name, row, "amount.value")
        if model is None:
            model = _model_of_line_item(text_or_none(result.get("line_item"), name, row,
                                                     "line_item"))
        return ProviderRow(PROVIDER, name, row, key, start, end, account, api_key, model, "*",
                           {COST: cost}, code)
    if not isinstance(obj, str) or not obj.startswith(_PREFIX) or not obj.endswith(".result"):
        raise ReconcileInputError(name, row, f"unknown result object {obj!r}")
    kind = obj[len(_PREFIX):-len(".result")]
    spec = _KINDS.get(kind)
    if spec is None:
        raise ReconcileInputError(
            name, row, f"usage of {kind!r} is not reconciled (supported: {', '.join(_KINDS)})"
        )
    meter, fields = spec
    quantities: dict[str, Quantity] = {
        REQUESTS: count(result.get("num_model_requests"), name, row, "num_model_requests")
    }
    if kind in ("completions", "embeddings", "moderations"):
        total = count(result.get("input_tokens"), name, row, "input_tokens")
        cached = count(result.get("input_cached_tokens"), name, row, "input_cached_tokens")
        if cached > total:
            raise ReconcileInputError(name, row, "input_cached_tokens exceeds input_tokens")
        quantities["input_tokens"] = total - cached
        if kind == "completions":
            quantities["cached_input_tokens"] = cached
    for source, target in fields:
        raw = result.get(source)
        if target == "seconds" and raw is not None and not isinstance(raw, int):
            quantities[target] = amount(raw, name, row, source)
        else:
            quantities[target] = count(raw, name, row, source)
    return ProviderRow(PROVIDER, name, row, key, start, end, account, api_key, model, meter,
                       quantities)


def _model_of_line_item(line_item: str | None) -> str | None:
    """Cost line items read "<model>, <token type>"; the model part is what maps."""
    if line_item is None:
        return None
    return line_item.split(",", 1)[0].strip() or None


__all__ = ["PROVIDER", "read_openai"]
