from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.domain.clock import rfc3339_to_ms
from spendgate.errors import InvalidUsage, NotFound
from spendgate.pricing import (
    InvalidRateCard,
    Price,
    RateCard,
    RateCardVersion,
    Usage,
    quote,
    validate_new_version,
)

NOW = rfc3339_to_ms("2026-03-01T00:00:00Z", "now")
DAY = 86_400_000


def per_unit(quantity: str, unit_price: str, **match: str) -> dict[str, object]:
    out: dict[str, object] = {"meter": "video", "quantity": quantity, "model": "per_unit",
                              "unit_price": unit_price}
    if match:
        out["match"] = match
    return out


PRICES = [
    per_unit("seconds", "0.5"),
    per_unit("seconds", "0.4", model="veo-3"),
    per_unit("seconds", "0.15", model="veo-3-fast"),
    per_unit("seconds", "0.3", model="sora-2-pro", resolution="720p"),
    per_unit("seconds", "0.5", model="sora-2-pro", resolution="1024p"),
]


def version(prices: list[dict[str, object]] = PRICES) -> RateCardVersion:
    return RateCardVersion.create("default", 1, 0, prices)


def credits_for(v: RateCardVersion, **fields: str | int) -> str:
    return str(quote(v, Usage.of("video", **fields)).to_dict()["credits"])


def test_the_most_specific_match_wins_and_no_match_falls_back_to_the_default() -> None:
    v = version()
    assert credits_for(v, model="veo-3", seconds=10) == "4.000000000"
    assert credits_for(v, model="sora-2-pro", resolution="1024p", seconds=10) == "5.000000000"
    assert credits_for(v, model="sora-2-pro", resolution="480p", seconds=10) == "5.000000000"
    assert credits_for(v, model="unknown", seconds=10) == "5.000000000"


def test_extra_dimensions_do_not_prevent_a_match() -> None:
    v = version()
    assert credits_for(v, model="veo-3", resolution="4k", seconds=1) == "0.400000000"


def test_an_unknown_model_without_a_default_price_names_the_dimension() -> None:
    v = version(PRICES[1:3])
    with pytest.raises(InvalidUsage) as caught:
        quote(v, Usage.of("video", model="veo-9", seconds=1), field="items[1].usage")
    assert caught.value.param == "items[1].usage.model"
    assert "veo-9" in str(caught.value)


def test_an_unknown_meter_names_the_meter_field() -> None:
    with pytest.raises(InvalidUsage) as caught:
        quote(version(), Usage.of("audio", model="whisper-1", seconds=3))
    assert caught.value.param == "usage.meter"


@pytest.mark.parametrize(
    ("prices", "param"),
    [
        ([per_unit("seconds", "1"), per_unit("seconds", "2")], "prices[1].match"),
        ([per_unit("seconds", "1", model="a"), per_unit("seconds", "2", model="a")],
         "prices[1].match"),
        ([per_unit("seconds", "1", model="a"), per_unit("seconds", "2", resolution="720p")],
         "prices[1].match"),
        ([per_unit("seconds", "1", model="a", resolution="720p"),
          per_unit("seconds", "2", model="a", quality="hd")], "prices[1].match"),
    ],
)
def test_equally_specific_matches_that_could_meet_are_refused(
    prices: list[dict[str, object]], param: str
) -> None:
    with pytest.raises(InvalidRateCard) as caught:
        version(prices)
    assert caught.value.param == param
    assert "ambiguous" in str(caught.value)


def test_equally_specific_matches_that_can_never_meet_are_fine() -> None:
    version([per_unit("seconds", "1", model="a", resolution="720p"),
             per_unit("seconds", "2", model="b", quality="hd"),
             per_unit("seconds", "3", model="a"), per_unit("seconds", "4", model="b")])


def test_the_same_match_on_different_quantities_is_not_ambiguous() -> None:
    version([per_unit("seconds", "1", model="a"), per_unit("frames", "2", model="a")])


def test_a_version_round_trips_the_api_shape() -> None:
    v = validate_new_version("default", PRICES, None, [], NOW)
    data = v.to_dict()
    assert data["card"] == "default" and data["version"] == 1
    assert data["effective_at"] == "2026-03-01T00:00:00.000Z"
    assert data["prices"][1] == {"meter": "video", "quantity": "seconds",
                                 "match": {"model": "veo-3"}, "model": "per_unit",
                                 "per": "1", "unit_price": "0.4"}
    assert RateCardVersion.from_dict(data) == v


