"""Every price model on hand-checked examples: tier edges, zero usage, free units, package
rounding, per-event min/max, and the validation of every field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.domain.money import parse_credits
from spendgate.errors import InvalidAmount
from spendgate.pricing import InvalidRateCard, Price

D = Decimal


def price(model: str, **fields: object) -> Price:
    return Price.from_dict({"meter": "m", "quantity": "q", "model": model, **fields})


def credits(text: str) -> int:
    return parse_credits(text, allow_zero=True)


GRADUATED = [
    {"up_to": "1000", "unit_price": "0.01"},
    {"up_to": "5000", "unit_price": "0.008", "flat_price": "1"},
    {"up_to": None, "unit_price": "0.005"},
]


def test_per_unit_charges_each_unit_at_the_unit_price_over_per() -> None:
    p = price("per_unit", unit_price="0.6", per="1000000")
    assert p.charge(D(0)) == 0
    assert p.charge(D(800)) == credits("0.00048")
    assert p.charge(D(1_000_000)) == credits("0.6")


def test_per_unit_prices_fractional_quantities_exactly() -> None:
    p = price("per_unit", unit_price="0.4")  # a video second
    assert p.charge(D("7.25")) == credits("2.9")


def test_graduated_tiers_charge_each_tier_at_its_own_rate() -> None:
    p = price("graduated", tiers=GRADUATED)
    assert p.charge(D(0)) == 0
    assert p.charge(D(1000)) == credits("10")  # exactly on the edge: tier 1 only
    assert p.charge(D(1001)) == credits("11.008")  # 10 + 1 (entering tier 2) + 0.008
    assert p.charge(D(5000)) == credits("43")  # 10 + 1 + 4000 × 0.008
    assert p.charge(D(6000)) == credits("48")  # + 1000 × 0.005


def test_graduated_flat_fee_is_charged_once_when_usage_enters_the_tier() -> None:
    p = price("graduated", tiers=GRADUATED)
    assert p.charge(D(1), period_to_date=D(1000)) == credits("1.008")
    assert p.charge(D(1), period_to_date=D(1001)) == credits("0.008")


def test_volume_prices_all_units_at_the_tier_holding_the_total() -> None:
    p = price("volume", tiers=GRADUATED)
    assert p.charge(D(1000)) == credits("10")  # on the edge: tier 1
    assert p.charge(D(1001)) == credits("9.008")  # 1001 × 0.008 + 1
    assert p.charge(D(5001)) == credits("25.005")


def test_volume_marginal_never_goes_negative_when_a_cheaper_tier_is_reached() -> None:
    p = price("volume", tiers=GRADUATED)
    assert p.charge(D(1), period_to_date=D(1000)) == 0
    assert p.charge(D(500), period_to_date=D(1000)) == credits("3")  # P(1500)=13 − P(1000)=10


def test_package_charges_every_started_block_after_the_free_units() -> None:
    p = price("package", package_size="1000", package_price="2", free_units="500")
    assert [p.charge(D(n)) for n in (0, 500, 501, 1500, 1501)] == [
        0, 0, credits("2"), credits("2"), credits("4")
    ]


def test_package_rounding_down_charges_only_complete_blocks() -> None:
    p = price("package", package_size="1000", package_price="2", rounding="down")
    assert [p.charge(D(n)) for n in (999, 1000, 2999)] == [0, credits("2"), credits("4")]


def test_package_with_period_to_date_charges_only_blocks_started_by_this_event() -> None:
    p = price("package", package_size="100", package_price="5")
    assert p.charge(D(30), period_to_date=D(150)) == 0
    assert p.charge(D(60), period_to_date=D(150)) == credits("5")


def test_flat_is_one_fee_per_event_with_usage() -> None:
    p = price("flat", flat_price="0.25")
    assert [p.charge(D(n)) for n in (0, 1, 999)] == [0, credits("0.25"), credits("0.25")]
    assert p.charge(D(1), period_to_date=D(10)) == credits("0.25")


def test_percentage_rate_is_a_fraction_of_the_quantity_plus_a_fixed_fee() -> None:
    p = price("percentage", rate="0.15", fixed_price="0.01")
    assert p.charge(D(100)) == credits("15.01")  # "0.15" is 15 %, not 0.15 %
    assert p.charge(D(0)) == 0


def test_min_per_event_raises_a_small_event_and_max_caps_a_large_one() -> None:
    p = price("graduated", tiers=GRADUATED, min_per_event="0.05", max_per_event="20")
    assert p.charge(D(1)) == credits("0.05")
    assert p.charge(D(1000)) == credits("10")
    assert p.charge(D(6000)) == credits("20")
    assert p.charge(D(0)) == 0


def test_min_per_event_applies_to_the_marginal_line_after_period_to_date() -> None:
    p = price("per_unit", unit_price="0.001", min_per_event="0.01")
    assert p.charge(D(1), period_to_date=D(10_000)) == credits("0.01")


def test_a_line_rounds_half_to_even_at_the_nano_credit() -> None:
    p = price("per_unit", unit_price="0.000000001", per="2")  # half a nano-credit a unit
    assert [p.charge(D(n)) for n in (1, 2, 3, 5, 7)] == [0, 1, 2, 2, 4]


def test_rounding_the_cumulative_charge_makes_split_events_add_up_exactly() -> None:
    p = price("per_unit", unit_price="0.000000001", per="2")
    lines = [p.charge(D(1), period_to_date=D(n)) for n in range(7)]
    assert sum(lines) == p.charge(D(7)) == 4


def test_to_dict_round_trips_the_api_shape() -> None:
    raw = {
        "meter": "llm", "quantity": "output_tokens", "match": {"model": "gpt-4o"},
        "model": "graduated", "per": "1000000",
        "tiers": [
            {"up_to": "100", "unit_price": "10", "flat_price": "0"},
            {"up_to": None, "unit_price": "8", "flat_price": "1.5"},
        ],
        "min_per_event": "0.000000150",
    }
    p = Price.from_dict(raw)
    assert p.to_dict() == raw
    assert Price.from_dict(p.to_dict()) == p


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": "per_unit", "unit_price": "-1"}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": "NaN"}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": "inf"}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": Decimal("NaN")}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": Decimal("Infinity")}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": 0.15}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": "1e-6"}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": "0.0000000001"}, "price.unit_price"),
        ({"model": "per_unit"}, "price.unit_price"),
        ({"model": "per_unit", "unit_price": "1", "per": "0"}, "price.per"),
        ({"model": "per_unit", "unit_price": "1", "unit_prise": "2"}, "price.unit_prise"),
        ({"model": "per_unit", "unit_price": "1", "tiers": []}, "price.tiers"),
        ({"model": "tiered", "unit_price": "1"}, "price.model"),
        ({"model": "package", "package_price": "1"}, "price.package_size"),
        ({"model": "package", "package_size": "0", "package_price": "1"}, "price.package_size"),
        ({"model": "package", "package_size": "10", "package_price": "1", "rounding": "near"},
         "price.rounding"),
        ({"model": "flat"}, "price.flat_price"),
        ({"model": "percentage", "fixed_price": "1"}, "price.rate"),
        ({"model": "flat", "flat_price": "1", "min_per_event": "2", "max_per_event": "1"},
         "price.max_per_event"),
        ({"model": "flat", "flat_price": "1", "match": {"model": 4}}, "price.match.model"),
        ({"model": "flat", "flat_price": "1", "match": {"q": "x"}}, "price.match.q"),
        ({"model": "flat", "flat_price": True}, "price.flat_price"),
    ],
)
def test_bad_price_fields_are_refused_naming_the_field(
    fields: dict[str, object], param: str
) -> None:
    with pytest.raises(InvalidRateCard) as caught:
        Price.from_dict({"meter": "m", "quantity": "q", **fields})
    assert caught.value.param == param
    assert param in str(caught.value)


@pytest.mark.parametrize(
    ("tiers", "param", "words"),
    [
        ([{"up_to": "100", "unit_price": "1"}, {"up_to": "100", "unit_price": "2"},
          {"up_to": None, "unit_price": "3"}], "price.tiers[1].up_to", "ascend"),
        ([{"up_to": "100", "unit_price": "1"}, {"up_to": "50", "unit_price": "2"},
          {"up_to": None, "unit_price": "3"}], "price.tiers[1].up_to", "overlap"),
        ([{"up_to": "100", "unit_price": "1"}, {"up_to": "200", "unit_price": "2"}],
         "price.tiers[1].up_to", "gap"),
        ([{"up_to": None, "unit_price": "1"}, {"up_to": "200", "unit_price": "2"}],
         "price.tiers[0].up_to", "only the last tier"),
        ([{"up_to": "0", "unit_price": "1"}, {"up_to": None, "unit_price": "2"}],
         "price.tiers[0].up_to", "greater than 0"),
        ([{"up_to": "-5", "unit_price": "1"}, {"up_to": None, "unit_price": "2"}],
         "price.tiers[0].up_to", "non-negative"),
        ([{"up_to": "10", "unit_price": "NaN"}, {"up_to": None, "unit_price": "2"}],
         "price.tiers[0].unit_price", "decimal"),
        ([{"up_to": "10"}, {"up_to": None, "unit_price": "2"}], "price.tiers[0]", "unit_price"),
        ([{"unit_price": "2"}], "price.tiers[0].up_to", "required"),
        ([{"up_to": None, "unit_price": "2", "from": "0"}], "price.tiers[0].from", "known"),
        ([], "price.tiers", "non-empty"),
    ],
)
def test_bad_tiers_are_refused_naming_the_tier_and_the_problem(
    tiers: list[object], param: str, words: str
) -> None:
    for model in ("graduated", "volume"):
        with pytest.raises(InvalidRateCard) as caught:
            price(model, tiers=tiers)
        assert caught.value.param == param
        assert words in str(caught.value)


@pytest.mark.parametrize("units", [Decimal(-1), Decimal("NaN"), Decimal("Infinity"),
                                   Decimal("0.0000000001")])
def test_charging_a_bad_quantity_in_code_is_refused(units: Decimal) -> None:
    with pytest.raises(InvalidAmount) as caught:
        price("per_unit", unit_price="1").charge(units)
    assert caught.value.param == "units"
