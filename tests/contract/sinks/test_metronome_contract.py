"""The official Metronome SDK against the Metronome stub, and the stub's rules one by one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import metronome
import pytest

from spendgate.domain.clock import ManualClock, ms_to_rfc3339
from spendgate.sinks.mapping import to_metronome
from spendgate.sinks.metronome import MetronomeSink
from spendgate.sinks.port import PermanentFailure, RetryLater
from spendgate.sinks.stubs import MetronomeStub
from tests.contract.sinks.conftest import KEY, Running
from tests.unit.sinks.factories import config, now_ms, usage

H = {"Authorization": f"Bearer {KEY}"}
DAY = 86_400_000


def good(**overrides: Any) -> dict[str, Any]:
    event = {"transaction_id": "t1", "customer_id": "org-a", "event_type": "tokens",
             "timestamp": ms_to_rfc3339(now_ms()), "properties": {"credits": "1.5"}}
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


def test_the_sdk_ingest_delivers_events_the_stub_validates(metronome: Running) -> None:
    cfg = config("metronome", base_url=metronome.url, event_names={"tokens": "llm_tokens"})
    sink = MetronomeSink(cfg)
    events = usage(250)
    for start in range(0, 250, sink.max_batch):
        sink.deliver(events[start:start + sink.max_batch])
    sink.close()
    accepted = metronome.stub.accepted()
    assert set(accepted) == {e.id for e in events}
    now = now_ms()
    for event in events[:50]:
        sent = to_metronome(event, cfg, now_ms=now)
        row = accepted[event.id]
        assert row["timestamp_ms"] == event.timestamp_ms
        assert (row["customer_id"], row["event_type"]) == (sent["customer_id"],
                                                           sent["event_type"])
        assert row["properties"] == sent["properties"]
    assert metronome.stub.calls() == {"200": 3}


def test_the_sdk_client_is_used_exactly_as_published(metronome: Running) -> None:
    client = metronome_client(metronome.url)
    assert client.v1.usage.ingest(usage=[good()]) is None  # type: ignore[list-item]
    assert set(metronome.stub.accepted()) == {"t1"}
    client.close()


def metronome_client(url: str, key: str = KEY) -> metronome.Metronome:
    return metronome.Metronome(bearer_token=key, base_url=url, max_retries=0)


def test_a_repeated_transaction_id_is_ignored_whatever_the_payload(metronome: Running) -> None:
    assert metronome.post("/v1/ingest", [good()], H).status_code == 200
    assert metronome.post("/v1/ingest", [good(event_type="other")], H).status_code == 200
    assert metronome.stub.accepted()["t1"]["event_type"] == "tokens"
    assert metronome.stub.duplicates == 1


def test_a_wrong_bearer_token_is_refused_with_401(metronome: Running) -> None:
    assert metronome.post("/v1/ingest", [good()], {"Authorization": "Bearer x"}).status_code \
        == 401
    with pytest.raises(metronome_errors().AuthenticationError):
        metronome_client(metronome.url, key="wrong").v1.usage.ingest(usage=[good()])  # type: ignore[list-item]


def metronome_errors() -> Any:
    return metronome


def test_a_body_that_is_not_an_array_is_refused(metronome: Running) -> None:
    response = metronome.post("/v1/ingest", good(), H)
    assert response.status_code == 400 and "array" in response.json()["message"]


def test_more_than_100_events_are_refused(metronome: Running) -> None:
    events = [good(transaction_id=f"t{i}") for i in range(101)]
    assert metronome.post("/v1/ingest", events, H).status_code == 400
    assert metronome.stub.accepted() == {}


@pytest.mark.parametrize("field", ["transaction_id", "customer_id", "event_type", "timestamp"])
def test_a_missing_required_field_is_refused(metronome: Running, field: str) -> None:
    response = metronome.post("/v1/ingest", [good(transaction_id="ok"), good(**{field: None})], H)
    assert response.status_code == 400 and field in response.json()["message"]
    assert metronome.stub.accepted() == {}


@pytest.mark.parametrize("stamp", ["26-01-01T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00",
                                   "yesterday"])
def test_a_timestamp_that_is_not_rfc3339_with_four_digit_year_is_refused(
    metronome: Running, stamp: str
) -> None:
    assert metronome.post("/v1/ingest", [good(timestamp=stamp)], H).status_code == 400


def test_a_timestamp_older_than_34_days_is_refused(metronome: Running) -> None:
    old = ms_to_rfc3339(now_ms() - 35 * DAY)
    assert metronome.post("/v1/ingest", [good(timestamp=old)], H).status_code == 400


def test_a_timestamp_more_than_24_hours_ahead_is_refused(metronome: Running) -> None:
    ahead = ms_to_rfc3339(now_ms() + 25 * 3_600_000)
    assert metronome.post("/v1/ingest", [good(timestamp=ahead)], H).status_code == 400


def test_the_adapter_refuses_out_of_window_events_before_sending(metronome: Running) -> None:
    clock = ManualClock(now_ms())
    sink = MetronomeSink(config("metronome", base_url=metronome.url), clock=clock)
    events = usage(3)
    events[0] = replace(events[0], timestamp_ms=clock.now_ms() - 40 * DAY)
    with pytest.raises(PermanentFailure) as caught:
        sink.deliver(events)
    assert caught.value.event_ids == ("ev_000000",)
    assert metronome.stub.calls() == {}


def test_the_adapter_bisects_a_refused_array_to_name_the_bad_event() -> None:
    class Picky(MetronomeStub):
        def handle(self, method: str, path: str, headers: Any, body: bytes) -> Any:
            if b'"ev_000006"' in body:
                return self.error_reply(400, "usage[?]: customer not found")
            return super().handle(method, path, headers, body)

    stub = Picky(api_key=KEY)
    with stub.serve() as url:
        sink = MetronomeSink(config("metronome", base_url=url))
        with pytest.raises(PermanentFailure) as caught:
            sink.deliver(usage(10))
        sink.close()
    assert caught.value.event_ids == ("ev_000006",) and caught.value.others_delivered
    assert len(stub.accepted()) == 9


def test_a_server_error_makes_the_adapter_retry_later() -> None:
    from spendgate.sinks.stubs import Faults

    stub = MetronomeStub(api_key=KEY, faults=Faults(rate=1.0, kinds=("5xx",)))
    with stub.serve() as url, pytest.raises(RetryLater, match="metronome 50"):
        MetronomeSink(config("metronome", base_url=url)).deliver(usage(2))
    assert stub.accepted() == {}
