from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.errors import InvalidAmount, InvalidUsage
from spendgate.pricing import Usage, usage_vector


def test_numbers_are_quantities_and_strings_are_dimensions() -> None:
    usage = Usage.parse(
        {"meter": "llm", "model": "gpt-4o", "input_tokens": 1200, "output_tokens": 800}
    )
    assert usage.meter == "llm"
    assert usage.quantities == {"input_tokens": Decimal(1200), "output_tokens": Decimal(800)}
    assert usage.dimensions == {"model": "gpt-4o"}


def test_fractional_quantities_travel_exactly_as_decimal_strings_under_quantities() -> None:
    usage = Usage.parse({"meter": "passthrough", "currency": "USD",
                         "quantities": {"provider_cost": "0.0123"}})
    assert usage.quantities == {"provider_cost": Decimal("0.0123")}
    assert usage.to_dict() == {"meter": "passthrough", "currency": "USD",
                               "quantities": {"provider_cost": "0.0123"}}
    assert Usage.parse(usage.to_dict()) == usage


def test_a_decimal_parsed_from_json_is_an_exact_quantity() -> None:
    usage = Usage.parse({"meter": "video", "model": "veo-3", "seconds": Decimal("7.5")})
    assert usage.quantities_nano == {"seconds": 7_500_000_000}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (-1, "negative"),
        (1.5, "floats are inexact"),
        (float("nan"), "floats"),
        (float("inf"), "floats"),
        (Decimal("NaN"), "finite"),
        (Decimal("-Infinity"), "finite"),
        (Decimal("0.0000000001"), "9 decimal places"),
        (True, "number"),
        (None, "number"),
        ([1], "number"),
    ],
)
def test_bad_quantities_are_refused_naming_the_json_path(value: object, problem: str) -> None:
    with pytest.raises((InvalidAmount, InvalidUsage)) as caught:
        Usage.parse({"meter": "video", "model": "veo-3", "seconds": value},
                    field="items[0].usage")
    assert caught.value.param == "items[0].usage.seconds"
    assert problem in str(caught.value)


def test_a_missing_meter_is_refused() -> None:
    with pytest.raises(InvalidUsage) as caught:
        Usage.parse({"seconds": 3}, field="items[2].usage")
    assert caught.value.param == "items[2].usage.meter"


def test_a_usage_without_quantities_is_refused() -> None:
    with pytest.raises(InvalidUsage) as caught:
        Usage.parse({"meter": "custom", "model": "x"})
    assert caught.value.param == "usage"


def test_built_in_meters_require_their_quantities_and_dimensions() -> None:
    with pytest.raises(InvalidUsage) as caught:
        Usage.parse({"meter": "llm", "model": "gpt-4o", "input_tokens": 10})
    assert caught.value.param == "usage.output_tokens"
    with pytest.raises(InvalidUsage) as caught:
        Usage.parse({"meter": "video", "seconds": 8})
    assert caught.value.param == "usage.model"


def test_free_form_meters_take_any_quantities() -> None:
    usage = Usage.parse({"meter": "video_seconds", "model": "veo-3", "seconds": 8})
    assert usage.quantities_nano == {"seconds": 8_000_000_000}


def test_a_name_given_as_quantity_and_nested_quantity_is_refused() -> None:
    with pytest.raises(InvalidUsage) as caught:
        Usage.parse({"meter": "x", "n": 1, "quantities": {"n": "2"}})
    assert caught.value.param == "usage.quantities.n"


def test_usage_vector_counts_the_meter_total_and_each_quantity_in_billionths() -> None:
    usage = Usage.of("llm", model="gpt-4o", input_tokens=1200, output_tokens=800)
    assert usage_vector(usage) == {
        "llm": 2000 * 10**9,
        "llm.input_tokens": 1200 * 10**9,
        "llm.output_tokens": 800 * 10**9,
    }


def test_usage_built_in_code_is_validated_like_parsed_usage() -> None:
    with pytest.raises(InvalidAmount):
        Usage("video", {"seconds": Decimal(-1)}, {"model": "veo-3"})
    with pytest.raises(InvalidUsage):
        Usage("video", {}, {"model": "veo-3"})


@pytest.mark.parametrize(
    ("obj", "param"),
    [
        ({"meter": "x", "": 3}, "usage"),
        ({"meter": "x", "n": 1, "quantities": "2"}, "usage.quantities"),
        ({"meter": "x", "quantities": {"n": "2"}, "n": 1}, "usage.quantities.n"),
        ({"meter": "x", "quantities": {"n": 0.5}}, "usage.quantities.n"),
        ({"meter": "x", "n": 10**13}, "usage.n"),
        ("llm", "usage"),
    ],
)
def test_malformed_usage_objects_name_the_field(obj: object, param: str) -> None:
    with pytest.raises((InvalidAmount, InvalidUsage)) as caught:
        Usage.parse(obj)
    assert caught.value.param == param
