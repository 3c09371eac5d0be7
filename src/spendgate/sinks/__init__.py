"""Getting usage out: the outbox dispatcher and the vendor and stream sinks.

The vendor adapters (flexprice, metronome, lago, nats) import their SDKs, so they are
reached through `build_sink` or their own modules, not imported here.
"""

from __future__ import annotations

from spendgate.sinks.adapters import build_sink, build_sinks
from spendgate.sinks.backoff import Backoff, parse_retry_after, retry_after_from_headers
from spendgate.sinks.config import SINK_TYPES, VENDOR_MAX_BATCH, Secret, SinkConfig
from spendgate.sinks.dispatcher import DEFAULT_MAX_ATTEMPTS, Dispatcher, SinkStatus
from spendgate.sinks.memory_outbox import MemoryOutbox
from spendgate.sinks.port import (
    Backlog,
    InvalidMapping,
    Outbox,
    OutboxMessage,
    PermanentFailure,
    RetryLater,
    Sink,
    SinkError,
)

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "SINK_TYPES",
    "VENDOR_MAX_BATCH",
    "Backlog",
    "Backoff",
    "Dispatcher",
    "InvalidMapping",
    "MemoryOutbox",
    "Outbox",
    "OutboxMessage",
    "PermanentFailure",
    "RetryLater",
    "Secret",
    "Sink",
    "SinkConfig",
    "SinkError",
    "SinkStatus",
    "build_sink",
    "build_sinks",
    "parse_retry_after",
    "retry_after_from_headers",
]
