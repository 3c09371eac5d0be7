"""Sends due outbound deliveries: sign at attempt time, POST, record, back off on failure."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import httpx

from spendgate.domain.clock import Clock
from spendgate.webhooks.outbound.events import ping
from spendgate.webhooks.outbound.log import DeliveryLog, DeliveryStatus, Endpoint
from spendgate.webhooks.outbound.schedule import RetrySchedule
from spendgate.webhooks.outbound.signing import sign

DEFAULT_TIMEOUT_S = 5.0
USER_AGENT = "Spendgate-Webhooks/1"
_MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class AttemptResult:
    ok: bool
    response_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Round:
    """What one `run_once` did."""

    attempted: int
    succeeded: int
    retrying: int
    failed: int


class Deliverer:
    """Drains a DeliveryLog. Safe to run in several processes when `due` claims rows."""

    def __init__(
        self,
        log: DeliveryLog,
        client: httpx.Client,
        clock: Clock,
        *,
        schedule: RetrySchedule | None = None,
        rng: random.Random | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        batch: int = 100,
    ) -> None:
        self._log = log
        self._client = client
        self._clock = clock
        self._schedule = schedule or RetrySchedule()
        self._rng = rng or random.Random()
        self._timeout_s = timeout_s
        self._batch = batch

    def run_once(self) -> Round:
        """Attempt every delivery due now, once each."""
        succeeded = retrying = failed = 0
        due = self._log.due(self._clock.now_ms(), self._batch)
        for delivery in due:
            result = post(self._client, delivery.url, delivery.event_id, delivery.body,
                          delivery.secrets, now_ms=self._clock.now_ms(), timeout_s=self._timeout_s)
            now = self._clock.now_ms()
            made = delivery.attempts + 1
            if result.ok:
                status, next_ms = DeliveryStatus.SUCCEEDED, None
                succeeded += 1
            else:
                next_ms = self._schedule.next_attempt_ms(made, now, self._rng)
                status = DeliveryStatus.PENDING if next_ms is not None else DeliveryStatus.FAILED
                if next_ms is None:
                    failed += 1
                else:
                    retrying += 1
            self._log.record_attempt(
                delivery.id, status=status, response_code=result.response_code,
                error=result.error, next_attempt_ms=next_ms, attempted_ms=now,
                duration_ms=result.duration_ms,
            )
        return Round(len(due), succeeded, retrying, failed)


def post(
    client: httpx.Client,
    url: str,
    msg_id: str,
    body: bytes,
    secrets: tuple[str, ...],
    *,
    now_ms: int,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> AttemptResult:
    """One signed POST; any 2xx is success, anything else (redirects included) a failure."""
    headers = {
        **sign(secrets, msg_id, now_ms // 1000, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    started = time.monotonic_ns()
    try:
        response = client.post(url, content=body, headers=headers, timeout=timeout_s,
                               follow_redirects=False)
    except httpx.HTTPError as exc:
        return AttemptResult(False, None, f"{type(exc).__name__}: {exc}"[:_MAX_ERROR],
                             _elapsed_ms(started))
    ok = 200 <= response.status_code < 300
    error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
    return AttemptResult(ok, response.status_code, error, _elapsed_ms(started))


def send_ping(client: httpx.Client, endpoint: Endpoint, *, now_ms: int,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> AttemptResult:
    """`spendgate webhooks test ENDPOINT`: one signed `webhook.ping`, not logged, not retried."""
    event = ping(endpoint_id=endpoint.id, now_ms=now_ms)
    return post(client, endpoint.url, event.id, event.body(), endpoint.secrets, now_ms=now_ms,
                timeout_s=timeout_s)


def _elapsed_ms(started_ns: int) -> int:
    return (time.monotonic_ns() - started_ns) // 1_000_000


__all__ = ["DEFAULT_TIMEOUT_S", "AttemptResult", "Deliverer", "Round", "post", "send_ping"]
