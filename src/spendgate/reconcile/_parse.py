"""Small exact parsers shared by the importers; each failure names the file and the row."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from spendgate.reconcile.errors import ReconcileInputError

# ISO 4217 minor-unit exponents of the currencies providers bill in; others are refused.
MINOR_EXPONENT = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "CHF": 2, "JPY": 0}
_PLAIN = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InexactNumber(Exception):
    """A JSON number was read as a float: the caller re-reads the bucket with exact Decimals."""


def row_key(*parts: object) -> int:
    """A provider row's identity within one run: the same row in two files is equal.

    A 64-bit hash (of the row's kind, bucket and grouping fields): at a million distinct rows
    the chance that two collide is about 3 in 100 million, and a collision would show up as a
    reported duplicate, never silently.
    """
    return hash(parts)


def count(value: Any, file: str, row: str, name: str) -> int:
    """A non-negative integer count (tokens, requests, images); null reads as zero."""
    if value is None:
        return 0
    if type(value) is float:
        raise InexactNumber
    if type(value) is not int or value < 0:
        raise ReconcileInputError(
            file, row, f"{name} must be a non-negative integer, got {value!r}"
        )
    return value


def amount(value: Any, file: str, row: str, name: str) -> Decimal:
    """An exact decimal amount: a JSON number (read as Decimal) or a plain decimal string."""
    if isinstance(value, bool):
        raise ReconcileInputError(file, row, f"{name} must be a number")
    if type(value) is float:
        raise InexactNumber
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, str) and _PLAIN.match(value.strip()):
        return Decimal(value.strip())
    raise ReconcileInputError(file, row, f"{name} must be a decimal number, got {value!r}")


def currency(value: Any, file: str, row: str) -> str:
    if not isinstance(value, str) or value.upper() not in MINOR_EXPONENT:
        raise ReconcileInputError(
            file, row, f"unsupported currency {value!r} (known: {', '.join(MINOR_EXPONENT)})"
        )
    return value.upper()


def rfc3339_ms(value: Any, file: str, row: str, name: str) -> int:
    """An RFC 3339 timestamp with a zone; a bare date means that UTC day. Naive times refused."""
    if not isinstance(value, str):
        raise ReconcileInputError(file, row, f"{name} must be an RFC 3339 timestamp")
    text = value.strip()
    if _DATE.match(text):
        text += "T00:00:00+00:00"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ReconcileInputError(
            file, row, f"{name} {value!r} is not an RFC 3339 timestamp"
        ) from exc
    if parsed.tzinfo is None:
        raise ReconcileInputError(
            file, row, f"{name} {value!r} has no time zone; write it in UTC with Z"
        )
    delta = parsed - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def unix_seconds_ms(value: Any, file: str, row: str, name: str) -> int:
    if type(value) is not int:
        raise ReconcileInputError(file, row, f"{name} must be Unix seconds, got {value!r}")
    return value * 1000


def text_or_none(value: Any, file: str, row: str, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    raise ReconcileInputError(file, row, f"{name} must be a string or null, got {value!r}")


__all__ = [
    "MINOR_EXPONENT",
    "InexactNumber",
    "amount",
    "count",
    "currency",
    "rfc3339_ms",
    "row_key",
    "text_or_none",
    "unix_seconds_ms",
]
