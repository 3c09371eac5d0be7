"""Exactly-once effect: at-least-once delivery through faulty vendors, made exact by the
vendors' own dedup on our event ids. Also dual-run totals and replays."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from decimal import Decimal

import pytest

from spendgate.domain.clock import ManualClock
from spendgate.domain.money import credits_to_decimal
from spendgate.metering.events import UsageEvent
from spendgate.sinks import Backoff, Dispatcher, MemoryOutbox, Sink, build_sink
from spendgate.sinks.mapping import mapped_totals
from spendgate.sinks.stubs import (
    FAULT_KINDS,
    Faults,
    FlexpriceStub,
    LagoStub,
    MetronomeStub,
    VendorStub,
)
from tests.contract.sinks.conftest import KEY
from tests.unit.sinks.factories import config, usage

VENDORS = ("flexprice", "metronome", "lago")
STUB = {"flexprice": FlexpriceStub, "metronome": MetronomeStub, "lago": LagoStub}
NAMES = {"flexprice": ("external_customer_id", "event_name"),
         "metronome": ("customer_id", "event_type"),
         "lago": ("external_subscription_id", "code")}


class Rig:
    def __init__(self, stubs: dict[str, VendorStub], sinks: dict[str, Sink]) -> None:
        self.stubs = stubs
        self.sinks = sinks
        self.outbox = MemoryOutbox()
        self.clock = ManualClock(0)
        self.dispatcher = Dispatcher(
            self.outbox, sinks.values(), clock=self.clock, max_attempts=1000,
            backoff=Backoff(base_s=0.05, cap_s=1.0, uniform=random.Random(11).random),
        )

    def enqueue(self, events: Sequence[UsageEvent]) -> None:
        for name in self.sinks:
            self.outbox.add_many(name, events, self.clock.now_ms())

    def drain(self, max_rounds: int = 400) -> int:
        for rounds in range(1, max_rounds + 1):
            self.dispatcher.run_once(self.clock.now_ms())
            self.clock.advance(2_000)  # past any Retry-After and backoff: no real waiting
            if all(self.outbox.backlog(name).events == 0 for name in self.sinks):
                return rounds
        raise AssertionError("the outbox did not drain")


def rig(faults: Faults | None, vendors: Sequence[str] = VENDORS) -> Iterator[Rig]:
    with ExitStack() as stack:
        stubs: dict[str, VendorStub] = {}
        sinks: dict[str, Sink] = {}
        for n, vendor in enumerate(vendors):
            vendor_faults = None
            if faults is not None:
                vendor_faults = Faults(rate=faults.rate, kinds=faults.kinds,
                                       seed=faults.seed + n, slow_s=faults.slow_s,
                                       retry_after_s=faults.retry_after_s)
            stub = STUB[vendor](api_key=KEY, faults=vendor_faults)
            url = stack.enter_context(stub.serve())
            sink = build_sink(config(vendor, name=vendor, base_url=url,
                                     options={"timeout_ms": 200}))
            stack.callback(sink.close)
            stubs[vendor], sinks[vendor] = stub, sink
        yield Rig(stubs, sinks)


@pytest.fixture
def faulty() -> Iterator[Rig]:
    yield from rig(Faults(rate=0.3, kinds=FAULT_KINDS, seed=2026, slow_s=0.3, retry_after_s=1))


@pytest.fixture
def healthy() -> Iterator[Rig]:
    yield from rig(None)


def test_every_event_reaches_every_vendor_exactly_once_despite_30_percent_faults(
    faulty: Rig,
) -> None:
    events = usage(5000)
    faulty.enqueue(events)
    faulty.drain()
    sent = {e.id for e in events}
    for vendor, stub in faulty.stubs.items():
        assert set(stub.accepted()) == sent, vendor
        assert stub.stored_rows() == len(sent), vendor  # nothing counted twice
        assert faulty.outbox.dead(vendor) == [], vendor
        status = faulty.dispatcher.status(vendor)
        assert status.delivered == len(sent) and status.lag_events == 0
    calls = {vendor: stub.calls() for vendor, stub in faulty.stubs.items()}
    injected = {kind for per in calls.values() for kind in per if not kind.startswith("2")}
    assert {"429", "drop", "drop_after", "slow"} <= injected, calls
    assert any(k in injected for k in ("500", "502", "503")), calls
    # Lost acknowledgements were resent and recognised as duplicates by the vendors.
    assert sum(stub.duplicates for stub in faulty.stubs.values()) > 0
    assert sum(faulty.dispatcher.status(v).retried for v in VENDORS) > 0


def test_dual_run_vendors_receive_identical_totals_per_org_and_meter(healthy: Rig) -> None:
    events = usage(1200, orgs=("org-a", "org-b", "org-c"), meters=("tokens", "credits", "img"))
    healthy.enqueue(events)
    healthy.drain()
    expected: dict[tuple[str, str], Decimal] = {}
    for e in events:
        key = (e.org, e.meter)
        expected[key] = expected.get(key, Decimal(0)) + credits_to_decimal(e.credits_nano)
    for vendor, stub in healthy.stubs.items():
        customer_key, name_key = NAMES[vendor]
        totals = mapped_totals(stub.accepted(), customer_key=customer_key, name_key=name_key)
        assert totals == expected, vendor


def test_replaying_a_range_adds_nothing_at_a_vendor_that_already_has_it(healthy: Rig) -> None:
    events = usage(600)
    healthy.enqueue(events)
    healthy.drain()
    before = {vendor: stub.accepted() for vendor, stub in healthy.stubs.items()}
    start, end = events[400].timestamp_ms, events[100].timestamp_ms  # newest first
    replay = [e for e in events if start <= e.timestamp_ms <= end]
    assert len(replay) == 301
    healthy.enqueue(replay)
    healthy.drain()
    for vendor, stub in healthy.stubs.items():
        assert stub.accepted() == before[vendor], vendor
        assert stub.stored_rows() == 600
        assert stub.duplicates == len(replay), vendor
        assert healthy.dispatcher.status(vendor).dead_lettered == 0


def test_a_new_sink_is_backfilled_by_replay_while_the_old_one_is_untouched() -> None:
    for old in rig(None, vendors=("flexprice",)):
        events = usage(300)
        old.enqueue(events)
        old.drain()
        for new in rig(None, vendors=("lago",)):
            new.enqueue(events)  # replay of the whole history into the new vendor
            new.drain()
            assert set(new.stubs["lago"].accepted()) == set(old.stubs["flexprice"].accepted())
        assert old.stubs["flexprice"].duplicates == 0
