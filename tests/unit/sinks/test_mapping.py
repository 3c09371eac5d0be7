from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from spendgate.metering.events import UsageEvent
from spendgate.sinks.mapping import (
    decimal_text,
    lago_timestamp,
    nats_subject,
    to_flexprice,
    to_lago,
    to_metronome,
    to_nats,
    usage_properties,
)
from spendgate.sinks.port import InvalidMapping
from tests.unit.sinks.factories import config

T0 = 1_767_225_600_250  # 2026-01-01T00:00:00.250Z


def event(**overrides: object) -> UsageEvent:
    fields: dict[str, object] = {
        "id": "ev_1", "tenant": "acme", "env": "live", "org": "org-a", "project": "p1",
        "user": "u1", "meter": "tokens", "timestamp_ms": T0, "credits_nano": 1_500_000_150,
        "quantities": {"input_tokens": Decimal("1200"), "cached": Decimal("0.5")},
        "dimensions": {"model": "gpt-x"},
    }
    fields.update(overrides)
    return UsageEvent(**fields)  # type: ignore[arg-type]


def test_properties_hold_quantities_dimensions_and_credits_as_exact_strings() -> None:
    assert usage_properties(event()) == {
        "project": "p1", "user": "u1", "model": "gpt-x",
        "input_tokens": "1200", "cached": "0.5", "credits": "1.50000015",
    }


def test_decimal_text_never_uses_an_exponent() -> None:
    assert decimal_text(Decimal("1E+3")) == "1000"
    assert decimal_text(Decimal("1.500")) == "1.5"
    assert decimal_text(Decimal("0.000000001")) == "0.000000001"
    assert decimal_text(Decimal("0")) == "0"


def test_flexprice_event_carries_id_fixed_timestamp_customer_and_name() -> None:
    mapped = to_flexprice(event(), config("flexprice", customer_ids={"org-a": "cus_7"}))
    assert mapped["event_id"] == "ev_1"
    assert mapped["timestamp"] == "2026-01-01T00:00:00.250Z"
    assert mapped["external_customer_id"] == "cus_7"
    assert mapped["event_name"] == "tokens"
    assert all(isinstance(v, str) for v in mapped["properties"].values())


def test_metronome_event_uses_transaction_id_and_event_type() -> None:
    mapped = to_metronome(event(), config("metronome", event_names={"tokens": "llm"}),
                          now_ms=T0)
    assert mapped["transaction_id"] == "ev_1"
    assert mapped["event_type"] == "llm"
    assert mapped["customer_id"] == "org-a"
    assert mapped["timestamp"] == "2026-01-01T00:00:00.250Z"


def test_lago_event_uses_subscription_code_and_unix_seconds_with_millis() -> None:
    mapped = to_lago(event(), config("lago", customer_ids={"org-a": "sub_1"}))
    assert mapped["transaction_id"] == "ev_1"
    assert mapped["external_subscription_id"] == "sub_1"
    assert mapped["code"] == "tokens"
    assert mapped["timestamp"] == "1767225600.250"
    assert lago_timestamp(5) == "0.005"


def test_an_amount_only_event_has_the_credits_meter_and_credits_property() -> None:
    mapped = to_lago(event(meter="credits", quantities={}, dimensions={}), config("lago"))
    assert mapped["code"] == "credits"
    assert mapped["properties"]["credits"] == "1.50000015"


def test_the_same_event_maps_to_the_same_payload_every_time() -> None:
    cfg = config("flexprice")
    assert to_flexprice(event(), cfg) == to_flexprice(event(), cfg)


def test_an_empty_customer_id_is_caught_before_sending() -> None:
    with pytest.raises(InvalidMapping) as caught:
        to_flexprice(event(org=""), config("flexprice"))
    assert caught.value.field == "customer_id" and caught.value.event_id == "ev_1"


def test_a_padded_event_name_is_caught_before_sending() -> None:
    with pytest.raises(InvalidMapping) as caught:
        to_flexprice(event(meter=" tokens"), config("flexprice"))
    assert caught.value.field == "event_name"


def test_an_overlong_event_name_is_caught_before_sending() -> None:
    with pytest.raises(InvalidMapping):
        to_lago(event(meter="m" * 300), config("lago"))


def test_an_empty_event_id_is_caught_before_sending() -> None:
    with pytest.raises(InvalidMapping) as caught:
        to_metronome(event(id=""), config("metronome"), now_ms=T0)
    assert caught.value.field == "id"


def test_metronome_refuses_timestamps_outside_its_window_before_sending() -> None:
    cfg = config("metronome")
    day = 86_400_000
    to_metronome(event(timestamp_ms=T0 - 34 * day + 1), cfg, now_ms=T0)
    with pytest.raises(InvalidMapping):
        to_metronome(event(timestamp_ms=T0 - 35 * day), cfg, now_ms=T0)
    with pytest.raises(InvalidMapping):
        to_metronome(event(timestamp_ms=T0 + 25 * 3_600_000), cfg, now_ms=T0)


def test_nats_subject_is_per_tenant_env_and_meter_with_unsafe_characters_escaped() -> None:
    assert nats_subject(event(), "spendgate.usage") == "spendgate.usage.acme.live.tokens"
    assert nats_subject(event(tenant="a.b", meter="x*y"), "p") == "p.a%2Eb.live.x%2Ay"


def test_nats_payload_is_the_usage_event_with_mapped_names() -> None:
    body = orjson.loads(to_nats(event(), config("nats", customer_ids={"org-a": "c1"})))
    assert body["id"] == "ev_1" and body["customer_id"] == "c1" and body["credits"] == "1.500000150"
