from __future__ import annotations

import pytest

from spendgate.errors import InvalidRequest
from spendgate.sinks.config import Secret, SinkConfig


def parse(body: dict[str, object], name: str = "billing") -> SinkConfig:
    return SinkConfig.parse(name, body)


def test_a_full_vendor_config_is_accepted_with_its_defaults() -> None:
    config = parse(
        {
            "type": "metronome",
            "api_key": "sk_live_123",
            "customer_ids": {"org-a": "cust_9"},
            "event_names": {"tokens": "llm_tokens"},
            "webhook_secret": "whsec_abc",
            "options": {"timeout_ms": 2000},
        }
    )
    assert config.enabled is True
    assert config.base_url == "https://api.metronome.com"
    assert config.customer_id("org-a") == "cust_9"
    assert config.customer_id("org-b") == "org-b"
    assert config.event_name("tokens") == "llm_tokens"
    assert config.event_name("credits") == "credits"
    assert config.max_batch == 100
    assert config.timeout_s == 2.0


def test_secrets_never_appear_in_repr_str_or_the_public_dict() -> None:
    config = parse({"type": "lago", "api_key": "sk_SECRET_1", "webhook_secret": "whsec_SECRET_2"})
    shown = repr(config) + str(config) + repr(config.to_public_dict())
    assert "SECRET" not in shown
    public = config.to_public_dict()
    assert "api_key" not in public and "webhook_secret" not in public
    assert public["api_key_set"] is True and public["webhook_secret_set"] is True
    assert isinstance(config.api_key, Secret) and config.api_key.reveal() == "sk_SECRET_1"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"type": "stripe", "api_key": "k"}, "type"),
        ({"type": "lago"}, "api_key"),
        ({"type": "lago", "api_key": ""}, "api_key"),
        ({"type": "lago", "api_key": "k", "enabled": "yes"}, "enabled"),
        ({"type": "lago", "api_key": "k", "base_url": "ftp://x"}, "base_url"),
        ({"type": "lago", "api_key": "k", "base_url": "not a url"}, "base_url"),
        ({"type": "nats", "base_url": "http://127.0.0.1:4222"}, "base_url"),
        ({"type": "lago", "api_key": "k", "customer_ids": {"org-a": ""}}, "customer_ids.org-a"),
        ({"type": "lago", "api_key": "k", "customer_ids": {"org-a": 7}}, "customer_ids.org-a"),
        ({"type": "lago", "api_key": "k", "event_names": {"tokens": " x"}}, "event_names.tokens"),
        ({"type": "lago", "api_key": "k", "event_names": ["x"]}, "event_names"),
        ({"type": "lago", "api_key": "k", "options": {"max_batch": 101}}, "options.max_batch"),
        ({"type": "lago", "api_key": "k", "options": {"transport": "carrier"}},
         "options.transport"),
        ({"type": "lago", "api_key": "k", "options": {"stream": "S"}}, "options.stream"),
        ({"type": "nats", "options": {"subject_prefix": "a..b"}}, "options.subject_prefix"),
        ({"type": "lago", "api_key": "k", "colour": "red"}, "colour"),
        ({"type": "lago", "api_key": "k", "webhook_public_key": ""}, "webhook_public_key"),
    ],
)
def test_an_invalid_field_is_refused_naming_it(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(body)
    assert caught.value.param == param


def test_an_invalid_sink_name_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse({"type": "nats"}, name="has space")
    assert caught.value.param == "name"


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        ("flexprice", "http://127.0.0.1:9000", "http://127.0.0.1:9000/v1"),
        ("flexprice", "https://api.cloud.flexprice.io/v1/", "https://api.cloud.flexprice.io/v1"),
        ("lago", "http://127.0.0.1:9000", "http://127.0.0.1:9000/"),
        ("lago", "https://api.getlago.com/api/v1", "https://api.getlago.com/"),
        ("lago", "https://lago.example.com/billing", "https://lago.example.com/billing/"),
        ("metronome", "http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
        ("metronome", "https://api.metronome.com/v1", "https://api.metronome.com"),
        ("nats", "nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
    ],
)
def test_base_urls_take_the_form_each_sdk_needs(kind: str, given: str, expected: str) -> None:
    body: dict[str, object] = {"type": kind, "base_url": given}
    if kind != "nats":
        body["api_key"] = "k"
    assert parse(body).base_url == expected


def test_nats_needs_no_api_key_and_takes_stream_options() -> None:
    config = parse(
        {"type": "nats", "options": {"stream": "USAGE_1", "subject_prefix": "sg.usage",
                                     "duplicate_window_s": 600, "max_batch": 500}}
    )
    assert config.api_key is None
    assert config.max_batch == 500
    assert config.options["subject_prefix"] == "sg.usage"


def test_a_put_without_secrets_keeps_the_previous_ones_of_the_same_type() -> None:
    first = parse({"type": "lago", "api_key": "k1", "webhook_secret": "w1"})
    second = SinkConfig.parse("billing", {"type": "lago", "enabled": False}, previous=first)
    assert second.api_key == Secret("k1") and second.webhook_secret == Secret("w1")
    assert second.enabled is False
    with pytest.raises(InvalidRequest) as caught:
        SinkConfig.parse("billing", {"type": "metronome"}, previous=first)
    assert caught.value.param == "api_key"


def test_build_sinks_skips_disabled_sinks() -> None:
    from spendgate.sinks import build_sinks

    on = parse({"type": "nats"}, name="on")
    off = parse({"type": "nats", "enabled": False}, name="off")
    sinks = build_sinks([on, off])
    try:
        assert [s.name for s in sinks] == ["on"]
    finally:
        for sink in sinks:
            sink.close()


def test_the_private_dict_round_trips_through_parse_for_the_store() -> None:
    config = parse({"type": "flexprice", "api_key": "k", "base_url": "http://h:1",
                    "customer_ids": {"o": "c"}, "event_names": {"m": "n"},
                    "webhook_secret": "w", "webhook_public_key": "pk",
                    "options": {"timeout_ms": 500, "source": "sg"}})
    assert SinkConfig.parse("billing", config.to_private_dict()) == config
