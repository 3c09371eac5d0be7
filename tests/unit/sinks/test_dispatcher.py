from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from spendgate.metering.events import UsageEvent
from spendgate.sinks.backoff import Backoff
from spendgate.sinks.dispatcher import Dispatcher
from spendgate.sinks.memory_outbox import MemoryOutbox
from spendgate.sinks.port import PermanentFailure, RetryLater
from tests.unit.sinks.factories import usage

Script = Callable[[Sequence[UsageEvent]], None]


class FakeSink:
    def __init__(self, name: str = "fake", max_batch: int = 10, script: Script | None = None):
        self.name = name
        self.max_batch = max_batch
        self.batches: list[list[str]] = []
        self.delivered: set[str] = set()
        self.script = script

    def deliver(self, events: Sequence[UsageEvent]) -> None:
        self.batches.append([e.id for e in events])
        if self.script is not None:
            self.script(events)
        self.delivered.update(e.id for e in events)

    def close(self) -> None:
        pass


def dispatcher(outbox: MemoryOutbox, *sinks: FakeSink, **kwargs: object) -> Dispatcher:
    kwargs.setdefault("backoff", Backoff(base_s=1.0, cap_s=60.0, uniform=lambda: 0.5))
    return Dispatcher(outbox, sinks, **kwargs)  # type: ignore[arg-type]


def test_events_are_delivered_in_batches_of_the_sinks_size_and_acked() -> None:
    outbox, sink = MemoryOutbox(), FakeSink(max_batch=10)
    outbox.add_many("fake", usage(25), now_ms=0)
    d = dispatcher(outbox, sink)
    assert d.run_once(now_ms=0) == 25
    assert [len(b) for b in sink.batches] == [10, 10, 5]
    status = d.status("fake")
    assert (status.delivered, status.lag_events, status.retried) == (25, 0, 0)


