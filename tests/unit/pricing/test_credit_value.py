from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.domain.money import parse_credits
from spendgate.pricing import CreditValue, InvalidRateCard


def test_credits_convert_to_minor_units_rounding_half_to_even_once() -> None:
    cents = CreditValue.from_dict({"currency": "USD", "amount": "0.01"})
    assert cents.to_minor_units(parse_credits("1234.5")) == 1234  # 1234.5 cents → even
    assert cents.to_minor_units(parse_credits("1235.5")) == 1236
    assert cents.to_minor_units(parse_credits("1234.7")) == 1235
    assert cents.to_minor_units(parse_credits("0.000000001")) == 0
    assert cents.to_minor_units(-parse_credits("1234.5")) == -1234


def test_currency_exponents_follow_iso_4217() -> None:
    assert CreditValue("JPY", Decimal("1.5")).to_minor_units(parse_credits("3")) == 4  # 4.5 → 4
    assert CreditValue("EUR", Decimal("1")).to_minor_units(parse_credits("2.345")) == 234
    assert CreditValue("KWD", Decimal("1")).to_minor_units(parse_credits("2.3455")) == 2346


def test_amounts_stay_exact_until_they_are_rounded() -> None:
    value = CreditValue("USD", Decimal("0.01"))
    assert value.to_amount(15_000) == Decimal("0.00000015")
    assert value.credits_nano_for(Decimal("0.15")) == parse_credits("15")
    third = CreditValue("USD", Decimal("3"))
    assert third.credits_nano_for(Decimal("1")) == 333_333_333


def test_the_settings_shape_round_trips() -> None:
    data = {"currency": "USD", "amount": "0.01"}
    assert CreditValue.from_dict(data).to_dict() == data


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"currency": "usd", "amount": "0.01"}, "credit_value.currency"),
        ({"currency": "XYZ", "amount": "0.01"}, "credit_value.currency"),
        ({"currency": "USD"}, "credit_value.amount"),
        ({"currency": "USD", "amount": "0"}, "credit_value.amount"),
        ({"currency": "USD", "amount": 0.01}, "credit_value.amount"),
        ({"currency": "USD", "amount": "-1"}, "credit_value.amount"),
        ({"currency": "USD", "amount": "1", "rate": "2"}, "credit_value.rate"),
    ],
)
def test_bad_credit_values_name_the_field(data: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRateCard) as caught:
        CreditValue.from_dict(data)
    assert caught.value.param == param
