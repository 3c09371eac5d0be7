"""Pricing a usage with a rate card version: one line per quantity, summed in nano-credits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from spendgate.domain.money import format_credits, parse_quantity, quantity_to_nano
from spendgate.errors import InvalidAmount, InvalidRequest, InvalidUsage
from spendgate.pricing._fields import render
from spendgate.pricing.price import Price
from spendgate.pricing.rate_card import RateCardVersion, pick
from spendgate.pricing.usage import Usage, usage_vector


@dataclass(frozen=True, slots=True)
class QuoteLine:
    quantity: str  # the quantity's name, e.g. "output_tokens"
    units: Decimal
    credits_nano: int
    price: Price

    def to_dict(self) -> dict[str, object]:
        return {
            "quantity": self.quantity,
            "units": render(self.units),
            "credits": format_credits(self.credits_nano),
            "price": self.price.to_dict(),
        }


# One line before it is shown: (quantity name, units, credits_nano, price).
_RawLine = tuple[str, Decimal, int, Price]


@dataclass(frozen=True, slots=True)
class Quote:
    credits_nano: int
    card: str
    version: int
    # Lines are kept as plain tuples and turned into QuoteLine values only when read:
    # the hot path (reserve, commit) needs the total, and this halves its cost.
    raw_lines: tuple[_RawLine, ...]

    @property
    def lines(self) -> tuple[QuoteLine, ...]:
        return tuple(QuoteLine(*raw) for raw in self.raw_lines)

    def to_dict(self) -> dict[str, object]:
        """The API quote shape: credits as a decimal string with 9 places."""
        return {
            "credits": format_credits(self.credits_nano),
            "rate_card": self.card,
            "version": self.version,
            "lines": [line.to_dict() for line in self.lines],
        }


def quote(
    version: RateCardVersion,
    usage: Usage,
    period_to_date: Mapping[str, Decimal] | None = None,
    *,
    field: str = "usage",
) -> Quote:
    """Price `usage`; with `period_to_date` (per quantity name) price only the marginal units.

    A quantity the card does not price is refused unless it is zero; a meter the card does
    not know, or dimensions no price matches (with no default), raise InvalidUsage whose
    `param` is under `field`.
    """
    dimensions = usage.dimensions
    meter = usage.meter
    by_quantity = version.index.get(meter)
    if by_quantity is None:
        raise version.unknown_meter(meter, field)
    quantities = usage.quantities
    lines: list[_RawLine] = []
    total = 0
    for name, units_nano in usage.quantities_nano.items():
        groups = by_quantity.get(name)
        price = None if groups is None else pick(groups, dimensions)
        if price is None:
            if groups is not None:
                raise version.no_match(meter, name, dimensions, field)
            if units_nano == 0:
                continue
            raise InvalidUsage(
                f"rate card {version.card!r} v{version.version} does not price "
                f"{meter}.{name}",
                param=f"{field}.{name}",
            )
        ptd = 0
        if period_to_date:
            before = period_to_date.get(name)
            if before is not None:
                ptd = _ptd_nano(before, name)
        credits = price._rater.line(ptd, units_nano)
        total += credits
        lines.append((name, quantities[name], credits, price))
    return Quote(total, version.card, version.version, tuple(lines))


def hold_vector(
    version: RateCardVersion,
    usage: Usage,
    period_to_date: Mapping[str, Decimal] | None = None,
) -> dict[str, int]:
    """What a reservation holds for this usage: "credits" in nano-credits plus meter quantities."""
    vector = usage_vector(usage)
    vector["credits"] = quote(version, usage, period_to_date).credits_nano
    return vector


def parse_period_to_date(obj: object, field: str = "period_to_date") -> dict[str, Decimal]:
    """The API's `{"output_tokens": "5000000", ...}`: quantities already used in the period."""
    if not isinstance(obj, Mapping):
        raise InvalidRequest(f"{field} must be an object", param=field)
    out: dict[str, Decimal] = {}
    for name, value in obj.items():
        param = f"{field}.{name}"
        if isinstance(value, float):
            raise InvalidAmount(param, "must be an integer or a decimal string (no floats)")
        out[str(name)] = parse_quantity(value, field=param)
        quantity_to_nano(out[str(name)], field=param)
    return out


def _ptd_nano(value: Decimal, name: str) -> int:
    param = f"period_to_date.{name}"
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise InvalidAmount(param, "must be a finite, non-negative Decimal")
    return quantity_to_nano(value, field=param)
