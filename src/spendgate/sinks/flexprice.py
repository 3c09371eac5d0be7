"""Flexprice through its official SDK: bulk ingest, 1–1000 events per call.

The SDK's own retries stay off (its default): the dispatcher owns retries. Dedup at
Flexprice needs the same event_id AND the same timestamp, which mapping guarantees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from flexprice import Flexprice
from flexprice.models import errors as fp_errors

from spendgate.metering.events import UsageEvent
from spendgate.sinks._common import (
    deliver_bisecting,
    map_all,
    raise_for_status,
    unique_events,
)
from spendgate.sinks.config import SinkConfig
from spendgate.sinks.mapping import to_flexprice
from spendgate.sinks.port import RetryLater


class FlexpriceSink:
    kind = "flexprice"

    def __init__(self, config: SinkConfig, *, http_client: httpx.Client | None = None) -> None:
        if config.api_key is None:
            raise ValueError("a Flexprice sink needs an api_key")
        self._config = config
        self._http = http_client or httpx.Client(timeout=config.timeout_s)
        self._owns_http = http_client is None
        self._sdk = Flexprice(
            api_key_auth=config.api_key.reveal(),
            server_url=config.base_url,
            client=self._http,
            timeout_ms=int(config.timeout_s * 1000),
        )

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def max_batch(self) -> int:
        return self._config.max_batch

    def deliver(self, events: Sequence[UsageEvent]) -> None:
        batch = unique_events(events)
        payloads = map_all(batch, lambda e: to_flexprice(e, self._config))
        deliver_bisecting(batch, payloads, self._send)

    def _send(self, payloads: Sequence[dict[str, Any]]) -> None:
        try:
            self._sdk.events.ingest_events_bulk(events=list(payloads))  # type: ignore[arg-type]
        except fp_errors.FlexpriceError as exc:
            if 200 <= exc.status_code < 300:
                return  # accepted; only the acknowledgement's shape was unexpected
            raise_for_status(exc.status_code, exc.headers, f"flexprice {exc.status_code}: "
                             f"{_short(exc.body)}")
        except fp_errors.NoResponseError as exc:
            raise RetryLater(f"flexprice: {exc.message}") from exc
        except httpx.TransportError as exc:
            raise RetryLater(f"flexprice: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._owns_http:
            self._http.close()


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


__all__ = ["FlexpriceSink"]