def test_new_versions_number_up_and_are_scheduled_never_edited() -> None:
    v1 = validate_new_version("default", PRICES, None, [], NOW)
    v2 = validate_new_version("default", [per_unit("seconds", "0.6")], NOW + DAY, [v1], NOW)
    v3 = validate_new_version("default", [per_unit("seconds", "0.7")], NOW + DAY, [v1, v2], NOW)
    assert (v1.version, v2.version, v3.version) == (1, 2, 3)
    card = RateCard("default", (v1, v2, v3))
    assert card.version_at(NOW) is v1
    assert card.version_at(NOW + DAY - 1) is v1
    assert card.version_at(NOW + DAY) is v3  # same effective_at: the newer version supersedes
    with pytest.raises(NotFound):
        card.version_at(NOW - 1)
    assert [d["version"] for d in card.to_dict()["versions"]] == [1, 2, 3]  # type: ignore[index]


def test_old_versions_still_price_past_usage() -> None:
    v1 = validate_new_version("default", PRICES, None, [], NOW)
    v2 = validate_new_version("default", [per_unit("seconds", "1")], NOW + DAY, [v1], NOW)
    card = RateCard("default", (v1, v2))
    usage = Usage.of("video", model="x", seconds=2)
    assert quote(card.version_at(NOW + 5), usage).credits_nano == 1_000_000_000
    assert quote(card.version_at(NOW + DAY), usage).credits_nano == 2_000_000_000


def test_an_effective_at_in_the_past_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidRateCard) as caught:
        validate_new_version("default", PRICES, NOW - 1, [], NOW)
    assert caught.value.param == "effective_at"
    assert "past" in str(caught.value)


def test_a_version_scheduled_before_a_newer_one_is_refused() -> None:
    v1 = validate_new_version("default", PRICES, NOW + 10 * DAY, [], NOW)
    with pytest.raises(InvalidRateCard) as caught:
        validate_new_version("default", PRICES, NOW + DAY, [v1], NOW)
    assert caught.value.param == "effective_at"


def test_bad_prices_name_their_index_in_the_list() -> None:
    bad = [*PRICES, {"meter": "video", "quantity": "seconds", "model": "per_unit",
                     "match": {"model": "x"}, "unit_price": "1.0000000001"}]
    with pytest.raises(InvalidRateCard) as caught:
        validate_new_version("default", bad, None, [], NOW)
    assert caught.value.param == "prices[5].unit_price"


@pytest.mark.parametrize("prices", [[], None, "x", [1]])
def test_a_version_needs_a_list_of_price_objects(prices: object) -> None:
    with pytest.raises(InvalidRateCard) as caught:
        validate_new_version("default", prices, None, [], NOW)
    assert caught.value.param in ("prices", "prices[0]")


def test_a_card_name_must_be_a_plain_identifier() -> None:
    with pytest.raises(InvalidRateCard) as caught:
        validate_new_version("no spaces", PRICES, None, [], NOW)
    assert caught.value.param == "card"


def test_a_quantity_priced_by_nothing_is_refused_unless_zero() -> None:
    v = version()
    zero = quote(v, Usage("video", {"seconds": Decimal(1), "frames": Decimal(0)}, {}))
    assert [line.quantity for line in zero.lines] == ["seconds"]
    with pytest.raises(InvalidUsage) as caught:
        quote(v, Usage("video", {"seconds": Decimal(1), "frames": Decimal(24)}, {}))
    assert caught.value.param == "usage.frames"


def test_a_version_built_in_code_refuses_ambiguity_too() -> None:
    twins = tuple(Price.from_dict(per_unit("seconds", p, model="a")) for p in ("1", "2"))
    with pytest.raises(InvalidRateCard) as caught:
        RateCardVersion("c", 1, 0, twins)
    assert caught.value.param == "prices[1].match"


def test_price_for_finds_the_price_or_none_for_an_unpriced_quantity() -> None:
    v = version()
    found = v.price_for("video", "seconds", {"model": "veo-3"})
    assert found is not None and found.unit_price == Decimal("0.4")
    assert v.price_for("video", "frames", {}) is None
