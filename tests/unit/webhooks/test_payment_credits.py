from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.errors import InvalidAmount
from spendgate.webhooks import credits_for_payment


def test_a_payment_buys_credits_at_the_tenants_credit_value() -> None:
    nano = credits_for_payment(Decimal("50.00"), "usd", credit_value=Decimal("0.01"),
                               credit_currency="USD")
    assert nano == 5000 * 10**9


def test_credits_are_rounded_down_once_so_a_grant_never_exceeds_the_payment() -> None:
    nano = credits_for_payment(Decimal("1"), "EUR", credit_value=Decimal("3"),
                               credit_currency="EUR")
    assert nano == 333_333_333


def test_a_payment_in_another_currency_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        credits_for_payment(Decimal("1"), "EUR", credit_value=Decimal("0.01"),
                            credit_currency="USD")
