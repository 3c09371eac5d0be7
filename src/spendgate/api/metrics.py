"""Prometheus metrics of one app, in a registry of its own (never the global one).

Request counts and latencies by route template and status; reservation decisions by outcome
and refusing level; holds outstanding and expirations read from the store at scrape time, so
every replica reports the same truth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from spendgate.domain.reservations import Reservation
from spendgate.stores.port import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

log = logging.getLogger("spendgate.api")


class Metrics:
    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("spendgate_http_requests", "HTTP requests answered",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("spendgate_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ("method", "route"),
                                 buckets=_BUCKETS, registry=self.registry)
        self.decisions = Counter("spendgate_reservation_decisions",
                                 "Reservation decisions by outcome and refusing level",
                                 ("outcome", "level"), registry=self.registry)
        if store is not None:
            self.registry.register(_StoreGauges(store))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_decision(self, res: Reservation) -> None:
        level = "none"
        for item in res.items:
            if item.denied_by is not None:
                level = item.denied_by.level.value
                break
        self.decisions.labels(res.status.value, level).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StoreGauges(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            with self.store.read() as tx:
                outstanding = tx.one("SELECT COUNT(*) FROM reservations "
                                     "WHERE hold_expires_ms IS NOT NULL")[0]
                expired = tx.one("SELECT COUNT(*) FROM reservations WHERE status='expired'")[0]
        except Exception:  # a scrape must not fail because the store is down: /readyz says so
            log.warning("metrics: the store could not be read")
            return
        yield GaugeMetricFamily("spendgate_holds_outstanding",
                                "Reservations holding credits right now", value=int(outstanding))
        yield CounterMetricFamily("spendgate_reservations_expired",
                                  "Reservations whose hold expired", value=int(expired))

    def describe(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        return iter(())
