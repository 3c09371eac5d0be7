"""The official Flexprice SDK against the Flexprice stub, and the stub's rules one by one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flexprice import Flexprice

from spendgate.sinks.flexprice import FlexpriceSink
from spendgate.sinks.mapping import to_flexprice
from spendgate.sinks.port import PermanentFailure, RetryLater
from tests.contract.sinks.conftest import KEY, Running
from tests.unit.sinks.factories import config, usage

H = {"x-api-key": KEY}


def good(**overrides: Any) -> dict[str, Any]:
    event = {"event_id": "e1", "event_name": "tokens", "external_customer_id": "org-a",
             "timestamp": "2026-01-01T00:00:00.000Z", "properties": {"credits": "1.5"}}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


def test_the_sdk_bulk_ingest_delivers_events_the_stub_validates(flexprice: Running) -> None:
    cfg = config("flexprice", base_url=flexprice.url, customer_ids={"org-a": "cus_a"})
    sink = FlexpriceSink(cfg)
    events = usage(1500)
    sink.deliver(events[:1000])
    sink.deliver(events[1000:])
    sink.close()
    accepted = flexprice.stub.accepted()
    assert set(accepted) == {e.id for e in events}
    for event in events[:50]:
        row = accepted[event.id]
        sent = to_flexprice(event, cfg)
        assert row["timestamp_ms"] == event.timestamp_ms
        assert row["external_customer_id"] == sent["external_customer_id"]
        assert row["event_name"] == sent["event_name"]
        assert row["properties"] == sent["properties"]
    assert flexprice.stub.calls() == {"202": 2}


def test_the_sdk_client_is_used_exactly_as_published(flexprice: Running) -> None:
    client = Flexprice(api_key_auth=KEY, server_url=flexprice.url + "/v1")
    answer = client.events.ingest_events_bulk(events=[good()])
    assert answer == {"message": "Events accepted for processing"}
    assert set(flexprice.stub.accepted()) == {"e1"}


def test_a_resend_with_the_same_id_and_timestamp_is_one_row(flexprice: Running) -> None:
    sink = FlexpriceSink(config("flexprice", base_url=flexprice.url))
    events = usage(20)
    sink.deliver(events)
    sink.deliver(events)
    sink.close()
    assert flexprice.stub.stored_rows() == 20 and flexprice.stub.duplicates == 20


def test_the_same_id_with_another_timestamp_counts_twice(flexprice: Running) -> None:
    flexprice.post("/v1/events/bulk", {"events": [good()]}, H)
    flexprice.post("/v1/events/bulk", {"events": [good(timestamp="2026-01-01T00:00:01Z")]}, H)
    assert flexprice.stub.stored_rows() == 2 and len(flexprice.stub.accepted()) == 1


def test_single_ingest_answers_202_and_makes_up_a_missing_event_id(flexprice: Running) -> None:
    response = flexprice.post("/v1/events", good(event_id=None), H)
    assert response.status_code == 202
    assert response.json()["event_id"].startswith("event_")


def test_a_wrong_api_key_is_refused_with_401(flexprice: Running) -> None:
    assert flexprice.post("/v1/events/bulk", {"events": [good()]},
                          {"x-api-key": "nope"}).status_code == 401
    assert flexprice.post("/v1/events/bulk", {"events": [good()]}).status_code == 401


def test_a_wrong_api_key_makes_the_adapter_retry_later_not_drop(flexprice: Running) -> None:
    cfg = config("flexprice", base_url=flexprice.url, api_key="wrong")
    with pytest.raises(RetryLater, match="401"):
        FlexpriceSink(cfg).deliver(usage(1))


@pytest.mark.parametrize("field", ["event_name", "external_customer_id"])
def test_a_missing_required_field_refuses_the_bulk_with_400(
    flexprice: Running, field: str
) -> None:
    response = flexprice.post("/v1/events/bulk", {"events": [good(event_id="ok"),
                                                             good(**{field: None})]}, H)
    assert response.status_code == 400 and field in response.json()["message"]
    assert flexprice.stub.accepted() == {}


def test_an_empty_bulk_is_refused(flexprice: Running) -> None:
    assert flexprice.post("/v1/events/bulk", {"events": []}, H).status_code == 400


def test_a_bulk_over_1000_events_is_refused(flexprice: Running) -> None:
    events = [good(event_id=f"e{i}") for i in range(1001)]
    assert flexprice.post("/v1/events/bulk", {"events": events}, H).status_code == 400
    assert flexprice.stub.accepted() == {}


def test_a_timestamp_that_is_not_rfc3339_is_refused(flexprice: Running) -> None:
    response = flexprice.post("/v1/events/bulk", {"events": [good(timestamp="01/02/2026")]}, H)
    assert response.status_code == 400


def test_properties_that_are_not_an_object_are_refused(flexprice: Running) -> None:
    response = flexprice.post("/v1/events/bulk", {"events": [good(properties=["x"])]}, H)
    assert response.status_code == 400


def test_bulk_stops_at_the_first_event_the_domain_refuses_keeping_earlier_ones(
    flexprice: Running,
) -> None:
    events = [good(event_id="a"), good(event_id="b", event_name="   "), good(event_id="c")]
    assert flexprice.post("/v1/events/bulk", {"events": events}, H).status_code == 400
    assert set(flexprice.stub.accepted()) == {"a"}


def test_the_adapter_isolates_an_event_the_vendor_refuses_and_delivers_the_rest(
    flexprice: Running,
) -> None:
    # A padded event name passes our own checks only through a raw payload; here we check
    # the bisection: the stub refuses a batch holding a whitespace-only name.
    sink = FlexpriceSink(config("flexprice", base_url=flexprice.url,
                                event_names={"credits": "credits"}))
    events = usage(8)
    original = sink._send

    def poison(payloads: Any) -> None:
        payloads = [dict(p, event_name="   ") if p["event_id"] == "ev_000005" else p
                    for p in payloads]
        original(payloads)

    sink._send = poison  # type: ignore[method-assign]
    with pytest.raises(PermanentFailure) as caught:
        sink.deliver(events)
    assert caught.value.event_ids == ("ev_000005",) and caught.value.others_delivered
    assert set(flexprice.stub.accepted()) == {e.id for e in events} - {"ev_000005"}


def test_an_invalid_mapping_is_caught_before_anything_is_sent(flexprice: Running) -> None:
    sink = FlexpriceSink(config("flexprice", base_url=flexprice.url))
    events = usage(4)
    events[1] = replace(events[1], org="")
    events[2] = replace(events[2], meter=" padded")
    with pytest.raises(PermanentFailure) as caught:
        sink.deliver(events)
    assert set(caught.value.event_ids) == {"ev_000001", "ev_000002"}
    assert not caught.value.others_delivered
    assert flexprice.stub.calls() == {}


def test_the_api_key_never_shows_in_the_reported_error() -> None:
    from spendgate.sinks import Dispatcher, MemoryOutbox, build_sink
    from spendgate.sinks.stubs import FlexpriceStub

    stub = FlexpriceStub(api_key="right-key")
    with stub.serve() as url:
        sink = build_sink(config("flexprice", name="fp", base_url=url,
                                 api_key="sk_TOP_SECRET"))
        outbox = MemoryOutbox()
        outbox.add_many("fp", usage(2), now_ms=0)
        d = Dispatcher(outbox, [sink])
        d.run_once(now_ms=0)
        sink.close()
    error = d.status("fp").last_error or ""
    assert "401" in error and "TOP_SECRET" not in error
