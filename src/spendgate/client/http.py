"""Gate and AsyncGate: the typed client over HTTP (httpx), with safe retries.

    gate = Gate("http://127.0.0.1:8080", api_key="sk_test_...")
    with gate.reserve("acme", "studio", "ana", usage={"meter": "video", ...}) as hold:
        if hold.funded:
            result = generate()
            hold.commit({"meter": "video", "model": "veo-3", "seconds": 8})
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from spendgate import __version__
from spendgate.client._calls import Answer, Call
from spendgate.client._surface import AsyncOperations, SyncOperations
from spendgate.client.errors import ConnectionFailed, error_from_response, parse_retry_after
from spendgate.client.retry import Failure, RetryPolicy

DEFAULT_TIMEOUT_S = 10.0
USER_AGENT = f"spendgate-python/{__version__}"
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _headers(api_key: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    headers.update(extra or {})
    return headers


def _request_args(call: Call) -> dict[str, Any]:
    headers = {"Idempotency-Key": call.idempotency_key} if call.idempotency_key else {}
    args: dict[str, Any] = {"headers": headers, "params": dict(call.query)}
    if call.body is not None:
        args["json"] = call.body
    return args


def _failure(exc: httpx.TransportError) -> Failure:
    return Failure.NOT_SENT if isinstance(exc, _NOT_SENT) else Failure.NO_ANSWER


def _answer(resp: httpx.Response) -> Answer:
    body = resp.json() if resp.content else None
    replayed = resp.headers.get("idempotent-replayed", "").lower() == "true"
    return Answer(resp.status_code, body, replayed)


def _error_body(resp: httpx.Response) -> object:
    try:
        return resp.json()
    except ValueError:
        return None


def _retry_after(resp: httpx.Response) -> Any:
    if resp.status_code in (429, 503):
        return parse_retry_after(resp.headers.get("retry-after"))
    return None


class Gate(SyncOperations):
    """The synchronous HTTP client. Thread-safe; close it (or use `with`) when done."""

    def __init__(self, base_url: str, api_key: str | None = None, *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, retry: RetryPolicy | None = None,
                 auto_idempotency: bool = True, headers: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.retry = retry or RetryPolicy()
        self.auto_idempotency = auto_idempotency
        self._sleep = sleep
        self._http = httpx.Client(base_url=base_url, headers=_headers(api_key, headers),
                                  timeout=timeout_s, transport=transport)

    def _send(self, call: Call) -> Answer:
        args = _request_args(call)
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self._http.request(call.method, call.path, **args)
            except httpx.TransportError as exc:
                failure = _failure(exc)
                if not self.retry.should_retry(attempt, failure, idempotent=call.idempotent):
                    raise ConnectionFailed(f"{call.method} {call.path}: {exc!r}") from exc
                self._sleep(self.retry.delay_s(attempt))
                continue
            if resp.is_success:
                return _answer(resp)
            if not self.retry.should_retry(attempt, Failure.STATUS, idempotent=call.idempotent,
                                           status=resp.status_code):
                raise error_from_response(resp.status_code, _error_body(resp), resp.headers)
            self._sleep(self.retry.delay_s(attempt, _retry_after(resp)))

    def healthz(self) -> bool:
        try:
            return self._http.get("/healthz").is_success
        except httpx.TransportError:
            return False

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncGate(AsyncOperations):
    """The asyncio HTTP client: the same methods, awaited."""

    def __init__(self, base_url: str, api_key: str | None = None, *,
                 timeout_s: float = DEFAULT_TIMEOUT_S, retry: RetryPolicy | None = None,
                 auto_idempotency: bool = True, headers: Mapping[str, str] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.retry = retry or RetryPolicy()
        self.auto_idempotency = auto_idempotency
        self._sleep = sleep
        self._http = httpx.AsyncClient(base_url=base_url, headers=_headers(api_key, headers),
                                       timeout=timeout_s, transport=transport)

    async def _send(self, call: Call) -> Answer:
        args = _request_args(call)
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = await self._http.request(call.method, call.path, **args)
            except httpx.TransportError as exc:
                failure = _failure(exc)
                if not self.retry.should_retry(attempt, failure, idempotent=call.idempotent):
                    raise ConnectionFailed(f"{call.method} {call.path}: {exc!r}") from exc
                await self._sleep(self.retry.delay_s(attempt))
                continue
            if resp.is_success:
                return _answer(resp)
            if not self.retry.should_retry(attempt, Failure.STATUS, idempotent=call.idempotent,
                                           status=resp.status_code):
                raise error_from_response(resp.status_code, _error_body(resp), resp.headers)
            await self._sleep(self.retry.delay_s(attempt, _retry_after(resp)))

    async def healthz(self) -> bool:
        try:
            return (await self._http.get("/healthz")).is_success
        except httpx.TransportError:
            return False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncGate:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


__all__ = ["DEFAULT_TIMEOUT_S", "AsyncGate", "Gate"]
