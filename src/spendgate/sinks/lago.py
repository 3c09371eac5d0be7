"""Lago through its official SDK: batch ingest, at most 100 events, all or nothing.

Lago's Postgres store answers a repeated transaction_id with 422
`transaction_id: value_already_exist`, and one bad event rejects the whole batch. So a
422 is read per event: a duplicate means "already delivered" (success), another error
names a bad event, and the rest of the batch is sent again without them.

Transport. `client.events.batch_create` posts with module-level `httpx.post` (a new TCP
connection per call, httpx's 5 s default timeout, not configurable) and, whatever the
client's retry settings, sleeps in line on a 429 (1, 2, 4 s or X-RateLimit-Reset up to
20 s) while ignoring Retry-After. A dispatcher that owns retries cannot use that, so by
default ("pooled") the adapter builds the very same request with the SDK's own pieces
(models, URL and header builders, JSON encoder, response check) and sends it on a pooled
client with the sink's timeout and no hidden retries. `options.transport = "sdk"` calls
`batch_create` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import httpx
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models.event import BatchEvent, Event
from lago_python_client.services.json import to_json
from lago_python_client.services.request import make_headers, make_url
from lago_python_client.services.response import verify_response

from spendgate.metering.events import UsageEvent
from spendgate.sinks._common import is_transient, map_all, unique_events
from spendgate.sinks.backoff import retry_after_from_headers
from spendgate.sinks.config import SinkConfig
from spendgate.sinks.mapping import to_lago
from spendgate.sinks.port import PermanentFailure, RetryLater

DUPLICATE = {"transaction_id": ["value_already_exist"]}


class _Refused(Exception):  # an internal signal
    """A 4xx from Lago: `details` is its error_details (per index for a batch)."""

    def __init__(self, status: int, details: Mapping[str, Any], reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.details = details
        self.reason = reason


class LagoSink:
    kind = "lago"

    def __init__(self, config: SinkConfig, *, http_client: httpx.Client | None = None) -> None:
        if config.api_key is None:
            raise ValueError("a Lago sink needs an api_key")
        self._config = config
        self._client = Client(api_key=config.api_key.reveal(), api_url=config.base_url)
        self._transport = str(config.options.get("transport", "pooled"))
        self._url = make_url(origin=self._client.base_api_url, path_parts=("events", "batch"))
        self._http = http_client or httpx.Client(timeout=config.timeout_s)
        self._owns_http = http_client is None

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def max_batch(self) -> int:
        return self._config.max_batch

    def deliver(self, events: Sequence[UsageEvent]) -> None:
        batch = unique_events(events)
        payloads = map_all(batch, lambda e: to_lago(e, self._config))
        bad: list[str] = []
        reasons: list[str] = []
        work: list[list[int]] = [list(range(len(batch)))] if batch else []
        while work:
            group = work.pop()
            try:
                self._send([payloads[i] for i in group])
            except _Refused as refused:
                retry, failed = _triage(group, refused)
                work.extend(retry)
                for i in failed:
                    bad.append(batch[i].id)
                    reasons.append(f"{batch[i].id}: {refused.reason}")
        if bad:
            raise PermanentFailure(
                "lago rejected: " + "; ".join(reasons[:3]), bad, others_delivered=True
            )

    def _send(self, payloads: list[dict[str, Any]]) -> None:
        body = BatchEvent(events=[Event(**p) for p in payloads])
        try:
            if self._transport == "sdk":
                self._client.events.batch_create(body)
            else:
                response = self._http.post(
                    self._url,
                    content=to_json(body.dict()),
                    headers=dict(make_headers(api_key=self._client.api_key)),
                )
                verify_response(response)
        except LagoApiError as exc:
            status = int(exc.status_code)
            headers = cast(Mapping[str, str] | None, exc.headers)
            if is_transient(status):
                raise RetryLater(
                    f"lago {status}: {exc.detail}", after_s=retry_after_from_headers(headers)
                ) from exc
            response_data = exc.response if isinstance(exc.response, Mapping) else {}
            details = response_data.get("error_details")
            raise _Refused(
                status,
                details if isinstance(details, Mapping) else {},
                f"{status} {response_data.get('code', exc.detail)}: {details}",
            ) from exc
        except httpx.TransportError as exc:
            raise RetryLater(f"lago: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._owns_http:
            self._http.close()


def _triage(group: list[int], refused: _Refused) -> tuple[list[list[int]], list[int]]:
    """From a refused batch: which groups to send again, which events are bad."""
    details = refused.details
    indexed = {k: v for k, v in details.items() if str(k).isdigit()}
    if indexed:
        failed: list[int] = []
        settled: set[int] = set()
        for key, errors in indexed.items():
            position = int(key)
            if position >= len(group):
                continue
            settled.add(position)
            if errors != DUPLICATE:  # a duplicate is already delivered: success
                failed.append(group[position])
        if settled:
            rest = [i for n, i in enumerate(group) if n not in settled]
            return ([rest] if rest else []), failed
    if len(group) == 1:
        if details == DUPLICATE:
            return [], []
        return [], group
    if details == DUPLICATE:
        return [[i] for i in group], []  # the answer does not say which: ask one by one
    mid = len(group) // 2  # too_many_events, or an unindexed refusal: halve
    return [group[:mid], group[mid:]], []


__all__ = ["LagoSink"]
