"""Retries against a flaky server (httpx.MockTransport): safe repeats only, one effect."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import httpx
import pytest

from spendgate.client import (
    AsyncGate,
    ConnectionFailed,
    Gate,
    InternalServerError,
    InvalidRequestError,
    RateLimitedError,
    RetryPolicy,
)
from spendgate.client.retry import Failure


class FlakyLedger:
    """A server that fails the first `failures` attempts, then applies each key once."""

    def __init__(self, failures: int, *, status: int = 503, retry_after: str | None = None,
                 error_type: str = "internal") -> None:
        self.failures = failures
        self.status = status
        self.retry_after = retry_after
        self.error_type = error_type
        self.attempts: list[httpx.Request] = []
        self.effects: dict[str, dict[str, object]] = {}  # by Idempotency-Key (or a counter)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(request)
        if len(self.attempts) <= self.failures:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return httpx.Response(self.status, headers=headers, json={"error": {
                "type": self.error_type, "code": "store_unavailable",
                "message": "try again", "param": None}})
        key = request.headers.get("Idempotency-Key") or f"nokey-{len(self.attempts)}"
        replayed = key in self.effects
        if not replayed:
            body = json.loads(request.content) if request.content else {}
            self.effects[key] = {"id": f"grant_{len(self.effects) + 1}",
                                 "amount": body.get("amount"), "remaining": body.get("amount")}
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return httpx.Response(201, headers=headers, json=self.effects[key])


def gate_over(server: FlakyLedger, sleeps: list[float], **kwargs: object) -> Gate:
    return Gate("http://spendgate.test", "sk_test_x", transport=httpx.MockTransport(server),
                sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]


def test_a_flaky_server_failing_twice_then_answering_applies_the_call_once() -> None:
    server, sleeps = FlakyLedger(failures=2), []
    with gate_over(server, sleeps) as gate:
        grant = gate.add_grant("acme", "100")
    assert grant.amount == "100"
    assert len(server.attempts) == 3
    keys = {r.headers["Idempotency-Key"] for r in server.attempts}
    assert len(keys) == 1  # the same key on every attempt
    assert len(server.effects) == 1
    assert len(sleeps) == 2


def test_retry_after_on_503_is_honoured_instead_of_the_backoff() -> None:
    server, sleeps = FlakyLedger(failures=2, retry_after="3"), []
    with gate_over(server, sleeps) as gate:
        gate.add_grant("acme", "5")
    assert sleeps == [3.0, 3.0]


def test_retry_after_on_429_is_honoured_even_for_a_call_without_a_key() -> None:
    server, sleeps = FlakyLedger(failures=1, status=429, retry_after="2",
                                 error_type="rate_limited"), []
    with gate_over(server, sleeps, auto_idempotency=False) as gate:
        gate.add_grant("acme", "5")
    assert sleeps == [2.0]
    assert "Idempotency-Key" not in server.attempts[0].headers


def test_a_call_without_an_idempotency_key_is_not_retried_after_a_503() -> None:
    server, sleeps = FlakyLedger(failures=1), []
    with gate_over(server, sleeps, auto_idempotency=False) as gate, \
            pytest.raises(InternalServerError) as caught:
        gate.add_grant("acme", "5")
    assert len(server.attempts) == 1
    assert sleeps == []
    assert caught.value.status == 503
    assert caught.value.code == "store_unavailable"


def test_a_lost_answer_to_a_call_without_a_key_is_not_retried() -> None:
    attempts: list[httpx.Request] = []

    def reset(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ReadError("connection reset", request=request)

    gate = Gate("http://spendgate.test", transport=httpx.MockTransport(reset),
                auto_idempotency=False, sleep=lambda s: None)
    with pytest.raises(ConnectionFailed):
        gate.add_grant("acme", "5")
    assert len(attempts) == 1


def test_a_refused_connection_is_retried_even_without_a_key_because_nothing_was_sent() -> None:
    attempts: list[httpx.Request] = []

    def refuse_once(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json={"id": "grant_1", "amount": "5"})

    gate = Gate("http://spendgate.test", transport=httpx.MockTransport(refuse_once),
                auto_idempotency=False, sleep=lambda s: None)
    assert gate.add_grant("acme", "5").id == "grant_1"
    assert len(attempts) == 2


def test_reads_are_retried_and_a_request_error_is_not() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/balance") and len(calls) == 1:
            return httpx.Response(502, text="bad gateway")
        if request.url.path.endswith("/grants"):
            return httpx.Response(422, json={"error": {"type": "invalid_request",
                                                       "code": "invalid_amount",
                                                       "message": "amount must be plain",
                                                       "param": "amount"}})
        return httpx.Response(200, json={"granted": "10.000000000", "spent": "0",
                                         "held": "0", "available": "10.000000000",
                                         "overdraft_limit": "0"})

    gate = Gate("http://spendgate.test", transport=httpx.MockTransport(handler),
                sleep=lambda s: None)
    assert gate.balance("acme").available == "10.000000000"
    assert len(calls) == 2
    with pytest.raises(InvalidRequestError) as caught:
        gate.add_grant("acme", "1e3")
    assert caught.value.param == "amount" and caught.value.status == 422
    assert len(calls) == 3


def test_retries_stop_after_max_attempts_with_the_last_error() -> None:
    server, sleeps = FlakyLedger(failures=10, status=429, retry_after="1",
                                 error_type="rate_limited"), []
    with gate_over(server, sleeps, retry=RetryPolicy(max_attempts=3)) as gate, \
            pytest.raises(RateLimitedError) as caught:
        gate.add_grant("acme", "5")
    assert len(server.attempts) == 3
    assert caught.value.retry_after_s == Decimal(1)


def test_backoff_grows_exponentially_with_bounded_jitter_and_a_cap() -> None:
    policy = RetryPolicy(initial_delay_s=0.2, multiplier=2.0, max_delay_s=1.0, jitter=0.5)
    for attempt, base in ((1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (9, 1.0)):
        delays = [policy.delay_s(attempt) for _ in range(200)]
        assert all(base / 2 <= d <= base for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert policy.delay_s(1, Decimal("7")) == 7.0
    assert policy.delay_s(1, Decimal("3600")) == policy.max_retry_after_s


def test_which_failures_are_retried() -> None:
    policy = RetryPolicy(max_attempts=4)
    assert policy.should_retry(1, Failure.NOT_SENT, idempotent=False)
    assert not policy.should_retry(1, Failure.NO_ANSWER, idempotent=False)
    assert policy.should_retry(1, Failure.NO_ANSWER, idempotent=True)
    assert policy.should_retry(1, Failure.STATUS, idempotent=True, status=503)
    assert not policy.should_retry(1, Failure.STATUS, idempotent=False, status=503)
    assert not policy.should_retry(1, Failure.STATUS, idempotent=True, status=409)
    assert not policy.should_retry(4, Failure.STATUS, idempotent=True, status=503)


def test_the_async_gate_retries_a_flaky_server_with_one_key_and_one_effect() -> None:
    server = FlakyLedger(failures=2, retry_after="1")
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async def run() -> str:
        async with AsyncGate("http://spendgate.test", "sk_test_x",
                             transport=httpx.MockTransport(server), sleep=record) as gate:
            first = await gate.add_grant("acme", "100", idempotency_key="topup-42")
            again = await gate.add_grant("acme", "100", idempotency_key="topup-42")
            assert again.replayed and not first.replayed
            return first.id

    assert asyncio.run(run()) == "grant_1"
    assert len(server.effects) == 1
    assert {r.headers["Idempotency-Key"] for r in server.attempts} == {"topup-42"}
    assert sleeps == [1.0, 1.0]
