from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.domain.money import parse_credits
from spendgate.errors import InvalidAmount, InvalidRequest
from spendgate.pricing import (
    CreditValue,
    RateCardVersion,
    Usage,
    hold_vector,
    parse_period_to_date,
    quote,
)


def per_million(quantity: str, unit_price: str, model: str = "gpt-4o-mini") -> dict[str, object]:
    return {"meter": "llm", "quantity": quantity, "match": {"model": model},
            "model": "per_unit", "per": "1000000", "unit_price": unit_price}


# gpt-4o-mini at 1 credit = $0.01: $0.15 / $0.60 per 1M tokens = 15 / 60 credits per 1M.
CENT_CARD = RateCardVersion.create("cents", 1, 0, [
    per_million("input_tokens", "15"),
    per_million("cached_input_tokens", "7.5"),
    per_million("output_tokens", "60"),
])


def test_a_quote_has_one_line_per_quantity_and_sums_them() -> None:
    usage = Usage.parse({"meter": "llm", "model": "gpt-4o-mini", "input_tokens": 1200,
                         "cached_input_tokens": 2000, "output_tokens": 800})
    q = quote(CENT_CARD, usage)
    assert [(line.quantity, line.credits_nano) for line in q.lines] == [
        ("input_tokens", 18_000_000), ("cached_input_tokens", 15_000_000),
        ("output_tokens", 48_000_000),
    ]
    assert q.credits_nano == 81_000_000
    assert q.to_dict() == {
        "credits": "0.081000000",
        "rate_card": "cents",
        "version": 1,
        "lines": [
            {"quantity": "input_tokens", "units": "1200", "credits": "0.018000000",
             "price": per_million("input_tokens", "15")},
            {"quantity": "cached_input_tokens", "units": "2000", "credits": "0.015000000",
             "price": per_million("cached_input_tokens", "7.5")},
            {"quantity": "output_tokens", "units": "800", "credits": "0.048000000",
             "price": per_million("output_tokens", "60")},
        ],
    }


def test_a_month_of_ten_million_calls_sums_to_the_exact_total() -> None:
    # Call i uses 1 + (i × 7919) mod 4000 input tokens: 10 M calls take every count from 1 to
    # 4000 exactly 2500 times. Each count is quoted once; the month is summed call by call.
    calls, distinct = 10_000_000, 4000
    charge = [0] + [
        quote(CENT_CARD, Usage.of("llm", model="gpt-4o-mini", input_tokens=t,
                                  output_tokens=0)).credits_nano
        for t in range(1, distinct + 1)
    ]
    month = sum(charge[1 + (i * 7919) % distinct] for i in range(calls))
    tokens = (calls // distinct) * distinct * (distinct + 1) // 2
    expected_usd = Decimal(tokens) * Decimal("0.15") / 1_000_000
    value = CreditValue("USD", Decimal("0.01"))
    assert value.to_amount(month) == expected_usd
    assert value.to_minor_units(month) == 300_075  # 20 005 000 000 tokens: $3 000.75
    assert month == value.credits_nano_for(expected_usd)


def test_period_to_date_keeps_sub_nano_prices_from_drifting() -> None:
    # 0.0000001 credits per 1M tokens is 0.0001 nano-credits a token: a call alone rounds
    # to 0. Priced against the period so far, the lines still add up to the exact total.
    card = RateCardVersion.create("usd", 1, 0, [per_million("input_tokens", "0.0000001")])
    ptd, month = Decimal(0), 0
    for i in range(20_000):
        tokens = 1 + (i * 7919) % 4000
        usage = Usage.of("llm", model="gpt-4o-mini", input_tokens=tokens, output_tokens=0)
        month += quote(card, usage, {"input_tokens": ptd}).credits_nano
        ptd += tokens
    whole = quote(card, Usage.of("llm", model="gpt-4o-mini", input_tokens=int(ptd),
                                 output_tokens=0)).credits_nano
    exact = ptd * Decimal("0.0000001") / 1_000_000 * 10**9
    assert month == whole == exact.to_integral_value(rounding="ROUND_HALF_EVEN") > 0
    assert sum(quote(card, Usage.of("llm", model="gpt-4o-mini", input_tokens=4000,
                                    output_tokens=0)).credits_nano for _ in range(3)) == 0


def test_period_to_date_prices_only_the_marginal_units_of_graduated_tiers() -> None:
    card = RateCardVersion.create("t", 1, 0, [{
        "meter": "llm", "quantity": "output_tokens", "model": "graduated", "per": "1000000",
        "tiers": [{"up_to": "1000000", "unit_price": "10"}, {"up_to": None, "unit_price": "8"}],
    }])
    usage = Usage.parse({"meter": "llm", "model": "m", "input_tokens": 0,
                         "output_tokens": 500_000})
    before = parse_period_to_date({"output_tokens": "750000"})
    assert quote(card, usage, before).credits_nano == parse_credits("4.5")  # 2.5 + 2
    assert quote(card, usage).credits_nano == parse_credits("5")


def test_hold_vector_holds_credits_and_the_meter_quantities() -> None:
    usage = Usage.of("llm", model="gpt-4o-mini", input_tokens=1000, output_tokens=1000)
    assert hold_vector(CENT_CARD, usage) == {
        "credits": 75_000_000,
        "llm": 2000 * 10**9,
        "llm.input_tokens": 1000 * 10**9,
        "llm.output_tokens": 1000 * 10**9,
    }


@pytest.mark.parametrize("bad", [{"output_tokens": "-1"}, {"output_tokens": 1.5},
                                 {"output_tokens": "NaN"}, "x"])
def test_bad_period_to_date_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_period_to_date(bad)
    assert caught.value.param in ("period_to_date", "period_to_date.output_tokens")


def test_a_negative_period_to_date_given_in_code_is_refused() -> None:
    usage = Usage.of("llm", model="gpt-4o-mini", input_tokens=1, output_tokens=1)
    with pytest.raises(InvalidAmount) as caught:
        quote(CENT_CARD, usage, {"input_tokens": Decimal(-5)})
    assert caught.value.param == "period_to_date.input_tokens"
