from __future__ import annotations

from spendgate.sinks.memory_outbox import MemoryOutbox
from tests.unit.sinks.factories import usage


def test_claim_returns_due_messages_in_order_and_leases_them() -> None:
    outbox = MemoryOutbox(lease_ms=1000)
    seqs = outbox.add_many("s", usage(5), now_ms=0)
    first = outbox.claim("s", 3, now_ms=0)
    assert [m.seq for m in first] == seqs[:3]
    assert [m.seq for m in outbox.claim("s", 10, now_ms=10)] == seqs[3:]
    assert outbox.claim("s", 10, now_ms=20) == []
    assert [m.seq for m in outbox.claim("s", 10, now_ms=1010)] == seqs  # leases expired


def test_retry_counts_an_attempt_and_delays_the_message() -> None:
    outbox = MemoryOutbox()
    (seq,) = outbox.add_many("s", usage(1), now_ms=0)
    outbox.claim("s", 1, now_ms=0)
    outbox.retry("s", [seq], next_attempt_ms=500, error="503")
    assert outbox.claim("s", 1, now_ms=499) == []
    (again,) = outbox.claim("s", 1, now_ms=500)
    assert again.attempts == 1


def test_ack_and_dead_letter_remove_from_the_backlog_and_redrive_restores() -> None:
    outbox = MemoryOutbox()
    a, b = outbox.add_many("s", usage(2), now_ms=100)
    assert outbox.backlog("s").events == 2 and outbox.backlog("s").oldest_enqueued_ms == 100
    outbox.ack("s", [a])
    outbox.dead_letter("s", [b], "bad event")
    assert outbox.backlog("s").events == 0
    assert [(m.seq, err) for m, err in outbox.dead("s")] == [(b, "bad event")]
    assert outbox.redrive("s", now_ms=200) == 1
    (back,) = outbox.claim("s", 5, now_ms=200)
    assert back.seq == b and back.attempts == 0


def test_sinks_have_separate_queues() -> None:
    outbox = MemoryOutbox()
    outbox.add_many("one", usage(2), now_ms=0)
    outbox.add_many("two", usage(3), now_ms=0)
    assert len(outbox.claim("one", 10, 0)) == 2
    assert len(outbox.claim("two", 10, 0)) == 3
