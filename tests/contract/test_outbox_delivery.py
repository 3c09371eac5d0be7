"""Commit → outbox → dispatcher → vendor, on every store, with a faulty vendor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spendgate.domain.clock import SystemClock
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import (
    AddGrant,
    DirectUsage,
    RecordUsage,
    UpsertOrg,
    UpsertProject,
)
from spendgate.ledger.engine import Ledger
from spendgate.sinks import Backoff, Dispatcher, SinkConfig, build_sink
from spendgate.sinks.stubs import Faults, FlexpriceStub
from spendgate.stores import open_store
from spendgate.stores.outbox import SqlOutbox
from spendgate.stores.port import Store
from spendgate.stores.sinks import SinkRepository
from spendgate.stores.webhooks import SqlDeliveryLog

S = Scope("acme-inc", "live")
PATH = NodePath("acme", "studio")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


def _usage(n: int, start: int = 0) -> RecordUsage:
    return RecordUsage("acme", tuple(
        DirectUsage(f"evt-{i}", PATH, Charge(1_000_000, usage={
            "meter": "llm", "model": "gpt-4o", "input_tokens": 100 + i, "output_tokens": 7}),
            timestamp_ms=1_767_225_600_000 + i)
        for i in range(start, start + n)))


def _drain(dispatcher: Dispatcher, outbox: SqlOutbox, sink: str) -> None:
    for _ in range(400):
        dispatcher.run_once()
        if outbox.backlog(sink).events == 0:
            return
    raise AssertionError("the outbox did not drain")


def test_every_committed_event_reaches_a_faulty_vendor_exactly_once(store: Store) -> None:
    stub = FlexpriceStub(api_key="fp-key", faults=Faults(rate=0.3, seed=7,
                                                         kinds=("5xx", "429", "drop_after")))
    with stub.serve() as base_url, Ledger(store) as ledger:
        config = SinkConfig.parse("flexprice", {"type": "flexprice", "api_key": "fp-key",
                                                "base_url": base_url,
                                                "options": {"max_batch": 50}})
        SinkRepository(store).put(S, config, 0)
        ledger.upsert_org(S, UpsertOrg("acme"))
        ledger.upsert_project(S, UpsertProject("acme", "studio"))
        ledger.add_grant(S, AddGrant("acme", 10**15))
        assert ledger.record_usage(S, _usage(500)) == (500, 0)

        outbox = SqlOutbox(store, S, lease_ms=50)
        assert outbox.backlog("flexprice").events == 500, "one outbox row per event and sink"
        sink = build_sink(config)
        dispatcher = Dispatcher(outbox, [sink], clock=SystemClock(),
                                backoff=Backoff(base_s=0.001, cap_s=0.01))
        _drain(dispatcher, outbox, "flexprice")
        accepted = stub.accepted()
        assert set(accepted) == {f"evt-{i}" for i in range(500)}
        assert stub.stored_rows() == 500, "no event is counted twice at the vendor"
        assert accepted["evt-3"]["properties"]["input_tokens"] == "103"

        # A replay of the whole range sends everything again and the vendor adds nothing.
        assert outbox.replay("flexprice", 0, 2**62, SystemClock().now_ms()) == 500
        _drain(dispatcher, outbox, "flexprice")
        assert stub.stored_rows() == 500
        sink.close()


def test_dead_letters_wait_for_a_redrive(store: Store) -> None:
    stub = FlexpriceStub(api_key="fp-key")
    with stub.serve() as base_url, Ledger(store) as ledger:
        wrong = SinkConfig.parse("fp", {"type": "flexprice", "api_key": "wrong",
                                        "base_url": base_url})
        SinkRepository(store).put(S, wrong, 0)
        ledger.upsert_org(S, UpsertOrg("acme"))
        ledger.upsert_project(S, UpsertProject("acme", "studio"))
        ledger.record_usage(S, _usage(5))
        outbox = SqlOutbox(store, S, lease_ms=50)
        dispatcher = Dispatcher(outbox, [build_sink(wrong)], clock=SystemClock(),
                                backoff=Backoff(base_s=0.001, cap_s=0.002), max_attempts=2)
        _drain(dispatcher, outbox, "fp")
        assert outbox.counts("fp")["dead"] == 5 and stub.accepted() == {}
        announced = SqlDeliveryLog(store).events(S, "sink.dead_lettered")
        assert sorted(e.data["usage_event_id"] for e in announced) == [  # type: ignore[type-var]
            f"evt-{i}" for i in range(5)]

        right = SinkConfig.parse("fp", {"type": "flexprice", "api_key": "fp-key",
                                        "base_url": base_url})
        SinkRepository(store).put(S, right, 0)
        assert outbox.redrive("fp", SystemClock().now_ms()) == 5
        _drain(Dispatcher(outbox, [build_sink(right)], clock=SystemClock()), outbox, "fp")
        assert len(stub.accepted()) == 5
        assert outbox.counts("fp")["delivered"] == 5


def test_a_sink_only_receives_events_committed_after_it_was_created(store: Store) -> None:
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme"))
        ledger.upsert_project(S, UpsertProject("acme", "studio"))
        ledger.record_usage(S, _usage(3))
        SinkRepository(store).put(S, SinkConfig.parse("late", {
            "type": "flexprice", "api_key": "k", "base_url": "http://127.0.0.1:9/v1"}), 0)
        ledger.record_usage(S, _usage(2, start=3))
        assert SqlOutbox(store, S).backlog("late").events == 2
