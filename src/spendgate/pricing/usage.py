"""A usage object: a meter, exact quantities and string dimensions.

`{"meter": "llm", "model": "gpt-4o", "input_tokens": 1200, "output_tokens": 800}`: numeric
fields are quantities, string fields are dimensions. Fractional quantities travel exactly as
JSON numbers parsed to Decimal, or as decimal strings inside a nested `"quantities"` object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from spendgate.domain.money import parse_quantity, quantity_to_nano
from spendgate.errors import InvalidAmount, InvalidUsage


@dataclass(frozen=True, slots=True)
class UsageShape:
    """What a well-known meter must carry; meters not listed here are free-form."""

    meter: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()  # required dimensions


# The built-in shapes. LLM token counts are disjoint: each token is counted once, in the
# quantity whose price applies (see docs/pricing.md "Usage shapes").
SHAPES: Mapping[str, UsageShape] = {
    "llm": UsageShape(
        "llm",
        required=("input_tokens", "output_tokens"),
        optional=("cached_input_tokens", "cache_write_tokens", "reasoning_tokens"),
        dimensions=("model",),
    ),
    "image": UsageShape("image", required=("count",), dimensions=("model",)),
    "video": UsageShape("video", required=("seconds",), dimensions=("model",)),
    "audio": UsageShape("audio", required=("seconds",), dimensions=("model",)),
    "passthrough": UsageShape(
        "passthrough", required=("provider_cost",), dimensions=("currency",)
    ),
}

_NESTED = "quantities"
_MAX_INT = 10**9  # parse_quantity's bound, checked inline for plain integers


@dataclass(frozen=True, slots=True)
class Usage:
    meter: str
    quantities: Mapping[str, Decimal]
    dimensions: Mapping[str, str] = field(default_factory=dict)
    # Quantities as integer billionths, computed once so pricing runs on ints.
    quantities_nano: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.meter, str) or not self.meter:
            raise InvalidUsage("usage.meter must be a non-empty string", param="usage.meter")
        nano: dict[str, int] = {}
        for name, quantity in self.quantities.items():
            param = f"usage.{name}"
            if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity < 0:
                raise InvalidAmount(param, "must be a finite, non-negative Decimal")
            nano[name] = quantity_to_nano(quantity, field=param)
        if not nano:
            raise InvalidUsage("usage has no quantities to price", param="usage")
        for name, value in self.dimensions.items():
            if name in nano or name == "meter" or not isinstance(value, str):
                raise InvalidUsage(
                    f"usage.{name} must be a string dimension distinct from the quantities",
                    param=f"usage.{name}",
                )
        object.__setattr__(self, "quantities_nano", nano)

    @classmethod
    def of(cls, meter: str, /, **fields: int | Decimal | str) -> Usage:
        """Build from keyword fields the way JSON reads: ints and Decimals are quantities."""
        quantities = {k: Decimal(v) for k, v in fields.items() if not isinstance(v, str)}
        dimensions = {k: v for k, v in fields.items() if isinstance(v, str)}
        return cls(meter, quantities, dimensions)

    @classmethod
    def parse(cls, obj: object, field: str = "usage") -> Usage:
        """Validate a JSON usage object; every error's `param` is the path of the bad field."""
        if not isinstance(obj, Mapping):
            raise InvalidUsage(f"{field} must be an object", param=field)
        meter = obj.get("meter")
        if not isinstance(meter, str) or not meter:
            raise InvalidUsage(
                f"{field}.meter must name the meter, e.g. \"llm\"", param=f"{field}.meter"
            )
        if "quantities" in obj and not isinstance(obj["quantities"], Mapping):
            raise InvalidUsage(f"{field}.quantities must be an object of decimal strings",
                               param=f"{field}.quantities")
        quantities: dict[str, Decimal] = {}
        dimensions: dict[str, str] = {}
        for key, value in obj.items():
            # The common cases first, without building error text: this runs on every request.
            if isinstance(value, str):
                dimensions[key] = value
            elif type(value) is int and 0 <= value <= _MAX_INT:
                quantities[key] = Decimal(value)
            elif key == _NESTED:
                continue  # below, so a name given twice is caught whatever the order
            elif isinstance(value, bool) or value is None or isinstance(value, Mapping | list):
                raise InvalidUsage(
                    f"{field}.{key} must be a number (a quantity) or a string (a dimension)",
                    param=f"{field}.{key}",
                )
            else:
                quantities[key] = _quantity(value, f"{field}.{key}")
        del dimensions["meter"]
        for key in (*quantities, *dimensions):
            if not isinstance(key, str) or not key:
                raise InvalidUsage(f"{field} has an invalid field name {key!r}", param=field)
        nested = obj.get(_NESTED)
        if nested is not None:
            for name, exact in nested.items():  # a Mapping, checked above
                param = f"{field}.{_NESTED}.{name}"
                if not isinstance(name, str) or not name:
                    raise InvalidUsage(f"{field}.{_NESTED} has an invalid name {name!r}",
                                       param=f"{field}.{_NESTED}")
                if name in quantities:
                    raise InvalidUsage(f"{param} is given twice", param=param)
                quantities[name] = _quantity(exact, param)
        clash = quantities.keys() & dimensions.keys()
        if clash:
            name = sorted(clash)[0]
            raise InvalidUsage(f"{field}.{name} is both a quantity and a dimension",
                               param=f"{field}.{name}")
        shape = SHAPES.get(meter)
        if shape is not None:
            for name in shape.required:
                if name not in quantities:
                    raise InvalidUsage(
                        f"{field}.{name} is required for meter {meter!r}", param=f"{field}.{name}"
                    )
            for name in shape.dimensions:
                if name not in dimensions:
                    raise InvalidUsage(
                        f"{field}.{name} is required for meter {meter!r}", param=f"{field}.{name}"
                    )
        if not quantities:
            raise InvalidUsage(
                f"{field} has no quantities: give at least one number such as \"seconds\": 8",
                param=field,
            )
        try:
            return cls(meter, quantities, dimensions)
        except InvalidAmount as exc:  # more than 9 decimal places
            param = field + exc.field.removeprefix("usage")
            raise InvalidAmount(param, exc.message.removeprefix(exc.field + " ")) from None

    def replace(self, name: str, value: str) -> Usage:
        """A copy with one dimension set to another value."""
        return Usage(self.meter, self.quantities, {**self.dimensions, name: value})

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"meter": self.meter, **self.dimensions}
        fractional: dict[str, str] = {}
        for name, quantity in self.quantities.items():
            if quantity == quantity.to_integral_value():
                out[name] = int(quantity)
            else:
                fractional[name] = f"{quantity:f}"
        if fractional:
            out[_NESTED] = fractional
        return out


def _quantity(value: object, param: str) -> Decimal:
    if isinstance(value, float):
        raise InvalidAmount(
            param,
            "must be exact: an integer, or a decimal string inside \"quantities\" "
            "(floats are inexact; NaN and infinity are refused)",
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidAmount(param, "must be a finite number (got NaN or infinity)")
    return parse_quantity(value, field=param)


def usage_vector(usage: Usage) -> dict[str, int]:
    """What meter limits can count, in integer billionths: the meter total and each quantity."""
    vector = {f"{usage.meter}.{name}": nano for name, nano in usage.quantities_nano.items()}
    vector[usage.meter] = sum(usage.quantities_nano.values())
    return vector
