from __future__ import annotations

import spendgate.pricing as pricing


def test_the_public_surface_is_pinned() -> None:
    assert sorted(pricing.__all__) == [
        "CURRENCY_EXPONENTS",
        "CreditValue",
        "InvalidRateCard",
        "MODELS",
        "Price",
        "Quote",
        "QuoteLine",
        "RateCard",
        "RateCardVersion",
        "SHAPES",
        "Tier",
        "Usage",
        "UsageShape",
        "estimate_audio",
        "estimate_image",
        "estimate_llm",
        "estimate_passthrough",
        "estimate_video",
        "expand_fallbacks",
        "hold_vector",
        "load_card",
        "load_rate_card",
        "parse_fallbacks",
        "parse_period_to_date",
        "parse_rate_card",
        "quote",
        "usage_from_anthropic",
        "usage_from_gemini",
        "usage_from_openai",
        "usage_vector",
        "validate_new_version",
    ]
    for name in pricing.__all__:
        assert getattr(pricing, name) is not None
