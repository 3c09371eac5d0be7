"""Local stand-ins for the billing vendors' ingest APIs, faithful to their published
contracts, with seeded fault injection. Run one with
`python -m spendgate.sinks.stubs flexprice|metronome|lago --port N`, or in-process:

    with FlexpriceStub(api_key="k").serve() as base_url: ...
"""

from __future__ import annotations

from spendgate.sinks.stubs._server import FAULT_KINDS, Faults, Reply, VendorStub
from spendgate.sinks.stubs.flexprice import FlexpriceStub
from spendgate.sinks.stubs.lago import LagoStub
from spendgate.sinks.stubs.metronome import MetronomeStub

STUBS: dict[str, type[VendorStub]] = {
    "flexprice": FlexpriceStub,
    "metronome": MetronomeStub,
    "lago": LagoStub,
}

__all__ = [
    "FAULT_KINDS",
    "STUBS",
    "Faults",
    "FlexpriceStub",
    "LagoStub",
    "MetronomeStub",
    "Reply",
    "VendorStub",
]
