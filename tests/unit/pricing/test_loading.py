from __future__ import annotations

import json
from pathlib import Path

import pytest

from spendgate.domain.clock import rfc3339_to_ms
from spendgate.pricing import (
    InvalidRateCard,
    Usage,
    expand_fallbacks,
    load_card,
    load_rate_card,
    parse_rate_card,
    quote,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "rate-card.yaml"
LATER = rfc3339_to_ms("2026-01-01T00:00:00Z", "at")


def test_the_example_card_loads_and_prices_text_image_and_video() -> None:
    card = load_card(EXAMPLE)
    version = card.version_at(LATER)
    cases = [
        ({"meter": "llm", "model": "gpt-4o", "input_tokens": 1200, "output_tokens": 800},
         "0.011000000"),
        ({"meter": "llm", "model": "claude-sonnet-4-5", "input_tokens": 100,
          "cached_input_tokens": 10000, "cache_write_tokens": 2000, "output_tokens": 500},
         "0.018300000"),
        ({"meter": "image", "model": "gpt-image-1", "quality": "high", "count": 2},
         "0.334000000"),
        ({"meter": "video", "model": "veo-3", "resolution": "1080p", "seconds": 8},
         "3.200000000"),
        ({"meter": "video", "model": "sora-2-pro", "resolution": "1024p", "seconds": 4},
         "2.000000000"),
        ({"meter": "passthrough", "currency": "USD", "provider": "replicate",
          "quantities": {"provider_cost": "0.0123"}}, "0.014760000"),
        ({"meter": "passthrough", "currency": "USD", "quantities": {"provider_cost": "0.0001"}},
         "0.001000000"),
    ]
    for usage, credits in cases:
        assert quote(version, Usage.parse(usage)).to_dict()["credits"] == credits, usage


def test_the_example_card_supports_a_downgrade_chain() -> None:
    version = load_card(EXAMPLE).version_at(LATER)
    usage = Usage.parse({"meter": "video", "model": "veo-3", "seconds": 8})
    options = expand_fallbacks(usage, {"veo-3": ["veo-3-fast"]})
    assert [quote(version, o).credits_nano for o in options] == [3_200_000_000, 1_200_000_000]


def test_a_json_file_loads_with_exact_numbers(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(json.dumps({"card": "c", "prices": [
        {"meter": "llm", "quantity": "input_tokens", "model": "per_unit", "per": 1000000,
         "unit_price": 0.15}]}).replace("0.15", "0.15"))
    [version] = load_rate_card(path)
    assert version.prices[0].to_dict()["unit_price"] == "0.15"
    assert version.effective_at_ms == 0 and version.version == 1


def test_yaml_floats_and_dates_are_read_from_their_text(tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(
        "card: c\nversions:\n  - effective_at: 2026-01-01T00:00:00Z\n    prices:\n"
        "      - {meter: m, quantity: q, model: per_unit, unit_price: 0.1}\n"
    )
    [version] = load_rate_card(path)
    assert version.effective_at_ms == LATER
    assert version.prices[0].to_dict()["unit_price"] == "0.1"


@pytest.mark.parametrize(
    ("text", "param"),
    [
        ("card: c\nversions:\n  - prices:\n      - {meter: m, quantity: q, model: graduated, "
         "tiers: [{up_to: 10, unit_price: 1}, {up_to: 5, unit_price: 1}, {up_to: null, "
         "unit_price: 1}]}\n", "versions[0].prices[0].tiers[1].up_to"),
        ("card: c\nversions:\n  - prices:\n      - {meter: m, quantity: q, model: per_unit, "
         "unit_price: .nan}\n", "versions[0].prices[0].unit_price"),
        ("card: c\nversions:\n  - prices:\n      - {meter: m, quantity: q, model: per_unit, "
         "unit_price: -0.5}\n", "versions[0].prices[0].unit_price"),
        ("card: c\nversions:\n  - {effective_at: '2026-02-01T00:00:00Z', prices: [{meter: m, "
         "quantity: q, model: flat, flat_price: 1}]}\n  - {effective_at: '2026-01-01T00:00:00Z', "
         "prices: [{meter: m, quantity: q, model: flat, flat_price: 1}]}\n",
         "versions[1].effective_at"),
        ("card: c\nversions:\n  - {effective_at: yesterday, prices: []}\n",
         "versions[0].effective_at"),
        ("card: c\nprices: [{meter: m, quantity: q, model: flat, flat_price: 1, colour: red}]\n",
         "prices[0].colour"),
        ("card: c\npricez: []\n", "$.pricez"),
    ],
)
def test_file_errors_name_the_file_and_the_path_of_the_bad_field(
    tmp_path: Path, text: str, param: str
) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(text)
    with pytest.raises(InvalidRateCard) as caught:
        load_rate_card(path)
    assert caught.value.param == param
    assert str(path) in str(caught.value) and param in str(caught.value)


def test_a_file_that_does_not_parse_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text('{"card": "c", "prices": [NaN]}')
    with pytest.raises(InvalidRateCard):
        load_rate_card(path)


def test_a_card_from_code_validates_like_a_file() -> None:
    versions = parse_rate_card({"card": "c", "versions": [
        {"prices": [{"meter": "m", "quantity": "q", "model": "flat", "flat_price": "1"}]},
        {"effective_at": "2026-01-01T00:00:00Z",
         "prices": [{"meter": "m", "quantity": "q", "model": "flat", "flat_price": "2"}]},
    ]})
    assert [v.version for v in versions] == [1, 2]
