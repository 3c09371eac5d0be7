"""In-process API harness: a real app over a real store, two tenants and keys of each kind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter

from spendgate.bootstrap import Runtime, build
from spendgate.config import Settings
from spendgate.domain.clock import ManualClock

Json = dict[str, Any]


class SyncClient:
    """Blocking calls into the ASGI app through httpx, on one private event loop."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://test")

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@dataclass
class Harness:
    runtime: Runtime
    clock: ManualClock
    client: SyncClient
    keys: dict[str, str] = field(default_factory=dict, repr=False)  # "acme-live-admin" -> key

    def headers(self, who: str = "acme-live-admin", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", **extra}

    def call(self, method: str, path: str, body: object = None, *,
             who: str = "acme-live-admin", headers: Mapping[str, str] | None = None
             ) -> httpx.Response:
        hs = self.headers(who, **(headers or {}))
        if body is None:
            return self.client.request(method, path, headers=hs)
        return self.client.request(method, path, json=body, headers=hs)

    def ok(self, method: str, path: str, body: object = None, *,
           who: str = "acme-live-admin", status: int | tuple[int, ...] = (200, 201, 202)
           ) -> Json:
        r = self.call(method, path, body, who=who)
        wanted = (status,) if isinstance(status, int) else status
        assert r.status_code in wanted, f"{method} {path}: {r.status_code} {r.text}"
        data: Json = r.json()
        return data

    def concurrently(self, requests: list[tuple[str, str, object, dict[str, str]]]
                     ) -> list[httpx.Response]:
        """Send requests at once through the ASGI app (one event loop, real concurrency)."""

        async def go() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=self.runtime.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return list(await asyncio.gather(*[
                    c.request(m, p, json=b, headers=h) if b is not None else
                    c.request(m, p, headers=h) for m, p, b, h in requests]))

        return asyncio.run(go())

    def tree(self, org: str = "acme-org", credits: str = "100", who: str = "acme-live-admin"
             ) -> None:
        """org / studio / ana with `credits` granted."""
        self.ok("PUT", f"/v1/orgs/{org}", {"name": org}, who=who)
        self.ok("PUT", f"/v1/orgs/{org}/projects/studio", {"name": "Studio"}, who=who)
        self.ok("PUT", f"/v1/orgs/{org}/projects/studio/users/ana", {}, who=who)
        self.ok("POST", f"/v1/orgs/{org}/grants", {"amount": credits}, who=who)


VIDEO_CARD = {"prices": [
    {"meter": "video", "quantity": "seconds", "model": "per_unit", "unit_price": "0.5",
     "match": {"model": "veo-3"}},
    {"meter": "video", "quantity": "seconds", "model": "per_unit", "unit_price": "0.2",
     "match": {"model": "veo-3-fast"}},
    {"meter": "llm", "quantity": "input_tokens", "model": "per_unit", "unit_price": "2.5",
     "per": "1000000"},
    {"meter": "llm", "quantity": "output_tokens", "model": "per_unit", "unit_price": "10",
     "per": "1000000"},
]}


@contextmanager
def harness(database_url: str, *, routers: list[APIRouter] | None = None,
            **settings: Any) -> Iterator[Harness]:
    clock = ManualClock(1_767_225_600_000 + 3_600_000)  # 2026-01-01T01:00:00Z
    runtime = build(Settings.from_env(database_url=database_url, **settings), clock=clock,
                    routers=routers or [])
    try:
        keys: dict[str, str] = {}
        for tenant in ("acme", "rival"):
            runtime.directory.create_tenant(tenant)
            for env in ("live", "test"):
                for role in ("admin", "service", "read"):
                    keys[f"{tenant}-{env}-{role}"] = runtime.directory.create_key(
                        tenant, env, role)[1]
        client = SyncClient(runtime.app)
        try:
            yield Harness(runtime, clock, client, keys)
        finally:
            client.close()
    finally:
        runtime.close()
