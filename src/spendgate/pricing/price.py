"""One price line of a rate card and the exact charge it computes.

Every model defines a *cumulative* charge P(x) for x units (exact: a ratio of integers) and an
optional fee per event. An event of q units after `ptd` units already priced in the period
costs `round(P(ptd + q)) - round(P(ptd))` plus its event fee, clamped to the per-event
min/max. Rounding is ROUND_HALF_EVEN to a whole nano-credit, applied to the cumulative
charge, so the lines of a period always add up exactly to the price of its total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from spendgate.domain.money import quantity_to_nano
from spendgate.errors import InvalidAmount
from spendgate.pricing._fields import (
    MAX_QUANTITY,
    NANO,
    InvalidRateCard,
    decimal_value,
    mapping,
    no_unknown_keys,
    render,
    text,
    to_nano,
)

PriceModel = Literal["per_unit", "package", "graduated", "volume", "flat", "percentage"]
MODELS: tuple[PriceModel, ...] = (
    "per_unit", "package", "graduated", "volume", "flat", "percentage"
)

_COMMON = frozenset({"meter", "quantity", "match", "model", "min_per_event", "max_per_event"})
_FIELDS: Mapping[str, frozenset[str]] = {
    "per_unit": _COMMON | {"per", "unit_price"},
    "package": _COMMON | {"package_size", "package_price", "free_units", "rounding"},
    "graduated": _COMMON | {"per", "tiers"},
    "volume": _COMMON | {"per", "tiers"},
    "flat": _COMMON | {"flat_price"},
    "percentage": _COMMON | {"rate", "fixed_price"},
}
_TIER_FIELDS = frozenset({"up_to", "unit_price", "flat_price"})


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: Decimal | None  # inclusive upper bound; None = unbounded (the last tier)
    unit_price: Decimal = Decimal(0)
    flat_price: Decimal = Decimal(0)

    def to_dict(self) -> dict[str, object]:
        return {
            "up_to": None if self.up_to is None else render(self.up_to),
            "unit_price": render(self.unit_price),
            "flat_price": render(self.flat_price),
        }


@dataclass(frozen=True, slots=True)
class Price:
    """A price for one meter quantity, optionally restricted to matching dimensions.

    Build it with `from_dict`, which validates; the constructor trusts its fields.
    """

    meter: str
    quantity: str
    model: PriceModel
    match: Mapping[str, str] = field(default_factory=dict)
    per: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    package_size: Decimal | None = None
    package_price: Decimal | None = None
    free_units: Decimal = Decimal(0)
    rounding: Literal["up", "down"] = "up"
    tiers: tuple[Tier, ...] = ()
    flat_price: Decimal | None = None
    rate: Decimal | None = None
    fixed_price: Decimal | None = None
    min_per_event: Decimal | None = None
    max_per_event: Decimal | None = None
    _rater: _Rater = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rater", _Rater(self))

    @property
    def specificity(self) -> int:
        return len(self.match)

    def charge(self, units: Decimal, period_to_date: Decimal = Decimal(0)) -> int:
        """Nano-credits for one event of `units` after `period_to_date` units in the period."""
        return self._rater.line(
            _quantity_nano(period_to_date, "period_to_date"), _quantity_nano(units, "units")
        )

    def line_nano(self, units_nano: int, period_to_date_nano: int = 0) -> int:
        """The same as `charge`, on quantities already in integer billionths."""
        return self._rater.line(period_to_date_nano, units_nano)

    @classmethod
    def from_dict(cls, obj: object, param: str = "price") -> Price:
        """Validate one API price object; errors name the path of the bad field."""
        data = mapping(obj, param)
        model = data.get("model")
        if not isinstance(model, str) or model not in _FIELDS:
            raise InvalidRateCard(f"{param}.model", f"must be one of {', '.join(MODELS)}")
        no_unknown_keys(data, _FIELDS[model], param)
        meter = text(data.get("meter"), f"{param}.meter")
        quantity = text(data.get("quantity"), f"{param}.quantity")
        match: dict[str, str] = {}
        if data.get("match") is not None:
            for key, value in mapping(data["match"], f"{param}.match").items():
                if key == "meter" or not key:
                    raise InvalidRateCard(f"{param}.match", f"cannot match on {key!r}")
                match[key] = text(value, f"{param}.match.{key}")
            if quantity in match:
                raise InvalidRateCard(
                    f"{param}.match.{quantity}", "cannot match on the priced quantity"
                )

        def money(name: str, *, required: bool = False) -> Decimal | None:
            if data.get(name) is None:
                if required:
                    raise InvalidRateCard(f"{param}.{name}", f"is required for model {model}")
                return None
            return decimal_value(data[name], f"{param}.{name}")

        def units(name: str, default: Decimal | None = None, *, positive: bool) -> Decimal:
            if data.get(name) is None:
                if default is None:
                    raise InvalidRateCard(f"{param}.{name}", f"is required for model {model}")
                return default
            return decimal_value(
                data[name], f"{param}.{name}", positive=positive, maximum=MAX_QUANTITY
            )

        kwargs: dict[str, object] = {}
        if model in ("per_unit", "graduated", "volume"):
            kwargs["per"] = units("per", Decimal(1), positive=True)
        if model == "per_unit":
            kwargs["unit_price"] = money("unit_price", required=True)
        elif model == "package":
            kwargs["package_size"] = units("package_size", positive=True)
            kwargs["package_price"] = money("package_price", required=True)
            kwargs["free_units"] = units("free_units", Decimal(0), positive=False)
            rounding = data.get("rounding", "up")
            if rounding not in ("up", "down"):
                raise InvalidRateCard(f"{param}.rounding", "must be \"up\" or \"down\"")
            kwargs["rounding"] = rounding
        elif model in ("graduated", "volume"):
            kwargs["tiers"] = _tiers(data.get("tiers"), f"{param}.tiers")
        elif model == "flat":
            kwargs["flat_price"] = money("flat_price", required=True)
        elif model == "percentage":
            kwargs["rate"] = money("rate", required=True)
            kwargs["fixed_price"] = money("fixed_price")
        low, high = money("min_per_event"), money("max_per_event")
        if low is not None and high is not None and low > high:
            raise InvalidRateCard(f"{param}.max_per_event", "must not be below min_per_event")
        return cls(
            meter=meter, quantity=quantity, model=model, match=match,  # type: ignore[arg-type]
            min_per_event=low, max_per_event=high, **kwargs,  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, object]:
        """The API shape; money and quantities as plain decimal strings."""
        out: dict[str, object] = {"meter": self.meter, "quantity": self.quantity}
        if self.match:
            out["match"] = dict(self.match)
        out["model"] = self.model
        if self.model in ("per_unit", "graduated", "volume"):
            out["per"] = render(self.per)
        if self.model == "per_unit":
            out["unit_price"] = _opt(self.unit_price)
        elif self.model == "package":
            out["package_size"] = _opt(self.package_size)
            out["package_price"] = _opt(self.package_price)
            out["free_units"] = render(self.free_units)
            out["rounding"] = self.rounding
        elif self.model in ("graduated", "volume"):
            out["tiers"] = [tier.to_dict() for tier in self.tiers]
        elif self.model == "flat":
            out["flat_price"] = _opt(self.flat_price)
        elif self.model == "percentage":
            out["rate"] = _opt(self.rate)
            if self.fixed_price is not None:
                out["fixed_price"] = render(self.fixed_price)
        if self.min_per_event is not None:
            out["min_per_event"] = render(self.min_per_event)
        if self.max_per_event is not None:
            out["max_per_event"] = render(self.max_per_event)
        return out


def _quantity_nano(value: Decimal, field: str) -> int:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise InvalidAmount(field, "must be a finite, non-negative Decimal")
    return quantity_to_nano(value, field=field)


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else render(value)


def _tiers(raw: object, param: str) -> tuple[Tier, ...]:
    """Tiers cover [0, ∞) without gaps or overlaps: ascending inclusive bounds, last null."""
    if not isinstance(raw, list) or not raw:
        raise InvalidRateCard(param, "must be a non-empty list of tiers")
    tiers: list[Tier] = []
    previous = Decimal(0)
    for i, item in enumerate(raw):
        at = f"{param}[{i}]"
        data = mapping(item, at)
        no_unknown_keys(data, _TIER_FIELDS, at)
        if "up_to" not in data:
            raise InvalidRateCard(f"{at}.up_to", "is required (null for the last tier)")
        last = i == len(raw) - 1
        up_to: Decimal | None = None
        if data["up_to"] is None:
            if not last:
                raise InvalidRateCard(
                    f"{at}.up_to", "is null but only the last tier may be unbounded "
                    "(the tiers after it could never apply)",
                )
        else:
            up_to = decimal_value(data["up_to"], f"{at}.up_to", maximum=MAX_QUANTITY)
            if up_to <= previous:
                raise InvalidRateCard(
                    f"{at}.up_to",
                    f"must be greater than {render(previous)}: bounds must ascend strictly "
                    "(tiers may not overlap or be empty)",
                )
            if last:
                raise InvalidRateCard(
                    f"{at}.up_to", "must be null: the last tier is unbounded, otherwise usage "
                    f"above {render(up_to)} would fall in a gap with no price",
                )
            previous = up_to
        if data.get("unit_price") is None and data.get("flat_price") is None:
            raise InvalidRateCard(at, "needs a unit_price or a flat_price (use \"0\" for free)")
        unit = data.get("unit_price")
        flat = data.get("flat_price")
        tiers.append(Tier(
            up_to=up_to,
            unit_price=Decimal(0) if unit is None else decimal_value(unit, f"{at}.unit_price"),
            flat_price=Decimal(0) if flat is None else decimal_value(flat, f"{at}.flat_price"),
        ))
    return tuple(tiers)


def _round_half_even(num: int, den: int) -> int:
    """num/den (both >= 0) to the nearest integer, ties to even."""
    whole, rest = divmod(num, den)
    twice = rest * 2
    if twice > den or (twice == den and whole & 1):
        whole += 1
    return whole


class _Rater:
    """The price compiled to integers: quantities in billionths, money in nano-credits.

    P(x) = num(x) / den nano-credits, exactly.
    """

    __slots__ = ("bounds", "den", "event_fee", "free", "high", "kind", "linear", "low", "packet",
                 "rounding_up", "unit")

    def __init__(self, price: Price) -> None:
        self.kind = price.model
        self.linear = price.model in ("per_unit", "percentage")
        self.den = 1
        self.unit = 0
        self.event_fee = 0
        self.free = 0
        self.packet = 1
        self.rounding_up = price.rounding == "up"
        # (upper bound or None, unit price, flat price * den) per tier
        self.bounds: tuple[tuple[int | None, int, int], ...] = ()
        self.low = None if price.min_per_event is None else to_nano(price.min_per_event)
        self.high = None if price.max_per_event is None else to_nano(price.max_per_event)
        if price.model == "per_unit":
            assert price.unit_price is not None
            self.den = to_nano(price.per)
            self.unit = to_nano(price.unit_price)
        elif price.model in ("graduated", "volume"):
            self.den = to_nano(price.per)
            self.bounds = tuple(
                (None if t.up_to is None else to_nano(t.up_to), to_nano(t.unit_price),
                 to_nano(t.flat_price) * self.den)
                for t in price.tiers
            )
        elif price.model == "package":
            assert price.package_size is not None and price.package_price is not None
            self.packet = to_nano(price.package_size)
            self.unit = to_nano(price.package_price)
            self.free = to_nano(price.free_units)
        elif price.model == "flat":
            assert price.flat_price is not None
            self.event_fee = to_nano(price.flat_price)
        elif price.model == "percentage":
            assert price.rate is not None
            self.den = NANO
            self.unit = to_nano(price.rate)
            self.event_fee = 0 if price.fixed_price is None else to_nano(price.fixed_price)

    def cumulative(self, x: int) -> int:
        """Numerator of P(x) for x billionths of a unit (P(x) = result / den nano-credits)."""
        if x <= 0:
            return 0
        kind = self.kind
        if kind == "per_unit" or kind == "percentage":
            return x * self.unit
        if kind == "graduated":
            total = 0
            lower = 0
            for upper, unit, flat in self.bounds:
                top = x if upper is None or x < upper else upper
                total += (top - lower) * unit + flat
                if upper is None or x <= upper:
                    break
                lower = upper
            return total
        if kind == "volume":
            for upper, unit, flat in self.bounds:
                if upper is None or x <= upper:
                    return x * unit + flat
            raise AssertionError("the last tier is unbounded")  # pragma: no cover
        if kind == "package":
            excess = x - self.free
            if excess <= 0:
                return 0
            blocks = -(-excess // self.packet) if self.rounding_up else excess // self.packet
            return blocks * self.unit
        return 0  # flat: only the event fee

    def line(self, ptd: int, q: int) -> int:
        if q <= 0:
            return 0  # zero usage costs zero in every model, minimums included
        den = self.den
        if self.linear and not ptd:
            # The hot path (per-token prices), inlined: round_half_even(q * unit / den).
            charge, rest = divmod(q * self.unit, den)
            twice = rest * 2
            if twice > den or (twice == den and charge & 1):
                charge += 1
        elif den == 1:
            charge = self.cumulative(ptd + q) - self.cumulative(ptd)
        elif ptd:
            charge = _round_half_even(self.cumulative(ptd + q), den) - _round_half_even(
                self.cumulative(ptd), den
            )
        else:
            charge = _round_half_even(self.cumulative(q), den)
        if charge < 0:
            # Only volume tiers can fall (a bigger total at a cheaper tier); a usage
            # event is never a refund, so the line stops at zero.
            charge = 0
        charge += self.event_fee
        if self.low is not None and charge < self.low:
            charge = self.low
        if self.high is not None and charge > self.high:
            charge = self.high
        return charge
