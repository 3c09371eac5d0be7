"""What a credit is worth in a currency, and the one rounding rule to its minor units.

Credits stay exact (nano-credits) everywhere; money in a currency appears only when an
amount is invoiced or shown, and it is rounded then, once, ROUND_HALF_EVEN to the
currency's minor unit (banker's rounding: no bias up or down over many invoices).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from spendgate.domain.money import NANO_PER_CREDIT
from spendgate.pricing._fields import InvalidRateCard, decimal_value, mapping, render, to_nano

# ISO 4217 minor-unit exponents: digits after the decimal point of the minor unit.
CURRENCY_EXPONENTS: Mapping[str, int] = {
    **dict.fromkeys(
        ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "CNY", "HKD", "SGD", "INR", "BRL",
         "MXN", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "ZAR", "TRY", "ILS", "AED", "SAR",
         "THB", "MYR", "PHP", "IDR", "TWD", "RON"),
        2,
    ),
    **dict.fromkeys(("JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF"), 0),
    **dict.fromkeys(("BHD", "JOD", "KWD", "OMR", "TND", "IQD", "LYD"), 3),
}

_CODE = re.compile(r"^[A-Z]{3}$")


def _round_half_even(num: int, den: int) -> int:
    """num/den to the nearest integer, ties to even, symmetric around zero."""
    sign = -1 if num < 0 else 1
    whole, rest = divmod(abs(num), den)
    if rest * 2 > den or (rest * 2 == den and whole & 1):
        whole += 1
    return sign * whole


@dataclass(frozen=True, slots=True)
class CreditValue:
    """1 credit = `amount_per_credit` `currency`, e.g. CreditValue("USD", Decimal("0.01"))."""

    currency: str
    amount_per_credit: Decimal

    def __post_init__(self) -> None:
        if self.currency not in CURRENCY_EXPONENTS:
            raise InvalidRateCard(
                "credit_value.currency",
                f"must be a supported ISO 4217 code (got {self.currency!r})",
            )
        decimal_value(self.amount_per_credit, "credit_value.amount", positive=True)

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def to_amount(self, credits_nano: int) -> Decimal:
        """The exact currency amount, unrounded."""
        return Decimal(credits_nano) * self.amount_per_credit / NANO_PER_CREDIT

    def to_minor_units(self, credits_nano: int) -> int:
        """Credits in the currency's minor units (cents, yen, fils), ROUND_HALF_EVEN, once."""
        # credits_nano/1e9 credits × (amount_nano/1e9 currency per credit) × 10^exponent
        numerator = credits_nano * to_nano(self.amount_per_credit) * 10**self.exponent
        return _round_half_even(numerator, NANO_PER_CREDIT * NANO_PER_CREDIT)

    def credits_nano_for(self, amount: Decimal) -> int:
        """Nano-credits worth `amount` of the currency, ROUND_HALF_EVEN to the nano-credit."""
        if not amount.is_finite():
            raise InvalidRateCard("amount", "must be a finite number")
        # amount / (amount_nano / 1e9) credits = amount × 1e18 / amount_nano nano-credits,
        # as an exact ratio of integers (Decimal division could round first).
        numerator, denominator = amount.as_integer_ratio()
        return _round_half_even(
            numerator * NANO_PER_CREDIT * NANO_PER_CREDIT,
            denominator * to_nano(self.amount_per_credit),
        )

    @classmethod
    def from_dict(cls, obj: object, field: str = "credit_value") -> CreditValue:
        """The settings shape `{"currency": "USD", "amount": "0.01"}`."""
        data = mapping(obj, field)
        for key in data:
            if key not in ("currency", "amount"):
                raise InvalidRateCard(f"{field}.{key}", "is not a known field (currency, amount)")
        currency = data.get("currency")
        if not isinstance(currency, str) or not _CODE.match(currency):
            raise InvalidRateCard(f"{field}.currency", "must be an ISO 4217 code such as \"USD\"")
        if currency not in CURRENCY_EXPONENTS:
            raise InvalidRateCard(f"{field}.currency", f"{currency} is not a supported currency")
        if data.get("amount") is None:
            raise InvalidRateCard(f"{field}.amount", "is required, e.g. \"0.01\"")
        amount = decimal_value(data["amount"], f"{field}.amount", positive=True)
        return cls(currency, amount)

    def to_dict(self) -> dict[str, str]:
        return {"currency": self.currency, "amount": render(self.amount_per_credit)}
