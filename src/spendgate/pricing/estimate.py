"""Usage from request parameters (estimates, priced at reserve) and from provider responses
(actuals, priced at commit).

LLM token quantities are disjoint, so each token is priced once:
`input_tokens` (full-price input), `cached_input_tokens` (cache reads),
`cache_write_tokens` (cache creation), `output_tokens` (visible output) and
`reasoning_tokens` (thinking). Providers report overlapping totals; the mappers below split them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from spendgate.errors import InvalidAmount, InvalidUsage
from spendgate.pricing.usage import Usage

# English text averages about 4 characters a token; code and other scripts run denser. An
# estimate becomes a hold, and a hold should not fall short, so the default counts 3.
CHARS_PER_TOKEN = 3


def estimate_llm(
    model: str,
    *,
    max_output_tokens: int,
    prompt_tokens: int | None = None,
    prompt_chars: int | None = None,
    cached_input_tokens: int = 0,
    chars_per_token: int = CHARS_PER_TOKEN,
    meter: str = "llm",
    **dimensions: str,
) -> Usage:
    """The worst case of an LLM call: the whole prompt at full price, every output token used.

    Give `prompt_tokens` when the caller counted them, or `prompt_chars` to estimate them
    (rounded up). Reasoning tokens draw on `max_output_tokens`, so they are not added.
    """
    if (prompt_tokens is None) == (prompt_chars is None):
        raise InvalidUsage("give exactly one of prompt_tokens and prompt_chars",
                           param="prompt_tokens")
    if prompt_tokens is None:
        assert prompt_chars is not None
        _count(prompt_chars, "prompt_chars")
        if chars_per_token <= 0:
            raise InvalidAmount("chars_per_token", "must be greater than zero")
        prompt_tokens = -(-prompt_chars // chars_per_token)
    _count(prompt_tokens, "prompt_tokens")
    _count(max_output_tokens, "max_output_tokens")
    _count(cached_input_tokens, "cached_input_tokens")
    if cached_input_tokens > prompt_tokens:
        raise InvalidAmount("cached_input_tokens", "must not exceed the prompt's tokens")
    quantities = {
        "input_tokens": Decimal(prompt_tokens - cached_input_tokens),
        "output_tokens": Decimal(max_output_tokens),
    }
    if cached_input_tokens:
        quantities["cached_input_tokens"] = Decimal(cached_input_tokens)
    return Usage(meter, quantities, {"model": model, **dimensions})


def estimate_image(
    model: str, count: int = 1, *, meter: str = "image", **dimensions: str
) -> Usage:
    """`count` images; pass `resolution=` / `quality=` as the card's prices match them."""
    _count(count, "count")
    return Usage(meter, {"count": Decimal(count)}, {"model": model, **dimensions})


def estimate_video(
    model: str, seconds: int | Decimal, *, meter: str = "video", **dimensions: str
) -> Usage:
    """`seconds` of generated video; pass `resolution=` to match resolution-specific prices."""
    return Usage(meter, {"seconds": _exact(seconds, "seconds")}, {"model": model, **dimensions})


def estimate_audio(
    model: str, seconds: int | Decimal, *, meter: str = "audio", **dimensions: str
) -> Usage:
    return Usage(meter, {"seconds": _exact(seconds, "seconds")}, {"model": model, **dimensions})


def estimate_passthrough(
    provider_cost: Decimal | int,
    currency: str,
    *,
    meter: str = "passthrough",
    **dimensions: str,
) -> Usage:
    """A provider's own charge in `currency`, priced by the card's `percentage` (markup) price."""
    return Usage(
        meter,
        {"provider_cost": _exact(provider_cost, "provider_cost")},
        {"currency": currency, **dimensions},
    )


def usage_from_openai(model: str, usage: Mapping[str, object], *, meter: str = "llm") -> Usage:
    """From an OpenAI `usage` object, Chat Completions or Responses API.

    Prompt tokens include cached ones and completion tokens include reasoning ones; they are
    split so no token is priced twice.
    """
    prompt = _field(usage, "prompt_tokens", "input_tokens")
    completion = _field(usage, "completion_tokens", "output_tokens")
    cached = _detail(usage, ("prompt_tokens_details", "input_tokens_details"), "cached_tokens")
    reasoning = _detail(
        usage, ("completion_tokens_details", "output_tokens_details"), "reasoning_tokens"
    )
    return _llm(meter, model, prompt - cached, cached, 0, completion - reasoning, reasoning)


def usage_from_anthropic(model: str, usage: Mapping[str, object], *, meter: str = "llm") -> Usage:
    """From an Anthropic Messages `usage` object: its input_tokens already exclude the cache."""
    return _llm(
        meter,
        model,
        _field(usage, "input_tokens"),
        _optional(usage, "cache_read_input_tokens"),
        _optional(usage, "cache_creation_input_tokens"),
        _field(usage, "output_tokens"),
        0,
    )


def usage_from_gemini(model: str, usage: Mapping[str, object], *, meter: str = "llm") -> Usage:
    """From a Gemini `usageMetadata`: prompt includes cached content; thoughts are separate."""
    prompt = _field(usage, "promptTokenCount")
    cached = _optional(usage, "cachedContentTokenCount")
    return _llm(
        meter,
        model,
        prompt - cached,
        cached,
        0,
        _optional(usage, "candidatesTokenCount"),
        _optional(usage, "thoughtsTokenCount"),
    )


def _llm(
    meter: str, model: str, fresh: int, cached: int, written: int, output: int, reasoning: int
) -> Usage:
    if fresh < 0 or output < 0:
        raise InvalidUsage(
            "provider usage is inconsistent: a detail count exceeds its total", param="usage"
        )
    quantities = {"input_tokens": Decimal(fresh), "output_tokens": Decimal(output)}
    for name, value in (
        ("cached_input_tokens", cached),
        ("cache_write_tokens", written),
        ("reasoning_tokens", reasoning),
    ):
        if value:
            quantities[name] = Decimal(value)
    return Usage(meter, quantities, {"model": model})


def _field(usage: Mapping[str, object], *names: str) -> int:
    for name in names:
        if name in usage:
            return _count(usage[name], f"usage.{name}")
    raise InvalidUsage(f"provider usage has no {' or '.join(names)}", param=f"usage.{names[0]}")


def _optional(usage: Mapping[str, object], name: str) -> int:
    value = usage.get(name)
    return 0 if value is None else _count(value, f"usage.{name}")


def _detail(usage: Mapping[str, object], parents: tuple[str, ...], name: str) -> int:
    for parent in parents:
        details = usage.get(parent)
        if isinstance(details, Mapping) and details.get(name) is not None:
            return _count(details[name], f"usage.{parent}.{name}")
    return 0


def _count(value: object, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidAmount(param, "must be a non-negative integer")
    return value


def _exact(value: object, param: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidAmount(param, "must be an int or a Decimal (floats are inexact)")
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise InvalidAmount(param, "must be a finite, non-negative number")
    return number