def test_retry_later_schedules_the_batch_with_backoff_honouring_retry_after() -> None:
    calls = {"n": 0}

    def flaky(events: Sequence[UsageEvent]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RetryLater("429 too many requests", after_s=30.0)

    outbox, sink = MemoryOutbox(), FakeSink(script=flaky)
    outbox.add_many("fake", usage(3), now_ms=0)
    d = dispatcher(outbox, sink)
    assert d.run_once(now_ms=0) == 0
    assert d.status("fake").retried == 3
    assert d.status("fake").last_error == "429 too many requests"
    assert d.run_once(now_ms=29_999) == 0  # Retry-After is a floor
    assert d.run_once(now_ms=30_000) == 3
    assert len(sink.delivered) == 3


def test_messages_are_dead_lettered_after_max_attempts() -> None:
    def down(events: Sequence[UsageEvent]) -> None:
        raise RetryLater("503")

    outbox, sink = MemoryOutbox(), FakeSink(script=down)
    outbox.add_many("fake", usage(2), now_ms=0)
    d = dispatcher(outbox, sink, max_attempts=3)
    now = 0
    for _ in range(3):
        d.run_once(now_ms=now)
        now += 3_600_000
    status = d.status("fake")
    assert status.dead_lettered == 2 and status.retried == 4
    assert len(outbox.dead("fake")) == 2
    assert "gave up after 3 attempts" in (status.last_error or "")


def test_a_permanent_failure_dead_letters_only_the_bad_events_and_delivers_the_rest() -> None:
    def picky(events: Sequence[UsageEvent]) -> None:
        bad = [e.id for e in events if e.id.endswith("3")]
        if bad:
            raise PermanentFailure("invalid mapping", bad)

    outbox, sink = MemoryOutbox(), FakeSink(script=picky)
    outbox.add_many("fake", usage(10), now_ms=0)
    d = dispatcher(outbox, sink)
    d.run_once(now_ms=0)
    assert [m.event.id for m, _ in outbox.dead("fake")] == ["ev_000003"]
    assert len(sink.delivered) == 9 and "ev_000003" not in sink.delivered
    assert d.status("fake").delivered == 9 and d.status("fake").dead_lettered == 1


def test_a_permanent_failure_with_others_delivered_acks_them_without_resending() -> None:
    def partial(events: Sequence[UsageEvent]) -> None:
        raise PermanentFailure("422", [events[0].id], others_delivered=True)

    outbox, sink = MemoryOutbox(), FakeSink(script=partial)
    outbox.add_many("fake", usage(4), now_ms=0)
    d = dispatcher(outbox, sink)
    d.run_once(now_ms=0)
    assert len(sink.batches) == 1
    assert outbox.backlog("fake").events == 0
    assert d.status("fake").delivered == 3


def test_an_unexpected_exception_is_retried_not_lost() -> None:
    def buggy(events: Sequence[UsageEvent]) -> None:
        raise KeyError("surprise")

    outbox, sink = MemoryOutbox(), FakeSink(script=buggy)
    outbox.add_many("fake", usage(2), now_ms=0)
    d = dispatcher(outbox, sink)
    d.run_once(now_ms=0)
    assert outbox.backlog("fake").events == 2
    assert "KeyError" in (d.status("fake").last_error or "")


def test_lag_reports_the_backlog_and_the_age_of_its_oldest_message() -> None:
    def down(events: Sequence[UsageEvent]) -> None:
        raise RetryLater("503")

    outbox, sink = MemoryOutbox(), FakeSink(script=down)
    outbox.add_many("fake", usage(4), now_ms=1_000)
    d = dispatcher(outbox, sink)
    d.run_once(now_ms=6_000)
    status = d.status("fake")
    assert status.lag_events == 4 and status.lag_seconds == 5.0


def test_metrics_go_to_the_registry_passed_in() -> None:
    registry = CollectorRegistry()
    outbox, sink = MemoryOutbox(), FakeSink()
    outbox.add_many("fake", usage(7), now_ms=0)
    dispatcher(outbox, sink, registry=registry).run_once(now_ms=0)
    text = generate_latest(registry).decode()
    assert 'spendgate_sink_delivered_total{sink="fake"} 7.0' in text
    assert 'spendgate_sink_lag_events{sink="fake"} 0.0' in text


def test_two_dispatchers_with_their_own_registries_do_not_collide() -> None:
    dispatcher(MemoryOutbox(), FakeSink())
    dispatcher(MemoryOutbox(), FakeSink())


def test_one_failing_sink_does_not_stop_another() -> None:
    def down(events: Sequence[UsageEvent]) -> None:
        raise RetryLater("503")

    outbox = MemoryOutbox()
    bad, good = FakeSink("bad", script=down), FakeSink("good")
    outbox.add_many("bad", usage(3), now_ms=0)
    outbox.add_many("good", usage(3), now_ms=0)
    dispatcher(outbox, bad, good).run_once(now_ms=0)
    assert len(good.delivered) == 3 and outbox.backlog("bad").events == 3


def test_run_forever_delivers_in_the_background_and_stops_on_request() -> None:
    outbox, sink = MemoryOutbox(), FakeSink()
    outbox.add_many("fake", usage(30), now_ms=0)
    d = dispatcher(outbox, sink, idle_s=0.01)
    stop = threading.Event()
    worker = threading.Thread(target=d.run_forever, args=(stop,))
    worker.start()
    for _ in range(200):
        if outbox.backlog("fake").events == 0:
            break
        stop.wait(0.01)
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(sink.delivered) == 30


def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Dispatcher(MemoryOutbox(), [], max_attempts=0)


def test_a_vendor_that_says_not_now_is_left_alone_until_then() -> None:
    calls = {"n": 0}

    def rate_limited(events: Sequence[UsageEvent]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RetryLater("429", after_s=30.0)

    outbox, sink = MemoryOutbox(), FakeSink(max_batch=10, script=rate_limited)
    outbox.add_many("fake", usage(50), now_ms=0)
    d = dispatcher(outbox, sink)
    assert d.run_once(now_ms=0) == 0
    assert len(sink.batches) == 1  # not one failing call per batch
    assert d.run_once(now_ms=10_000) == 0 and len(sink.batches) == 1
    assert d.run_once(now_ms=30_000) == 50

