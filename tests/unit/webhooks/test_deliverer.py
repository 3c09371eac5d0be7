from __future__ import annotations

import random
import time

import httpx
from standardwebhooks.webhooks import Webhook

from spendgate.domain.clock import ManualClock
from spendgate.webhooks import verify_standard
from spendgate.webhooks.outbound import (
    Deliverer,
    DeliveryStatus,
    Endpoint,
    InMemoryDeliveryLog,
    RetrySchedule,
    fan_out,
    org_reinstated,
    send_ping,
)

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ENDPOINT = Endpoint("we_1", "t1", "live", "http://receiver.test/hooks",
                    frozenset({"*"}), (SECRET,))


def setup(statuses: list[int]) -> tuple[InMemoryDeliveryLog, Deliverer, ManualClock,
                                        list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(statuses.pop(0) if statuses else 200)

    clock, log = ManualClock(), InMemoryDeliveryLog()
    client = httpx.Client(transport=httpx.MockTransport(answer))
    event = org_reinstated(org="acme", ref="invoice:1", now_ms=clock.now_ms())
    log.add(fan_out(event, [ENDPOINT], now_ms=clock.now_ms()))
    deliverer = Deliverer(log, client, clock, rng=random.Random(1),
                          schedule=RetrySchedule.of([1000, 2000], jitter_permille=0))
    return log, deliverer, clock, seen


def test_a_2xx_marks_the_delivery_done_with_one_attempt_logged() -> None:
    log, deliverer, _, seen = setup([204])
    assert deliverer.run_once().succeeded == 1
    [delivery] = log.all()
    assert delivery.status is DeliveryStatus.SUCCEEDED
    [attempt] = log.attempts(delivery.id)
    assert (attempt.number, attempt.response_code, attempt.error) == (1, 204, None)
    assert deliverer.run_once().attempted == 0
    assert seen[0].headers["webhook-id"] == delivery.event_id
    assert seen[0].headers["content-type"] == "application/json"


def test_a_failure_is_retried_on_schedule_and_logged() -> None:
    log, deliverer, clock, seen = setup([500, 503, 200])
    assert deliverer.run_once().retrying == 1
    assert deliverer.run_once().attempted == 0  # not due yet
    clock.advance(1000)
    assert deliverer.run_once().retrying == 1
    clock.advance(2000)
    assert deliverer.run_once().succeeded == 1
    [delivery] = log.all()
    codes = [(a.response_code, a.status) for a in log.attempts(delivery.id)]
    assert codes == [(500, DeliveryStatus.PENDING), (503, DeliveryStatus.PENDING),
                     (200, DeliveryStatus.SUCCEEDED)]
    assert len({r.headers["webhook-id"] for r in seen}) == 1


def test_a_delivery_fails_for_good_when_the_schedule_runs_out() -> None:
    log, deliverer, clock, _ = setup([500, 500, 500, 500])
    for step in (0, 1000, 2000):
        clock.advance(step)
        deliverer.run_once()
    [delivery] = log.all()
    assert delivery.status is DeliveryStatus.FAILED
    assert len(log.attempts(delivery.id)) == 3
    assert log.attempts(delivery.id)[-1].next_attempt_ms is None


def test_each_attempt_is_signed_at_its_own_time_so_late_retries_still_verify() -> None:
    _, deliverer, clock, seen = setup([500, 200])
    deliverer.run_once()
    clock.advance(1000)
    deliverer.run_once()
    stamps = [int(r.headers["webhook-timestamp"]) for r in seen]
    assert stamps[1] - stamps[0] == 1
    last = seen[-1]
    assert verify_standard(dict(last.headers), last.content, [SECRET], now_ms=clock.now_ms())


def test_a_redirect_is_a_failure_not_followed() -> None:
    _, deliverer, _, seen = setup([301])
    assert deliverer.run_once().retrying == 1
    assert len(seen) == 1


def test_a_ping_is_signed_and_sent_once() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    now_ms = time.time_ns() // 1_000_000
    client = httpx.Client(transport=httpx.MockTransport(answer))
    result = send_ping(client, ENDPOINT, now_ms=now_ms)
    assert result.ok and result.response_code == 200
    payload = Webhook(SECRET).verify(seen[0].content, dict(seen[0].headers))
    assert payload["type"] == "webhook.ping"
    assert payload["data"] == {"endpoint_id": "we_1"}


def test_a_connection_error_is_recorded_and_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    clock, log = ManualClock(), InMemoryDeliveryLog()
    event = org_reinstated(org="acme", ref=None, now_ms=clock.now_ms())
    log.add(fan_out(event, [ENDPOINT], now_ms=clock.now_ms()))
    deliverer = Deliverer(log, httpx.Client(transport=httpx.MockTransport(refuse)), clock)
    assert deliverer.run_once().retrying == 1
    [delivery] = log.all()
    [attempt] = log.attempts(delivery.id)
    assert attempt.response_code is None and "ConnectError" in (attempt.error or "")
