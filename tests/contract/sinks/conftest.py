from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from spendgate.sinks.stubs import FlexpriceStub, LagoStub, MetronomeStub, VendorStub

KEY = "test-key"


class Running:
    """A stub serving on 127.0.0.1 plus a raw HTTP client for rule-by-rule checks."""

    def __init__(self, stub: VendorStub, url: str) -> None:
        self.stub = stub
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=5)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(path, json=body, headers=headers or {})


def _run(stub: VendorStub) -> Iterator[Running]:
    with stub.serve() as url:
        running = Running(stub, url)
        try:
            yield running
        finally:
            running.http.close()


@pytest.fixture
def flexprice() -> Iterator[Running]:
    yield from _run(FlexpriceStub(api_key=KEY))


@pytest.fixture
def metronome() -> Iterator[Running]:
    yield from _run(MetronomeStub(api_key=KEY))


@pytest.fixture
def lago() -> Iterator[Running]:
    yield from _run(LagoStub(api_key=KEY))
