"""Exact field parsing for rate cards: decimal values in, errors that name the JSON path out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from spendgate.domain.money import MAX_CREDITS, NANO_PER_CREDIT
from spendgate.errors import InvalidRequest

# Plain decimal notation, at most 9 decimal places: the API's rule for money strings.
_PLAIN = re.compile(r"^(?:0|[1-9][0-9]*)(?:\.[0-9]{1,9})?$")
NANO = NANO_PER_CREDIT
# Bounds keep every intermediate product small enough to stay exact in int arithmetic
# and in a Decimal context of default precision (28 digits) when rendered.
MAX_PRICE = Decimal(MAX_CREDITS)
MAX_QUANTITY = Decimal(MAX_CREDITS) * 1000


class InvalidRateCard(InvalidRequest):
    """A rate card, price or setting cannot be accepted; `param` names the bad field."""

    code = "invalid_rate_card"

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"{param} {problem}", param=param)


def decimal_value(
    value: object, param: str, *, positive: bool = False, maximum: Decimal = MAX_PRICE
) -> Decimal:
    """A non-negative exact decimal: a plain decimal string, an int or a finite Decimal."""
    if isinstance(value, bool):
        raise InvalidRateCard(param, "must be a decimal string such as \"0.15\", not a boolean")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        if not _PLAIN.match(value):
            raise InvalidRateCard(
                param,
                "must be a non-negative decimal in plain notation with at most 9 decimal "
                f"places (got {value!r})",
            )
        number = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidRateCard(param, "must be a finite number (got NaN or infinity)")
        if value < 0:
            raise InvalidRateCard(param, "must not be negative")
        number = value
    elif isinstance(value, float):
        raise InvalidRateCard(
            param, "must be a decimal string such as \"0.15\" (floats are inexact)"
        )
    else:
        raise InvalidRateCard(param, "must be a decimal string such as \"0.15\"")
    scaled = number.scaleb(9)
    if scaled != scaled.to_integral_value():
        raise InvalidRateCard(param, "must have at most 9 decimal places")
    if positive and number == 0:
        raise InvalidRateCard(param, "must be greater than zero")
    if number > maximum:
        raise InvalidRateCard(param, f"must be at most {maximum}")
    return number


def to_nano(value: Decimal) -> int:
    """A decimal with at most 9 decimal places, as an exact integer count of billionths."""
    scaled = value.scaleb(9)
    integral = int(scaled)
    if integral != scaled:  # pragma: no cover - excluded by decimal_value
        raise ValueError(f"{value} has more than 9 decimal places")
    return integral


def text(value: object, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRateCard(param, "must be a non-empty string")
    return value


def mapping(value: object, param: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidRateCard(param, "must be an object")
    for key in value:
        if not isinstance(key, str):
            raise InvalidRateCard(param, f"has a non-string key {key!r}")
    return value


def no_unknown_keys(obj: Mapping[str, object], allowed: frozenset[str], param: str) -> None:
    for key in obj:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise InvalidRateCard(f"{param}.{key}", f"is not a known field here (known: {known})")


def render(value: Decimal) -> str:
    """Canonical plain-notation text of an exact decimal (never an exponent)."""
    return f"{value:f}"
