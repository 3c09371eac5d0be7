"""A stream sink: NATS JetStream, one subject per tenant, environment and meter.

Each message carries the header Nats-Msg-Id = the usage event's id, so JetStream drops a
resend that arrives within the stream's duplicate window (server-side dedup). The stream
is created when missing. nats-py is asyncio-only: the sink runs its own event loop on a
background thread and `deliver` waits on it, so the dispatcher stays synchronous.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from spendgate.metering.events import UsageEvent
from spendgate.sinks._common import unique_events
from spendgate.sinks.config import SinkConfig
from spendgate.sinks.mapping import nats_subject, to_nats
from spendgate.sinks.port import InvalidMapping, PermanentFailure, RetryLater

DEFAULT_STREAM = "SPENDGATE_USAGE"
DEFAULT_PREFIX = "spendgate.usage"
DEFAULT_DUPLICATE_WINDOW_S = 120
_T = TypeVar("_T")
log = logging.getLogger("spendgate.sinks.nats")


async def _quiet(error: Exception) -> None:
    """Connection errors surface as RetryLater; nats-py's own logging of them is noise."""
    log.debug("nats: %s: %s", type(error).__name__, error)


class NatsSink:
    kind = "nats"

    def __init__(self, config: SinkConfig) -> None:
        self._config = config
        self._stream = str(config.options.get("stream", DEFAULT_STREAM))
        self._prefix = str(config.options.get("subject_prefix", DEFAULT_PREFIX))
        self._window_s = int(config.options.get("duplicate_window_s", DEFAULT_DUPLICATE_WINDOW_S))
        self._timeout_s = config.timeout_s
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"nats-sink-{config.name}", daemon=True
        )
        self._thread.start()

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def max_batch(self) -> int:
        return self._config.max_batch

    @property
    def stream(self) -> str:
        return self._stream

    def subject(self, event: UsageEvent) -> str:
        return nats_subject(event, self._prefix)

    def deliver(self, events: Sequence[UsageEvent]) -> None:
        batch = unique_events(events)
        prepared: list[tuple[UsageEvent, str, bytes]] = []
        bad: list[str] = []
        for event in batch:
            try:
                prepared.append((event, self.subject(event), to_nats(event, self._config)))
            except InvalidMapping:
                bad.append(event.id)
        if bad:
            raise PermanentFailure("invalid mapping for the stream", bad)
        if prepared:
            self._wait(self._publish_all(prepared), self._timeout_s * 2 + 5)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):  # closing is best effort
            self._wait(self._shutdown(), 5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _wait(self, coro: Coroutine[Any, Any, _T], timeout: float) -> _T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError as exc:
            future.cancel()
            raise RetryLater("nats: delivery timed out") from exc

    async def _shutdown(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _connect(self) -> JetStreamContext:
        if self._nc is not None and self._js is not None and self._nc.is_connected:
            return self._js
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        token = self._config.api_key.reveal() if self._config.api_key else None
        try:
            self._nc = await nats.connect(
                servers=[self._config.base_url],
                token=token,
                connect_timeout=max(1, round(self._timeout_s)),
                allow_reconnect=False,
                # Two quick tries per delivery, then NoServersError: the dispatcher retries.
                # (nats-py treats 0 as "no limit" for the initial connect.)
                max_reconnect_attempts=1,
                reconnect_time_wait=0.05,
                error_cb=_quiet,
                name=f"spendgate-sink-{self._config.name}",
            )
        except (OSError, nats.errors.Error) as exc:
            self._nc = None
            raise RetryLater(f"nats: cannot connect: {type(exc).__name__}: {exc}") from exc
        self._js = self._nc.jetstream(timeout=self._timeout_s)
        await self._ensure_stream(self._js)
        return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        try:
            await js.stream_info(self._stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=self._stream,
                    subjects=[f"{self._prefix}.>"],
                    duplicate_window=float(self._window_s),
                )
            )

    async def _publish_all(self, prepared: list[tuple[UsageEvent, str, bytes]]) -> None:
        js = await self._connect()
        results = await asyncio.gather(
            *(
                js.publish(
                    subject,
                    payload,
                    timeout=self._timeout_s,
                    stream=self._stream,
                    headers={"Nats-Msg-Id": event.id},
                )
                for event, subject, payload in prepared
            ),
            return_exceptions=True,
        )
        bad: list[str] = []
        transient: BaseException | None = None
        for (event, _, _), result in zip(prepared, results, strict=True):
            if not isinstance(result, BaseException):
                continue
            if isinstance(result, nats.errors.MaxPayloadError | nats.errors.BadSubjectError):
                bad.append(event.id)
            else:
                transient = transient or result
        if transient is not None:
            if isinstance(transient, nats.errors.NoRespondersError):
                self._js = None  # the stream may be gone: check it on the next attempt
                if self._nc is not None:
                    await self._nc.close()
            raise RetryLater(f"nats: {type(transient).__name__}: {transient}", after_s=None)
        if bad:
            raise PermanentFailure("nats refused the message", bad, others_delivered=True)


__all__ = ["DEFAULT_PREFIX", "DEFAULT_STREAM", "NatsSink"]
