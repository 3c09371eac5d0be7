"""Properties of every price model: never negative, monotone in quantity (volume excepted, by
definition), marginal lines that add up to the total, and agreement with an independent
all-Decimal reference."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spendgate.pricing import Price, RateCardVersion, Usage, quote

_EXACT = Context(prec=80)


def decimals(max_value: int, places: int = 9) -> st.SearchStrategy[Decimal]:
    """Non-negative decimals with up to `places` decimal places, as prices and usage carry."""
    return st.integers(0, max_value * 10**places).map(lambda n: Decimal(n).scaleb(-places))


amounts = decimals(50, 9).map(lambda d: f"{d:f}")
quantities = st.one_of(decimals(5_000, 0), decimals(5_000, 3), decimals(50, 9))


@st.composite
def tiers(draw: st.DrawFn) -> list[dict[str, Any]]:
    bounds = sorted(draw(st.sets(st.integers(1, 4000), min_size=0, max_size=4)))
    out: list[dict[str, Any]] = []
    for bound in [*bounds, None]:
        tier: dict[str, Any] = {"up_to": None if bound is None else str(bound),
                                "unit_price": draw(amounts)}
        if draw(st.booleans()):
            tier["flat_price"] = draw(amounts)
        out.append(tier)
    return out


@st.composite
def prices(draw: st.DrawFn, models: tuple[str, ...] | None = None, clamps: bool = True) -> Price:
    model = draw(st.sampled_from(models or
                                 ("per_unit", "package", "graduated", "volume", "flat",
                                  "percentage")))
    raw: dict[str, Any] = {"meter": "m", "quantity": "q", "model": model}
    if model in ("per_unit", "graduated", "volume"):
        raw["per"] = draw(st.sampled_from(["1", "1000", "1000000", "3", "0.5"]))
    if model == "per_unit":
        raw["unit_price"] = draw(amounts)
    elif model == "package":
        raw["package_size"] = str(draw(st.integers(1, 500)))
        raw["package_price"] = draw(amounts)
        raw["free_units"] = str(draw(st.integers(0, 300)))
        raw["rounding"] = draw(st.sampled_from(["up", "down"]))
    elif model in ("graduated", "volume"):
        raw["tiers"] = draw(tiers())
    elif model == "flat":
        raw["flat_price"] = draw(amounts)
    else:
        raw["rate"] = draw(amounts)
        if draw(st.booleans()):
            raw["fixed_price"] = draw(amounts)
    if clamps and draw(st.booleans()):
        low, high = sorted([draw(decimals(20, 9)), draw(decimals(200, 9))])
        raw["min_per_event"], raw["max_per_event"] = f"{low:f}", f"{high:f}"
    return Price.from_dict(raw)


@settings(deadline=None)  # timing-independent: CI machines are shared
@given(prices(), quantities, quantities)
def test_a_charge_is_never_negative(price: Price, units: Decimal, before: Decimal) -> None:
    assert price.charge(units, before) >= 0


@settings(deadline=None)  # timing-independent: CI machines are shared
@given(prices(("per_unit", "package", "graduated", "flat", "percentage")),
       quantities, quantities, quantities)
def test_a_charge_never_falls_when_the_quantity_grows(
    price: Price, a: Decimal, b: Decimal, before: Decimal
) -> None:
    low, high = sorted([a, b])
    assert price.charge(low, before) <= price.charge(high, before)


@settings(deadline=None)  # timing-independent: CI machines are shared
@given(prices(("graduated", "per_unit", "package"), clamps=False),
       st.lists(quantities, min_size=1, max_size=12))
def test_marginal_lines_over_a_period_add_up_to_the_charge_of_the_total(
    price: Price, events: list[Decimal]
) -> None:
    total, lines = Decimal(0), 0
    for units in events:
        lines += price.charge(units, total)
        total += units
    assert lines == price.charge(total)


def _reference(raw: dict[str, Any], x: Decimal) -> Decimal:
    """P(x) in credits from the price's JSON, the naive way: everything in Decimal."""
    d = {k: Decimal(v) for k, v in raw.items() if isinstance(v, str) and k not in
         ("meter", "quantity", "model", "rounding")}
    model = raw["model"]
    if x == 0:
        return Decimal(0)
    if model == "per_unit":
        return _EXACT.divide(_EXACT.multiply(x, d["unit_price"]), d.get("per", Decimal(1)))
    if model == "percentage":
        return _EXACT.multiply(x, d["rate"]) + d.get("fixed_price", Decimal(0))
    if model == "package":
        blocks = _EXACT.divide(max(Decimal(0), x - d["free_units"]), d["package_size"])
        return (blocks.to_integral_value("ROUND_CEILING" if raw["rounding"] == "up"
                                         else "ROUND_FLOOR")) * d["package_price"]
    per = d.get("per", Decimal(1))
    total, lower = Decimal(0), Decimal(0)
    for tier in raw["tiers"]:
        upper = None if tier["up_to"] is None else Decimal(tier["up_to"])
        rate = _EXACT.divide(Decimal(tier["unit_price"]), per)
        flat = Decimal(tier.get("flat_price", "0"))
        if model == "volume":
            if upper is None or x <= upper:
                return _EXACT.multiply(x, rate) + flat
            continue
        if x <= lower:
            break
        top = x if upper is None else min(x, upper)
        total += _EXACT.multiply(top - lower, rate) + flat
        if upper is None:
            break
        lower = upper
    return total


@settings(max_examples=200, deadline=None)
@given(prices(("per_unit", "package", "graduated", "volume", "percentage"), clamps=False),
       quantities)
def test_charges_agree_with_a_naive_all_decimal_reference(price: Price, units: Decimal) -> None:
    expected = _reference(price.to_dict(), units).scaleb(9).to_integral_value(ROUND_HALF_EVEN)
    assert price.charge(units) == expected


@settings(deadline=None)  # timing-independent: CI machines are shared
@given(st.lists(st.tuples(st.sampled_from(["input_tokens", "output_tokens"]),
                          st.integers(0, 10**7)), min_size=1, max_size=2, unique_by=lambda t: t[0]))
def test_a_quote_is_the_sum_of_its_lines(fields: list[tuple[str, int]]) -> None:
    version = RateCardVersion.create("c", 1, 0, [
        {"meter": "llm", "quantity": "input_tokens", "model": "per_unit", "per": "1000000",
         "unit_price": "0.15"},
        {"meter": "llm", "quantity": "output_tokens", "model": "graduated", "per": "1000000",
         "tiers": [{"up_to": "1000000", "unit_price": "0.6"},
                   {"up_to": None, "unit_price": "0.3"}]},
    ])
    usage = Usage("llm", {name: Decimal(n) for name, n in fields}, {"model": "x"})
    q = quote(version, usage)
    assert q.credits_nano == sum(line.credits_nano for line in q.lines) >= 0


@settings(deadline=None)  # timing-independent: CI machines are shared
@given(st.dictionaries(st.sampled_from(["seconds", "count", "frames"]),
                       st.one_of(st.integers(0, 10**9), decimals(1000, 9)), min_size=1),
       st.dictionaries(st.sampled_from(["model", "resolution"]), st.text(min_size=1, max_size=8)))
def test_usage_round_trips_through_its_json_shape(
    quantities_: dict[str, Any], dimensions: dict[str, str]
) -> None:
    usage = Usage("m", {k: Decimal(v) for k, v in quantities_.items()}, dimensions)
    assert Usage.parse(usage.to_dict()) == usage
