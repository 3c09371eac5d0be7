"""Metronome through its official SDK: `v1.usage.ingest`, at most 100 events per call.

`max_retries=0`: the SDK would otherwise retry twice on its own; the dispatcher owns
retries. Metronome ignores a repeated transaction_id for 34 days, and refuses timestamps
older than 34 days or more than 24 h ahead, which mapping checks before sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import metronome

from spendgate.domain.clock import Clock, SystemClock
from spendgate.metering.events import UsageEvent
from spendgate.sinks._common import (
    deliver_bisecting,
    map_all,
    raise_for_status,
    unique_events,
)
from spendgate.sinks.config import SinkConfig
from spendgate.sinks.mapping import to_metronome
from spendgate.sinks.port import RetryLater


class MetronomeSink:
    kind = "metronome"

    def __init__(
        self,
        config: SinkConfig,
        *,
        clock: Clock | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        if config.api_key is None:
            raise ValueError("a Metronome sink needs an api_key")
        self._config = config
        self._clock = clock or SystemClock()
        self._http = http_client or httpx.Client(timeout=config.timeout_s)
        self._owns_http = http_client is None
        self._sdk = metronome.Metronome(
            bearer_token=config.api_key.reveal(),
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout_s,
            http_client=self._http,
        )

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def max_batch(self) -> int:
        return self._config.max_batch

    def deliver(self, events: Sequence[UsageEvent]) -> None:
        now_ms = self._clock.now_ms()
        batch = unique_events(events)

        def to_vendor(event: UsageEvent) -> dict[str, Any]:
            return to_metronome(event, self._config, now_ms=now_ms)

        deliver_bisecting(batch, map_all(batch, to_vendor), self._send)

    def _send(self, payloads: Sequence[dict[str, Any]]) -> None:
        try:
            self._sdk.v1.usage.ingest(usage=list(payloads))  # type: ignore[arg-type]
        except metronome.APIStatusError as exc:
            raise_for_status(
                exc.status_code, exc.response.headers, f"metronome {exc.status_code}: {exc.message}"
            )
        except metronome.APIConnectionError as exc:
            raise RetryLater(f"metronome: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._owns_http:
            self._http.close()


__all__ = ["MetronomeSink"]
