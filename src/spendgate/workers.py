"""Background work, off every request path: sink delivery, webhooks in and out, expiry.

`serve` runs these in threads (unless disabled); `spendgate sinks run` runs the sink part
alone, so delivery can live in its own process. Every loop survives its own errors and
picks up configuration changes (new or edited sinks and endpoints) as it goes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from spendgate.domain.clock import Clock, SystemClock
from spendgate.domain.hierarchy import Scope
from spendgate.ledger.engine import Ledger
from spendgate.pricing import CreditValue
from spendgate.sinks import Backoff, Dispatcher, SinkConfig, build_sink
from spendgate.stores.outbox import SqlOutbox
from spendgate.stores.port import Store
from spendgate.stores.sinks import SinkRepository
from spendgate.stores.sql import loads
from spendgate.stores.webhooks import SqlDeliveryLog, SqlInbox
from spendgate.webhooks.actions import SignalActions
from spendgate.webhooks.intake import InboundRecord, process_pending
from spendgate.webhooks.outbound.deliverer import Deliverer

log = logging.getLogger("spendgate.workers")


class SinkWorkers:
    """One dispatcher per tenant environment, rebuilt when its sink configuration changes."""

    def __init__(self, store: Store, clock: Clock | None = None, *,
                 max_attempts: int = 10, backoff: Backoff | None = None,
                 lease_ms: int = 60_000) -> None:
        self.store = store
        self.lease_ms = lease_ms  # must exceed one batch's delivery time (the sink timeout)
        self.clock = clock or SystemClock()
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="spendgate-sink")
        self._dispatchers: dict[Scope, tuple[tuple[SinkConfig, ...], Dispatcher]] = {}

    def refresh(self) -> dict[Scope, Dispatcher]:
        by_scope: dict[Scope, list[SinkConfig]] = {}
        for scope, config in SinkRepository(self.store).everywhere():
            by_scope.setdefault(scope, []).append(config)
        for scope in list(self._dispatchers):
            if scope not in by_scope:
                self._close(scope)
        for scope, configs in by_scope.items():
            known = self._dispatchers.get(scope)
            if known is not None and known[0] == tuple(configs):
                continue
            if known is not None:
                self._close(scope)
            dispatcher = Dispatcher(SqlOutbox(self.store, scope, lease_ms=self.lease_ms),
                                    [build_sink(c, clock=self.clock) for c in configs],
                                    clock=self.clock, max_attempts=self.max_attempts,
                                    backoff=self.backoff)
            self._dispatchers[scope] = (tuple(configs), dispatcher)
        return {s: d for s, (_, d) in self._dispatchers.items()}

    def run_once(self) -> int:
        """Drain every sink once, each on its own thread: a slow vendor holds up no other."""
        jobs = [(d, name) for d in self.refresh().values() for name in d.sink_names()]
        if len(jobs) <= 1:
            return sum(d.drain(name) for d, name in jobs)
        return sum(self._pool.map(lambda job: job[0].drain(job[1]), jobs))

    def dispatcher(self, scope: Scope) -> Dispatcher | None:
        found = self._dispatchers.get(scope)
        return found[1] if found else None

    def _close(self, scope: Scope) -> None:
        configs, dispatcher = self._dispatchers.pop(scope)
        for config in configs:
            sink = dispatcher.remove_sink(config.name)
            if sink is not None:
                sink.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for scope in list(self._dispatchers):
            self._close(scope)


class WebhookWorkers:
    """Inbound deliveries become ledger actions; outbound alerts become signed deliveries."""

    def __init__(self, store: Store, ledger: Ledger, clock: Clock | None = None) -> None:
        self.store = store
        self.ledger = ledger
        self.clock = clock or SystemClock()
        self.inbox = SqlInbox(store)
        self.log = SqlDeliveryLog(store)
        self.client = httpx.Client()
        self.deliverer = Deliverer(self.log, self.client, self.clock)

    def _resolver(self, record: InboundRecord) -> Callable[[str], str | None]:
        config = SinkRepository(self.store).find(Scope(record.tenant, record.env), record.sink)
        reverse = {v: k for k, v in (config.customer_ids if config else {}).items()}
        return lambda customer: reverse.get(customer, customer)

    def _credit_values(self) -> dict[Scope, CreditValue]:
        with self.store.read() as tx:
            rows = tx.all("SELECT tenant, env, doc FROM env_settings")
        out: dict[Scope, CreditValue] = {}
        for tenant, env, doc in rows:
            value = loads(doc).get("credit_value")
            if isinstance(value, dict):
                out[Scope(tenant, env)] = CreditValue(str(value["currency"]),
                                                      Decimal(str(value["amount"])))
        return out

    def run_once(self) -> int:
        now = self.clock.now_ms()
        actions = SignalActions(self.ledger, self.clock, self._credit_values())
        done = process_pending(self.inbox, resolver=self._resolver, apply=actions, now_ms=now)
        done += self.log.fan_out_pending(now)
        done += self.deliverer.run_once().attempted
        return done

    def close(self) -> None:
        self.client.close()


class Workers:
    """All background loops of one process, each in its own thread."""

    def __init__(self, store: Store, ledger: Ledger, *, sinks: bool = True,
                 webhooks: bool = True, sweep: bool = True, interval_s: float = 0.5,
                 registry: CollectorRegistry | None = None,
                 backoff: Backoff | None = None, lease_ms: int = 60_000) -> None:
        self.store = store
        self.ledger = ledger
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.sinks = (SinkWorkers(store, ledger.clock, backoff=backoff, lease_ms=lease_ms)
                      if sinks else None)
        if registry is not None:
            registry.register(SinkMetrics(store, ledger.clock))
        self.webhooks = WebhookWorkers(store, ledger, ledger.clock) if webhooks else None
        self.sweep = sweep

    def start(self) -> None:
        loops: list[tuple[str, Callable[[], object]]] = []
        if self.sinks is not None:
            loops.append(("sinks", self.sinks.run_once))
        if self.webhooks is not None:
            loops.append(("webhooks", self.webhooks.run_once))
        if self.sweep:
            loops.append(("expiry", self.ledger.sweep))
        for name, step in loops:
            thread = threading.Thread(target=self._loop, args=(name, step), daemon=True,
                                      name=f"spendgate-{name}")
            thread.start()
            self._threads.append(thread)

    def _loop(self, name: str, step: Callable[[], object]) -> None:
        while not self._stop.is_set():
            try:
                busy = step()
            except Exception:
                log.exception("background %s step failed; retrying", name)
                busy = 0
            if not busy:
                self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.sinks is not None:
            self.sinks.close()
        if self.webhooks is not None:
            self.webhooks.close()


class SinkMetrics(Collector):
    """Per-sink delivery figures read from the outbox itself, so they survive restarts."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        labels = ["tenant", "env", "sink"]
        lag = GaugeMetricFamily("spendgate_sink_lag_events", "Events not yet delivered",
                                labels=labels)
        lag_s = GaugeMetricFamily("spendgate_sink_lag_seconds",
                                  "Age of the oldest undelivered event", labels=labels)
        delivered = GaugeMetricFamily("spendgate_sink_delivered", "Events delivered",
                                      labels=labels)
        dead = GaugeMetricFamily("spendgate_sink_dead_lettered", "Events dead-lettered",
                                 labels=labels)
        retried = GaugeMetricFamily("spendgate_sink_retried",
                                    "Events that needed more than one attempt", labels=labels)
        now = self.clock.now_ms()
        for scope, config in SinkRepository(self.store).everywhere():
            key = [scope.tenant, scope.env, config.name]
            outbox = SqlOutbox(self.store, scope)
            backlog = outbox.backlog(config.name)
            counts = outbox.counts(config.name)
            lag.add_metric(key, backlog.events)
            oldest = backlog.oldest_enqueued_ms
            lag_s.add_metric(key, 0 if oldest is None else max(0, now - oldest) // 1000)
            delivered.add_metric(key, counts["delivered"])
            dead.add_metric(key, counts["dead"])
            retried.add_metric(key, counts["retried"])
        yield from (lag, lag_s, delivered, dead, retried)


def main(argv: list[str] | None = None) -> int:
    """python -m spendgate.workers --database-url URL [--only sinks|webhooks]"""
    import argparse
    import signal

    from spendgate.stores import open_store

    parser = argparse.ArgumentParser(prog="spendgate-workers", description=main.__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--only", choices=["sinks", "webhooks"], default=None)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--backoff-base", type=float, default=1.0,
                        help="first retry delay in seconds (doubles per attempt)")
    parser.add_argument("--backoff-cap", type=float, default=300.0)
    parser.add_argument("--lease", type=float, default=60.0,
                        help="seconds a claimed batch is hidden from other dispatchers")
    args = parser.parse_args(argv)
    store = open_store(args.database_url)
    ledger = Ledger(store)
    workers = Workers(store, ledger, sinks=args.only in (None, "sinks"),
                      webhooks=args.only in (None, "webhooks"), sweep=args.only is None,
                      interval_s=args.interval,
                      backoff=Backoff(base_s=args.backoff_base, cap_s=args.backoff_cap),
                      lease_ms=int(args.lease * 1000))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    workers.start()
    stop.wait()
    workers.stop()
    ledger.close()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
