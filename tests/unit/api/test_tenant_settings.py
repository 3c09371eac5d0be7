"""Per-environment settings: PUT semantics (sent fields change, null resets) and validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.errors import InvalidRequest
from spendgate.tenancy import DEFAULT_TTL_SECONDS, EnvSettings


def test_only_the_fields_sent_change_and_null_resets_one() -> None:
    first = EnvSettings().updated({"default_rate_card": "list", "default_ttl_seconds": 60,
                                   "fallbacks": {"veo-3": ["veo-3-fast"]}})
    second = first.updated({"credit_value": {"currency": "USD", "amount": "0.01"}})
    assert (second.default_rate_card, second.default_ttl_seconds) == ("list", 60)
    assert second.credit_value is not None
    assert second.credit_value.amount_per_credit == Decimal("0.01")
    reset = second.updated({"default_ttl_seconds": None, "fallbacks": None})
    assert (reset.default_ttl_seconds, dict(reset.fallbacks)) == (DEFAULT_TTL_SECONDS, {})
    assert EnvSettings.from_dict(second.to_dict()) == second


@pytest.mark.parametrize(("body", "param"), [
    ({"default_ttl_seconds": 0}, "default_ttl_seconds"),
    ({"default_ttl_seconds": True}, "default_ttl_seconds"),
    ({"default_rate_card": "bad name"}, "default_rate_card"),
    ({"fallbacks": {"veo-3": []}}, "fallbacks.veo-3"),
    ({"credit_value": {"currency": "XXX", "amount": "1"}}, "credit_value.currency"),
    ({"credit_value": {"currency": "USD", "amount": "1e2"}}, "credit_value.amount"),
    ({"colour": "red"}, "colour"),
])
def test_bad_settings_name_the_field(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        EnvSettings().updated(body)
    assert caught.value.param == param
