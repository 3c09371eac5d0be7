"""From a SinkConfig to a working Sink."""

from __future__ import annotations

from collections.abc import Iterable

from spendgate.domain.clock import Clock
from spendgate.sinks.config import SinkConfig
from spendgate.sinks.port import Sink


def build_sink(config: SinkConfig, *, clock: Clock | None = None) -> Sink:
    """The adapter for `config.type`. The SDKs are imported only when a sink needs them."""
    if config.type == "flexprice":
        from spendgate.sinks.flexprice import FlexpriceSink

        return FlexpriceSink(config)
    if config.type == "metronome":
        from spendgate.sinks.metronome import MetronomeSink

        return MetronomeSink(config, clock=clock)
    if config.type == "lago":
        from spendgate.sinks.lago import LagoSink

        return LagoSink(config)
    if config.type == "nats":
        from spendgate.sinks.nats import NatsSink

        return NatsSink(config)
    raise ValueError(f"unknown sink type {config.type!r}")


def build_sinks(configs: Iterable[SinkConfig], *, clock: Clock | None = None) -> list[Sink]:
    """Adapters for the enabled sinks only: a disabled sink keeps its outbox rows waiting."""
    return [build_sink(config, clock=clock) for config in configs if config.enabled]


__all__ = ["build_sink", "build_sinks"]
