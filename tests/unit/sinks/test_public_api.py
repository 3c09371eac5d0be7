from __future__ import annotations

import spendgate.sinks
import spendgate.sinks.stubs


def test_the_sinks_package_exports_exactly_its_public_names() -> None:
    assert sorted(spendgate.sinks.__all__) == sorted([
        "DEFAULT_MAX_ATTEMPTS", "SINK_TYPES", "VENDOR_MAX_BATCH", "Backlog", "Backoff",
        "Dispatcher", "InvalidMapping", "MemoryOutbox", "Outbox", "OutboxMessage",
        "PermanentFailure", "RetryLater", "Secret", "Sink", "SinkConfig", "SinkError",
        "SinkStatus", "build_sink", "build_sinks", "parse_retry_after", "retry_after_from_headers",
    ])
    for name in spendgate.sinks.__all__:
        assert hasattr(spendgate.sinks, name)


def test_the_stubs_package_exports_exactly_its_public_names() -> None:
    assert sorted(spendgate.sinks.stubs.__all__) == sorted([
        "FAULT_KINDS", "STUBS", "Faults", "FlexpriceStub", "LagoStub", "MetronomeStub",
        "Reply", "VendorStub",
    ])


def test_vendor_batch_limits_are_the_documented_ones() -> None:
    assert dict(spendgate.sinks.VENDOR_MAX_BATCH) == {
        "flexprice": 1000, "metronome": 100, "lago": 100, "nats": 1000,
    }
