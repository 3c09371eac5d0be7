"""The official Lago SDK against the Lago stub, and the stub's rules one by one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models.event import BatchEvent, Event

from spendgate.sinks.lago import LagoSink
from spendgate.sinks.mapping import to_lago
from spendgate.sinks.port import PermanentFailure, RetryLater
from tests.contract.sinks.conftest import KEY, Running
from tests.unit.sinks.factories import config, usage

H = {"Authorization": f"Bearer {KEY}"}


def good(**overrides: Any) -> dict[str, Any]:
    event = {"transaction_id": "t1", "external_subscription_id": "sub-a", "code": "tokens",
             "timestamp": "1767225600.250", "properties": {"credits": "1.5"}}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


@pytest.mark.parametrize("transport", ["pooled", "sdk"])
def test_the_sdk_batch_delivers_events_the_stub_validates(lago: Running, transport: str) -> None:
    cfg = config("lago", base_url=lago.url, customer_ids={"org-a": "sub_a"},
                 options={"transport": transport})
    sink = LagoSink(cfg)
    events = usage(230)
    for start in range(0, 230, sink.max_batch):
        sink.deliver(events[start:start + sink.max_batch])
    sink.close()
    accepted = lago.stub.accepted()
    assert set(accepted) == {e.id for e in events}
    for event in events[:50]:
        sent = to_lago(event, cfg)
        row = accepted[event.id]
        assert row["timestamp_ms"] == event.timestamp_ms
        assert (row["external_subscription_id"], row["code"]) == (
            sent["external_subscription_id"], sent["code"])
        assert row["properties"] == sent["properties"]
    assert lago.stub.calls() == {"200": 3}


def test_the_sdk_client_is_used_exactly_as_published(lago: Running) -> None:
    client = Client(api_key=KEY, api_url=lago.url)
    assert client.events.batch_create(BatchEvent(events=[Event(**good())])) is None
    assert set(lago.stub.accepted()) == {"t1"}


def test_a_wrong_bearer_token_is_refused_with_401(lago: Running) -> None:
    response = lago.post("/api/v1/events/batch", {"events": [good()]},
                         {"Authorization": "Bearer x"})
    assert response.status_code == 401
    with pytest.raises(LagoApiError) as caught:
        Client(api_key="x", api_url=lago.url).events.batch_create(
            BatchEvent(events=[Event(**good())]))
    assert caught.value.status_code == 401


@pytest.mark.parametrize("field", ["transaction_id", "external_subscription_id", "code"])
def test_a_missing_required_field_is_refused_by_index(lago: Running, field: str) -> None:
    response = lago.post("/api/v1/events/batch",
                         {"events": [good(transaction_id="ok"), good(**{field: None})]}, H)
    assert response.status_code == 422
    assert response.json()["error_details"] == {"1": {field: ["value_is_mandatory"]}}


def test_one_bad_event_rejects_the_whole_batch(lago: Running) -> None:
    response = lago.post("/api/v1/events/batch",
                         {"events": [good(transaction_id="ok"), good(code=None)]}, H)
    assert response.status_code == 422 and lago.stub.accepted() == {}


def test_a_timestamp_that_is_not_numeric_is_refused(lago: Running) -> None:
    response = lago.post("/api/v1/events/batch",
                         {"events": [good(timestamp="2026-01-01T00:00:00Z")]}, H)
    assert response.status_code == 422
    assert response.json()["error_details"] == {"0": {"timestamp": ["invalid_format"]}}


def test_numeric_timestamps_as_numbers_or_strings_are_accepted(lago: Running) -> None:
    events = [good(transaction_id="a", timestamp=1767225600),
              good(transaction_id="b", timestamp="1767225600.5")]
    assert lago.post("/api/v1/events/batch", {"events": events}, H).status_code == 200
    stamps = {k: v["timestamp_ms"] for k, v in lago.stub.accepted().items()}
    assert stamps == {"a": 1767225600000, "b": 1767225600500}


def test_more_than_100_events_are_refused(lago: Running) -> None:
    events = [good(transaction_id=f"t{i}") for i in range(101)]
    response = lago.post("/api/v1/events/batch", {"events": events}, H)
    assert response.status_code == 422
    assert response.json()["error_details"] == {"events": ["too_many_events"]}


def test_an_empty_batch_is_refused(lago: Running) -> None:
    response = lago.post("/api/v1/events/batch", {"events": []}, H)
    assert response.status_code == 422


def test_a_repeated_transaction_id_gets_422_value_already_exist(lago: Running) -> None:
    assert lago.post("/api/v1/events/batch", {"events": [good()]}, H).status_code == 200
    response = lago.post("/api/v1/events/batch",
                         {"events": [good(transaction_id="new"), good()]}, H)
    assert response.status_code == 422
    assert response.json()["error_details"] == {"1": {"transaction_id": ["value_already_exist"]}}
    assert set(lago.stub.accepted()) == {"t1"} and lago.stub.duplicates == 1


def test_the_same_transaction_id_on_another_subscription_is_another_event(lago: Running) -> None:
    lago.post("/api/v1/events/batch", {"events": [good()]}, H)
    other = good(external_subscription_id="sub-b")
    assert lago.post("/api/v1/events/batch", {"events": [other]}, H).status_code == 200


@pytest.mark.parametrize("transport", ["pooled", "sdk"])
def test_the_adapter_treats_duplicates_as_delivered_and_sends_the_rest(
    lago: Running, transport: str
) -> None:
    sink = LagoSink(config("lago", base_url=lago.url, options={"transport": transport}))
    events = usage(40)
    sink.deliver(events[10:20])
    sink.deliver(events)  # ten of these are already there: 422 for them, then the rest
    sink.close()
    assert set(lago.stub.accepted()) == {e.id for e in events}
    assert lago.stub.duplicates == 10


def test_the_adapter_names_an_event_lago_refuses_and_delivers_the_rest(lago: Running) -> None:
    sink = LagoSink(config("lago", base_url=lago.url))
    original = sink._send

    def poison(payloads: list[dict[str, Any]]) -> None:
        original([dict(p, timestamp="noon") if p["transaction_id"] == "ev_000004" else p
                  for p in payloads])

    sink._send = poison  # type: ignore[method-assign]
    with pytest.raises(PermanentFailure) as caught:
        sink.deliver(usage(12))
    assert caught.value.event_ids == ("ev_000004",) and caught.value.others_delivered
    assert len(lago.stub.accepted()) == 11


def test_an_invalid_mapping_is_caught_before_anything_is_sent(lago: Running) -> None:
    sink = LagoSink(config("lago", base_url=lago.url))
    events = usage(3)
    events[2] = replace(events[2], org="")
    with pytest.raises(PermanentFailure) as caught:
        sink.deliver(events)
    assert caught.value.event_ids == ("ev_000002",)
    assert lago.stub.calls() == {}


def test_a_rate_limit_makes_the_pooled_adapter_retry_later_with_retry_after() -> None:
    from spendgate.sinks.stubs import Faults, LagoStub

    stub = LagoStub(api_key=KEY, faults=Faults(rate=1.0, kinds=("429",), retry_after_s=7))
    with stub.serve() as url, pytest.raises(RetryLater) as caught:
        LagoSink(config("lago", base_url=url)).deliver(usage(2))
    assert caught.value.after_s == 7.0
    assert stub.calls() == {"429": 1}  # no hidden retries in line
