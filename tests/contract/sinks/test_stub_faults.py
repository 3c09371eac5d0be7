"""The stubs' fault injection does what it says, reproducibly, and the adapters read each
fault as a transient failure."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from spendgate.sinks import RetryLater, build_sink
from spendgate.sinks.stubs import Faults, FlexpriceStub, LagoStub, MetronomeStub, VendorStub
from tests.contract.sinks.conftest import KEY
from tests.unit.sinks.factories import config, usage

BODY = {"events": [{"event_id": "e1", "event_name": "tokens", "external_customer_id": "c"}]}
H = {"x-api-key": KEY}


def only(kind: str, **extra: float) -> Faults:
    return Faults(rate=1.0, kinds=(kind,), **extra)  # type: ignore[arg-type]


def test_a_5xx_fault_answers_an_error_and_stores_nothing() -> None:
    stub = FlexpriceStub(api_key=KEY, faults=only("5xx"))
    with stub.serve() as url:
        response = httpx.post(url + "/v1/events/bulk", json=BODY, headers=H)
    assert response.status_code in (500, 502, 503) and stub.accepted() == {}


def test_a_429_fault_carries_retry_after() -> None:
    stub = FlexpriceStub(api_key=KEY, faults=only("429", retry_after_s=3))
    with stub.serve() as url:
        response = httpx.post(url + "/v1/events/bulk", json=BODY, headers=H)
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert stub.accepted() == {}


def test_a_drop_fault_closes_the_connection_before_processing() -> None:
    stub = FlexpriceStub(api_key=KEY, faults=only("drop"))
    with stub.serve() as url, pytest.raises(httpx.TransportError):
        httpx.post(url + "/v1/events/bulk", json=BODY, headers=H)
    assert stub.accepted() == {}


def test_a_drop_after_fault_processes_then_loses_the_answer() -> None:
    stub = FlexpriceStub(api_key=KEY, faults=only("drop_after"))
    with stub.serve() as url, pytest.raises(httpx.TransportError):
        httpx.post(url + "/v1/events/bulk", json=BODY, headers=H)
    assert set(stub.accepted()) == {"e1"}


def test_a_slow_fault_processes_and_answers_late() -> None:
    stub = FlexpriceStub(api_key=KEY, faults=only("slow", slow_s=0.3))
    with stub.serve() as url, pytest.raises(httpx.ReadTimeout):
        httpx.post(url + "/v1/events/bulk", json=BODY, headers=H, timeout=0.1)
    assert set(stub.accepted()) == {"e1"}


def test_faults_are_reproducible_with_the_same_seed() -> None:
    def pattern(seed: int) -> list[int]:
        stub = MetronomeStub(api_key=KEY, faults=Faults(rate=0.5, kinds=("5xx", "429"),
                                                        seed=seed))
        with stub.serve() as url, httpx.Client(base_url=url) as client:
            return [client.post("/v1/ingest", json=[],
                                headers={"Authorization": f"Bearer {KEY}"}).status_code
                    for _ in range(30)]

    first = pattern(42)
    assert first == pattern(42)
    assert len(set(first)) > 1


def test_fault_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        Faults(kinds=("meteor",))
    with pytest.raises(ValueError):
        Faults(rate=1.5)


@pytest.mark.parametrize("vendor", ["flexprice", "metronome", "lago"])
@pytest.mark.parametrize("kind", ["5xx", "429", "drop", "drop_after", "slow"])
def test_every_fault_is_a_retry_later_for_every_adapter(vendor: str, kind: str) -> None:
    stub_type: type[VendorStub] = {"flexprice": FlexpriceStub, "metronome": MetronomeStub,
                                   "lago": LagoStub}[vendor]
    stub = stub_type(api_key=KEY, faults=only(kind, slow_s=0.3, retry_after_s=2))
    with stub.serve() as url:
        sink = build_sink(config(vendor, base_url=url, options={"timeout_ms": 100}))
        try:
            with pytest.raises(RetryLater) as caught:
                sink.deliver(usage(3))
        finally:
            sink.close()
    if kind == "429":
        assert caught.value.after_s == 2.0


def test_the_stub_runs_as_a_module_on_the_port_asked() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "spendgate.sinks.stubs", "lago", "--port", "0",
         "--api-key", "k"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("lago stub listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        response = httpx.post(url + "/api/v1/events/batch", json={"events": []},
                              headers={"Authorization": "Bearer k"})
        assert response.status_code == 422
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0
