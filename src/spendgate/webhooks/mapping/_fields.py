"""Reading vendor payloads defensively: missing or mistyped fields become None, never errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

OrgResolver = Callable[[str], str | None]
"""Vendor customer id → org id (the reverse of the sink's customer_ids map), or None."""

# ISO 4217 minor-unit exponents that differ from 2.
_EXPONENT = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def obj(parent: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}


def text(parent: Mapping[str, object], *keys: str) -> str | None:
    """The first of `keys` holding a non-empty string (or an integer, as text)."""
    for key in keys:
        value = parent.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def decimal(value: object) -> Decimal | None:
    """An exact number from a decimal string, an int or a Decimal; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def minor_to_major(minor: object, currency: str | None) -> Decimal | None:
    """Integer minor units (cents) as an exact Decimal of major units."""
    if not isinstance(minor, int) or isinstance(minor, bool) or currency is None:
        return None
    return Decimal(minor).scaleb(-_EXPONENT.get(currency.upper(), 2))


def time_ms(value: object) -> int | None:
    """An ISO 8601 / RFC 3339 time (or a bare date, as midnight UTC) in UTC milliseconds."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


def details(source: Mapping[str, object], *keys: str) -> dict[str, str]:
    """The scalar fields among `keys`, as strings, for an alert's details."""
    out: dict[str, str] = {}
    for key in keys:
        value = source.get(key)
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | Decimal):
            out[key] = str(value)
    return out
