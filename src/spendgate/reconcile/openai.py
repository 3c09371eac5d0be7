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
from spendgate.reconcile.jsonstream import read_bucket_rows
from spendgate.reconcile.rows import COST, REQUESTS, ProviderRow, Quantity
from spendgate.reconcile.source import InputFile

PROVIDER = "openai"
_PREFIX = "organization.usage."
_COMPLETIONS = "organization.usage.completions.result"
_COSTS = "organization.costs.result"

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
_REQUIRED = {"completions": ("input_tokens", "output_tokens"), "embeddings": ("input_tokens",),
             "moderations": ("input_tokens",), "images": ("images",),
             "audio_speeches": ("characters",), "audio_transcriptions": ("seconds",)}


def read_openai(
    file: InputFile, progress: Callable[[int], None] | None = None
) -> Iterator[ProviderRow]:
    """Every usage or cost result in an OpenAI export, normalised; bad input raises."""
    return read_bucket_rows(file, _bucket, progress)


def _bucket(value: Any, name: str, where: str) -> list[ProviderRow]:
    if not isinstance(value, dict) or value.get("object", "bucket") != "bucket":
        raise ReconcileInputError(name, where, "expected a bucket object")
    start = unix_seconds_ms(value.get("start_time"), name, where, "start_time")
    end = unix_seconds_ms(value.get("end_time"), name, where, "end_time")
    if end <= start:
        raise ReconcileInputError(name, where, "end_time must be after start_time")
    results = value.get("results", value.get("result"))
    if not isinstance(results, list):
        raise ReconcileInputError(name, where, "bucket has no results list")
    rows: list[ProviderRow] = []
    append = rows.append
    new_row = tuple.__new__  # ProviderRow(...) without the Python-level __new__: hot path
    for i, r in enumerate(results, 1):
        if type(r) is not dict:
            raise ReconcileInputError(name, f"{where}, result {i}", "expected a result object")
        if r.get("object") != _COMPLETIONS:
            append(_other(r, name, where, i, start, end))
            continue
        # The hot path (most rows are completions): one combined type check, the precise
        # message comes from the general path when it fails.
        get = r.get
        inp = get("input_tokens")
        cached = get("input_cached_tokens") or 0
        out = get("output_tokens")
        audio_in = get("input_audio_tokens") or 0
        audio_out = get("output_audio_tokens") or 0
        requests = get("num_model_requests")
        project = get("project_id")
        api_key = get("api_key_id")
        model = get("model")
        if (type(inp) is not int or type(out) is not int or type(cached) is not int
                or type(audio_in) is not int or type(audio_out) is not int
                or type(requests) is not int or inp < cached or cached < 0 or out < 0
                or audio_in < 0 or audio_out < 0 or requests < 0
                or (project is not None and type(project) is not str)
                or (api_key is not None and type(api_key) is not str)
                or (model is not None and type(model) is not str)):
            append(_other(r, name, where, i, start, end))
            continue
        append(new_row(ProviderRow, (
            PROVIDER, name, where, i,
            hash((_COMPLETIONS, start, end, project, get("user_id"), api_key, model,
                  get("batch"), get("service_tier"))),
            start, end, project or None, api_key or None, model or None, "llm",
            {REQUESTS: requests, "input_tokens": inp - cached, "cached_input_tokens": cached,
             "output_tokens": out, "input_audio_tokens": audio_in,
             "output_audio_tokens": audio_out},
            None,
        )))
    return rows


def _other(result: dict[str, Any], name: str, where: str, i: int, start: int,
           end: int) -> ProviderRow:
    """Every result kind, with a precise message for each bad field."""
    row = f"{where}, result {i}"
    obj = result.get("object")
    account = text_or_none(result.get("project_id"), name, row, "project_id")
    api_key = text_or_none(result.get("api_key_id"), name, row, "api_key_id")
    model = text_or_none(result.get("model"), name, row, "model")
    if obj == _COSTS:
        money = result.get("amount")
        if not isinstance(money, dict):
            raise ReconcileInputError(name, row, "amount must be an object {value, currency}")
        code = currency(money.get("currency"), name, row)
        cost = amount(money.get("value"), name, row, "amount.value")
        line_item = text_or_none(result.get("line_item"), name, row, "line_item")
        key = row_key(obj, start, end, result.get("project_id"), result.get("api_key_id"),
                      line_item)
        return ProviderRow(PROVIDER, name, where, i, key, start, end, account, api_key,
                           model or _model_of_line_item(line_item), "*", {COST: cost}, code)
    if not isinstance(obj, str) or not obj.startswith(_PREFIX) or not obj.endswith(".result"):
        raise ReconcileInputError(name, row, f"unknown result object {obj!r}")
    kind = obj[len(_PREFIX):-len(".result")]
    spec = _KINDS.get(kind)
    if spec is None:
        raise ReconcileInputError(
            name, row, f"usage of {kind!r} is not reconciled (supported: {', '.join(_KINDS)})"
        )
    for field in (*_REQUIRED[kind], "num_model_requests"):
        if result.get(field) is None:
            raise ReconcileInputError(name, row, f"{field} is missing")
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
        if target == "seconds" and raw is not None and type(raw) is not int:
            quantities[target] = amount(raw, name, row, source)
        else:
            quantities[target] = count(raw, name, row, source)
    extra = (result.get("source"), result.get("size")) if kind == "images" else ()
    key = row_key(obj, start, end, result.get("project_id"), result.get("user_id"),
                  result.get("api_key_id"), result.get("model"), result.get("batch"),
                  result.get("service_tier"), *extra)
    return ProviderRow(PROVIDER, name, where, i, key, start, end, account, api_key, model, meter,
                       quantities)


def _model_of_line_item(line_item: str | None) -> str | None:
    """Cost line items read "<model>, <token type>"; the model part is what maps."""
    if line_item is None:
        return None
    return line_item.split(",", 1)[0].strip() or None


__all__ = ["PROVIDER", "read_openai"]
