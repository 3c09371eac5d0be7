from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.errors import InvalidAmount, InvalidUsage
from spendgate.pricing import (
    Usage,
    estimate_audio,
    estimate_image,
    estimate_llm,
    estimate_passthrough,
    estimate_video,
    usage_from_anthropic,
    usage_from_gemini,
    usage_from_openai,
)

D = Decimal


def test_an_llm_estimate_holds_the_whole_prompt_and_every_output_token() -> None:
    usage = estimate_llm("gpt-5", prompt_tokens=1200, max_output_tokens=4096)
    assert usage == Usage("llm", {"input_tokens": D(1200), "output_tokens": D(4096)},
                          {"model": "gpt-5"})


def test_an_llm_estimate_from_characters_rounds_tokens_up() -> None:
    usage = estimate_llm("gpt-5", prompt_chars=1000, max_output_tokens=10)
    assert usage.quantities["input_tokens"] == D(334)  # ceil(1000 / 3)


def test_an_llm_estimate_may_expect_cached_prompt_tokens() -> None:
    usage = estimate_llm("gpt-5", prompt_tokens=1000, cached_input_tokens=800,
                         max_output_tokens=10)
    assert usage.quantities == {"input_tokens": D(200), "output_tokens": D(10),
                                "cached_input_tokens": D(800)}


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"max_output_tokens": 10}, "prompt_tokens"),
        ({"prompt_tokens": 1, "prompt_chars": 1, "max_output_tokens": 10}, "prompt_tokens"),
        ({"prompt_tokens": -1, "max_output_tokens": 10}, "prompt_tokens"),
        ({"prompt_tokens": 1, "max_output_tokens": 1.5}, "max_output_tokens"),
        ({"prompt_tokens": 1, "cached_input_tokens": 2, "max_output_tokens": 1},
         "cached_input_tokens"),
    ],
)
def test_bad_llm_estimates_name_the_parameter(kwargs: dict[str, object], param: str) -> None:
    with pytest.raises((InvalidAmount, InvalidUsage)) as caught:
        estimate_llm("gpt-5", **kwargs)  # type: ignore[arg-type]
    assert caught.value.param == param


def test_media_estimates_carry_their_dimensions() -> None:
    assert estimate_image("gpt-image-1", 4, quality="high") == Usage(
        "image", {"count": D(4)}, {"model": "gpt-image-1", "quality": "high"})
    assert estimate_video("veo-3", 8, resolution="1080p").quantities == {"seconds": D(8)}
    assert estimate_audio("whisper-1", D("61.5")).quantities == {"seconds": D("61.5")}
    assert estimate_passthrough(D("0.0123"), "USD", provider="replicate") == Usage(
        "passthrough", {"provider_cost": D("0.0123")},
        {"currency": "USD", "provider": "replicate"})
    with pytest.raises(InvalidAmount):
        estimate_video("veo-3", 8.0)  # type: ignore[arg-type]


def test_openai_usage_is_split_so_no_token_is_priced_twice() -> None:
    chat = {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 192}}
    assert usage_from_openai("o3", chat).quantities == {
        "input_tokens": D(86), "output_tokens": D(108),
        "cached_input_tokens": D(1920), "reasoning_tokens": D(192)}
    responses = {"input_tokens": 36, "output_tokens": 87, "total_tokens": 123,
                 "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens_details": {"reasoning_tokens": 0}}
    assert usage_from_openai("gpt-5", responses).quantities == {
        "input_tokens": D(36), "output_tokens": D(87)}


def test_anthropic_usage_keeps_cache_reads_and_writes_apart() -> None:
    usage = usage_from_anthropic("claude-sonnet-4-5", {
        "input_tokens": 50, "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 10_000, "output_tokens": 503})
    assert usage.quantities == {"input_tokens": D(50), "output_tokens": D(503),
                                "cached_input_tokens": D(10_000),
                                "cache_write_tokens": D(2000)}


def test_gemini_usage_separates_cached_content_and_thoughts() -> None:
    usage = usage_from_gemini("gemini-2.5-pro", {
        "promptTokenCount": 1000, "cachedContentTokenCount": 600,
        "candidatesTokenCount": 50, "thoughtsTokenCount": 700, "totalTokenCount": 1750})
    assert usage.quantities == {"input_tokens": D(400), "output_tokens": D(50),
                                "cached_input_tokens": D(600), "reasoning_tokens": D(700)}


def test_inconsistent_or_missing_provider_usage_is_refused() -> None:
    with pytest.raises(InvalidUsage):
        usage_from_openai("gpt-5", {"prompt_tokens": 5, "completion_tokens": 1,
                                    "prompt_tokens_details": {"cached_tokens": 9}})
    with pytest.raises(InvalidUsage) as caught:
        usage_from_anthropic("claude", {"output_tokens": 3})
    assert caught.value.param == "usage.input_tokens"
