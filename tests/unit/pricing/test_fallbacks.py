from __future__ import annotations

import pytest

from spendgate.errors import InvalidRequest
from spendgate.pricing import RateCardVersion, Usage, expand_fallbacks, parse_fallbacks, quote

CHAINS = {"veo-3": ["veo-3-fast"], "1080p": ["720p"], "gpt-5": ["gpt-5-mini", "gpt-5-nano"]}


def test_the_original_comes_first_then_one_option_per_fallback() -> None:
    usage = Usage.of("video", model="veo-3", resolution="1080p", seconds=8)
    options = expand_fallbacks(usage, CHAINS)
    assert [dict(o.dimensions) for o in options] == [
        {"model": "veo-3", "resolution": "1080p"},
        {"model": "veo-3-fast", "resolution": "1080p"},
        {"model": "veo-3", "resolution": "720p"},
    ]
    assert all(o.quantities == usage.quantities for o in options)


def test_a_chain_lists_its_steps_in_order() -> None:
    options = expand_fallbacks(Usage.of("llm", model="gpt-5", input_tokens=1,
                                        output_tokens=1), CHAINS)
    assert [o.dimensions["model"] for o in options] == ["gpt-5", "gpt-5-mini", "gpt-5-nano"]


def test_a_usage_without_a_chain_is_its_only_option() -> None:
    usage = Usage.of("video", model="sora-2", seconds=4)
    assert expand_fallbacks(usage, CHAINS) == [usage]


def test_options_are_cheaper_so_the_ledger_can_downgrade() -> None:
    card = RateCardVersion.create("c", 1, 0, [
        {"meter": "video", "quantity": "seconds", "match": {"model": "veo-3"},
         "model": "per_unit", "unit_price": "0.4"},
        {"meter": "video", "quantity": "seconds", "match": {"model": "veo-3-fast"},
         "model": "per_unit", "unit_price": "0.15"},
    ])
    options = expand_fallbacks(Usage.of("video", model="veo-3", seconds=8), CHAINS)
    assert [quote(card, o).to_dict()["credits"] for o in options] == [
        "3.200000000", "1.200000000"]


def test_settings_chains_are_validated_naming_the_field() -> None:
    assert parse_fallbacks(CHAINS) == CHAINS
    for bad, param in [
        ({"veo-3": "veo-3-fast"}, "fallbacks.veo-3"),
        ({"veo-3": []}, "fallbacks.veo-3"),
        ({"veo-3": ["veo-3"]}, "fallbacks.veo-3[0]"),
        ({"veo-3": ["a", "a"]}, "fallbacks.veo-3[1]"),
        ({"veo-3": [3]}, "fallbacks.veo-3[0]"),
        (["veo-3"], "fallbacks"),
    ]:
        with pytest.raises(InvalidRequest) as caught:
            parse_fallbacks(bad)
        assert caught.value.param == param
