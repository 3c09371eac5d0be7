"""Exact credit amounts: integer nano-credits inside, decimal strings at the edge.

One credit is 1 000 000 000 nano-credits, so a price of $0.15 per million tokens at
1 credit = $0.01 is 15 000 nano-credits per token: nothing rounds away.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import NewType

from spendgate.errors import InvalidAmount

Nano = NewType("Nano", int)

NANO_PER_CREDIT = 1_000_000_000
DECIMALS = 9
MAX_CREDITS = 1_000_000_000
MAX_NANO = MAX_CREDITS * NANO_PER_CREDIT
# Stored balances are signed 64-bit integers on every backend.
INT64_MAX = 2**63 - 1

_PLAIN = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]{1,9})?$")


def parse_credits(
    text: object, *, field: str = "amount", allow_zero: bool = False, allow_negative: bool = False
) -> Nano:
    """Parse a decimal string of credits into nano-credits, refusing anything inexact."""
    if not isinstance(text, str):
        raise InvalidAmount(field, "must be a decimal string such as \"12.5\"")
    if not _PLAIN.match(text):
        raise InvalidAmount(
            field, "must be plain decimal notation with at most 9 decimal places"
        )
    whole, _, frac = text.lstrip("-").partition(".")
    nano = int(whole) * NANO_PER_CREDIT + int(frac.ljust(DECIMALS, "0") or "0")
    if text.startswith("-"):
        nano = -nano
    if nano == 0 and not allow_zero:
        raise InvalidAmount(field, "must be greater than zero")
    if nano < 0 and not allow_negative:
        raise InvalidAmount(field, "must not be negative")
    if abs(nano) > MAX_NANO:
        raise InvalidAmount(field, f"must be at most {MAX_CREDITS} credits")
    return Nano(nano)


def format_credits(nano: int) -> str:
    """Render nano-credits as a decimal string with exactly 9 decimal places."""
    sign = "-" if nano < 0 else ""
    whole, frac = divmod(abs(nano), NANO_PER_CREDIT)
    return f"{sign}{whole}.{frac:09d}"


def credits_to_decimal(nano: int) -> Decimal:
    return Decimal(nano).scaleb(-DECIMALS)


def decimal_to_nano(value: Decimal, *, rounding: str = ROUND_HALF_EVEN) -> Nano:
    """Convert an exact Decimal amount of credits to nano-credits, rounding once as named."""
    try:
        scaled = value.scaleb(DECIMALS).to_integral_value(rounding=rounding)
    except InvalidOperation as exc:  # NaN or infinity
        raise InvalidAmount("amount", "must be a finite number") from exc
    return Nano(int(scaled))


def parse_quantity(value: object, *, field: str) -> Decimal:
    """A usage quantity: a non-negative finite number (int, or decimal string), never float."""
    if isinstance(value, bool):
        raise InvalidAmount(field, "must be a number, not a boolean")
    if isinstance(value, int) or (isinstance(value, str) and _PLAIN.match(value)):
        quantity = Decimal(value)
    elif isinstance(value, Decimal) and value.is_finite():
        quantity = value
    else:
        raise InvalidAmount(
            field, "must be a non-negative integer or a plain decimal string (no floats)"
        )
    if quantity < 0:
        raise InvalidAmount(field, "must not be negative")
    if quantity > MAX_CREDITS:
        raise InvalidAmount(field, "is absurdly large")
    return quantity


def quantity_to_nano(quantity: Decimal, *, field: str) -> int:
    """Meter quantities are kept as integer billionths, like credits."""
    scaled = quantity.scaleb(DECIMALS)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(field, "has more than 9 decimal places")
    return int(scaled)
