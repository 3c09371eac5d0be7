"""Pricing: rate cards turn a usage description into exact credits.

Pure domain code (no I/O but file loading, no clock): the ledger and the HTTP layer call it.
See docs/pricing.md for the semantics of every price model, with worked examples.
"""

from __future__ import annotations

from spendgate.pricing._fields import InvalidRateCard
from spendgate.pricing.credit_value import CURRENCY_EXPONENTS, CreditValue
from spendgate.pricing.estimate import (
    estimate_audio,
    estimate_image,
    estimate_llm,
    estimate_passthrough,
    estimate_video,
    usage_from_anthropic,
    usage_from_gemini,
    usage_from_openai,
)
from spendgate.pricing.fallbacks import expand_fallbacks, parse_fallbacks
from spendgate.pricing.loading import load_card, load_rate_card, parse_rate_card
from spendgate.pricing.price import MODELS, Price, Tier
from spendgate.pricing.quote import (
    Quote,
    QuoteLine,
    hold_vector,
    parse_period_to_date,
    quote,
)
from spendgate.pricing.rate_card import RateCard, RateCardVersion, validate_new_version
from spendgate.pricing.usage import SHAPES, Usage, UsageShape, usage_vector

__all__ = [
    "CURRENCY_EXPONENTS",
    "MODELS",
    "SHAPES",
    "CreditValue",
    "InvalidRateCard",
    "Price",
    "Quote",
    "QuoteLine",
    "RateCard",
    "RateCardVersion",
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
