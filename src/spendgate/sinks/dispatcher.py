"""The delivery worker: drains the outbox of each sink, in the sink's batch size.

Success acks; RetryLater schedules the batch again with backoff (honouring Retry-After);
after `max_attempts` a message is dead-lettered; PermanentFailure dead-letters only the
events it names. It runs in its own worker (`spendgate sinks run`), never on a request path.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from spendgate.domain.clock import Clock, SystemClock
from spendgate.sinks.backoff import Backoff
from spendgate.sinks.port import Outbox, OutboxMessage, PermanentFailure, RetryLater, Sink

log = logging.getLogger("spendgate.sinks")

DEFAULT_MAX_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class SinkStatus:
    """GET /v1/sinks/{name}/status."""

    lag_events: int
    lag_seconds: float
    delivered: int
    retried: int
    dead_lettered: int
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lag_events": self.lag_events,
            "lag_seconds": self.lag_seconds,
            "delivered": self.delivered,
            "retried": self.retried,
            "dead_lettered": self.dead_lettered,
            "last_error": self.last_error,
        }


@dataclass(slots=True)
class _Tally:
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    last_error: str | None = None
    lag_events: int = 0
    lag_seconds: float = 0.0


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.delivered = Counter(
            "spendgate_sink_delivered", "Events delivered to a sink", ["sink"], registry=registry
        )
        self.retried = Counter(
            "spendgate_sink_retried", "Event deliveries scheduled again", ["sink"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "spendgate_sink_dead_lettered", "Events given up on", ["sink"], registry=registry
        )
        self.lag_events = Gauge(
            "spendgate_sink_lag_events", "Events not yet delivered", ["sink"], registry=registry
        )
        self.lag_seconds = Gauge(
            "spendgate_sink_lag_seconds", "Age of the oldest undelivered event", ["sink"],
            registry=registry,
        )
        self.call_seconds = Histogram(
            "spendgate_sink_call_seconds", "Duration of one delivery call", ["sink"],
            registry=registry,
        )


class Dispatcher:
    """Drains `outbox` into `sinks`. Pass a Prometheus registry to export metrics there."""

    def __init__(
        self,
        outbox: Outbox,
        sinks: Iterable[Sink],
        *,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        registry: CollectorRegistry | None = None,
        max_batches_per_run: int = 100,
        idle_s: float = 0.5,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._outbox = outbox
        self._sinks: dict[str, Sink] = {}
        self._tallies: dict[str, _Tally] = {}
        # A vendor that said "not now" (5xx, 429, timeout) is left alone until then, so an
        # outage or a rate limit costs one call per backoff, not one call per batch.
        self._paused_until: dict[str, int] = {}
        self._clock = clock or SystemClock()
        self._backoff = backoff or Backoff()
        self._max_attempts = max_attempts
        self._metrics = _Metrics(registry if registry is not None else CollectorRegistry())
        self._max_batches = max_batches_per_run
        self._idle_s = idle_s
        self._lock = threading.Lock()
        for sink in sinks:
            self.add_sink(sink)

    def add_sink(self, sink: Sink) -> None:
        with self._lock:
            self._sinks[sink.name] = sink
            self._tallies.setdefault(sink.name, _Tally())

    def sink_names(self) -> list[str]:
        with self._lock:
            return list(self._sinks)

    def remove_sink(self, name: str) -> Sink | None:
        with self._lock:
            return self._sinks.pop(name, None)

    def status(self, name: str) -> SinkStatus:
        with self._lock:
            t = self._tallies.get(name) or _Tally()
            return SinkStatus(
                t.lag_events, t.lag_seconds, t.delivered, t.retried, t.dead_lettered, t.last_error
            )

    def run_once(self, now_ms: int | None = None) -> int:
        """Drain every sink of what is due at `now_ms`; return how many messages settled."""
        with self._lock:
            names = list(self._sinks)
        return sum(self.drain(name, now_ms) for name in names)

    def drain(self, name: str, now_ms: int | None = None) -> int:
        """Deliver what is due for one sink, batch after batch, up to max_batches_per_run."""
        with self._lock:
            sink = self._sinks.get(name)
        if sink is None:
            return 0
        settled = 0
        for _ in range(self._max_batches):
            now = self._clock.now_ms() if now_ms is None else now_ms
            if now < self._paused_until.get(name, 0):
                break
            batch = self._outbox.claim(name, sink.max_batch, now)
            if not batch:
                break
            settled += self._deliver(sink, batch, now)
        self._update_lag(name, self._clock.now_ms() if now_ms is None else now_ms)
        return settled

    def run_forever(self, stop_event: threading.Event) -> None:
        """One worker thread per sink, so a slow vendor never holds up another."""
        workers: dict[str, threading.Thread] = {}
        while not stop_event.is_set():
            with self._lock:
                names = list(self._sinks)
            for name in names:
                worker = workers.get(name)
                if worker is None or not worker.is_alive():
                    worker = threading.Thread(
                        target=self._loop, args=(name, stop_event), name=f"sink-{name}",
                        daemon=True,
                    )
                    workers[name] = worker
                    worker.start()
            stop_event.wait(self._idle_s)
        for worker in workers.values():
            worker.join()

    def _loop(self, name: str, stop_event: threading.Event) -> None:
        while not stop_event.is_set():
            with self._lock:
                if name not in self._sinks:
                    return
            try:
                settled = self.drain(name)
            except Exception:  # the store may be briefly unreachable: keep the worker alive
                log.exception("sink %s: drain failed", name)
                settled = 0
            if settled == 0:
                stop_event.wait(self._idle_s)

    def _deliver(self, sink: Sink, batch: Sequence[OutboxMessage], now_ms: int) -> int:
        pending = list(batch)
        settled = 0
        while pending:
            started = time.perf_counter()
            try:
                sink.deliver([m.event for m in pending])
            except RetryLater as exc:
                self._observe(sink.name, started)
                return settled + self._retry(sink.name, pending, now_ms, exc.reason, exc.after_s)
            except PermanentFailure as exc:
                self._observe(sink.name, started)
                bad_ids = set(exc.event_ids)
                bad = [m for m in pending if m.event.id in bad_ids]
                rest = [m for m in pending if m.event.id not in bad_ids]
                if not bad:  # names nothing we sent: do not trust it, try again later
                    return settled + self._retry(sink.name, pending, now_ms, exc.reason, None)
                self._dead_letter(sink.name, bad, exc.reason)
                settled += len(bad)
                if exc.others_delivered:
                    self._ack(sink.name, rest)
                    return settled + len(rest)
                pending = rest  # their fate is unknown: deliver them again now (idempotent)
                continue
            except Exception as exc:  # an SDK bug is treated as transient and reported
                self._observe(sink.name, started)
                log.exception("sink %s: unexpected error", sink.name)
                reason = f"unexpected {type(exc).__name__}: {exc}"
                return settled + self._retry(sink.name, pending, now_ms, reason, None)
            self._observe(sink.name, started)
            self._ack(sink.name, pending)
            return settled + len(pending)
        return settled

    def _ack(self, name: str, messages: Sequence[OutboxMessage]) -> None:
        if not messages:
            return
        self._outbox.ack(name, [m.seq for m in messages])
        with self._lock:
            self._tallies[name].delivered += len(messages)
        self._metrics.delivered.labels(name).inc(len(messages))

    def _retry(
        self,
        name: str,
        messages: Sequence[OutboxMessage],
        now_ms: int,
        reason: str,
        after_s: float | None,
    ) -> int:
        exhausted = [m for m in messages if m.attempts + 1 >= self._max_attempts]
        if exhausted:
            self._dead_letter(
                name, exhausted, f"gave up after {self._max_attempts} attempts: {reason}"
            )
        by_attempt: dict[int, list[int]] = {}
        for m in messages:
            if m.attempts + 1 < self._max_attempts:
                by_attempt.setdefault(m.attempts, []).append(m.seq)
        earliest: int | None = None
        for attempts, seqs in by_attempt.items():
            due = now_ms + self._backoff.delay_ms(attempts, after_s)
            self._outbox.retry(name, seqs, due, reason)
            earliest = due if earliest is None else min(earliest, due)
        with self._lock:
            self._paused_until[name] = earliest if earliest is not None else now_ms
        retried = len(messages) - len(exhausted)
        if retried:
            with self._lock:
                tally = self._tallies[name]
                tally.retried += retried
                tally.last_error = reason
            self._metrics.retried.labels(name).inc(retried)
            log.warning("sink %s: %d events to retry: %s", name, retried, reason)
        return len(exhausted)

    def _dead_letter(self, name: str, messages: Sequence[OutboxMessage], reason: str) -> None:
        self._outbox.dead_letter(name, [m.seq for m in messages], reason)
        with self._lock:
            tally = self._tallies[name]
            tally.dead_lettered += len(messages)
            tally.last_error = reason
        self._metrics.dead_lettered.labels(name).inc(len(messages))
        log.error("sink %s: %d events dead-lettered: %s", name, len(messages), reason)

    def _update_lag(self, name: str, now_ms: int) -> None:
        backlog = self._outbox.backlog(name)
        seconds = 0.0
        if backlog.oldest_enqueued_ms is not None:
            seconds = max(0, now_ms - backlog.oldest_enqueued_ms) / 1000
        with self._lock:
            tally = self._tallies[name]
            tally.lag_events = backlog.events
            tally.lag_seconds = seconds
        self._metrics.lag_events.labels(name).set(backlog.events)
        self._metrics.lag_seconds.labels(name).set(seconds)

    def _observe(self, name: str, started: float) -> None:
        self._metrics.call_seconds.labels(name).observe(time.perf_counter() - started)


__all__ = ["DEFAULT_MAX_ATTEMPTS", "Dispatcher", "SinkStatus"]
