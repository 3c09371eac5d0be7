"""Sinks: where usage goes (billing vendors, streams), their health, replay and re-drive."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import openapi, schemas
from spendgate.api.auth import require_admin, require_read
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import idempotent_write
from spendgate.api.openapi import document
from spendgate.api.pagination import page, page_request, slice_after
from spendgate.api.responses import json_response
from spendgate.domain.clock import rfc3339_to_ms
from spendgate.domain.ids import check_id
from spendgate.errors import InvalidRequest
from spendgate.sinks import SinkConfig
from spendgate.stores.outbox import SqlOutbox
from spendgate.stores.sinks import SinkRepository
from spendgate.stores.sql import SqlSession
from spendgate.tenancy import ApiKey

router = APIRouter(tags=["sinks"])


class Sink(BaseModel):
    name: str
    type: Literal["flexprice", "metronome", "lago", "nats"]
    enabled: bool
    base_url: str
    api_key_set: bool
    customer_ids: dict[str, str]
    event_names: dict[str, str]
    webhook_secret_set: bool
    webhook_public_key: str | None = None
    options: dict[str, Any]


class SinkList(BaseModel):
    data: list[Sink]
    has_more: bool
    next_cursor: str | None


class SinkStatus(BaseModel):
    lag_events: int
    lag_seconds: int
    delivered: int
    retried: int
    dead_lettered: int
    last_error: str | None


class SinkReplay(BaseModel):
    sink: str
    queued: int


class SinkRedrive(BaseModel):
    sink: str
    redriven: int


openapi.register(Sink, SinkList, SinkStatus, SinkReplay, SinkRedrive)
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": True}}}}}


@router.put("/v1/sinks/{name}", **document(
    "put sink", "Create or replace a sink; secrets are write-only", _BODY, "Sink",
    created=True))
async def put_sink(name: str, request: Request, key: ApiKey = Depends(require_admin),
                   services: Services = Depends(get_services)) -> Response:
    check_id(name, "name")
    body = schemas.obj(await schemas.read_json(request))

    def write(tx: SqlSession, now: int) -> tuple[int, Any]:
        previous = SinkRepository.find_in(tx, key.scope, name)
        config = SinkConfig.parse(name, body, previous)
        created = SinkRepository(services.store).put(key.scope, config, now, tx)
        return (201 if created else 200), config.to_public_dict()

    written = await idempotent_write(request, services.store, key.scope, body, write,
                                     services.clock.now_ms)
    return written.response()


@router.get("/v1/sinks", **document("list sinks", "Sinks of this environment", None, "SinkList"))
async def list_sinks(limit: str | None = None, starting_after: str | None = None,
                     key: ApiKey = Depends(require_read),
                     services: Services = Depends(get_services)) -> Response:
    req = page_request(limit, starting_after)
    found = await run_in_threadpool(SinkRepository(services.store).list, key.scope)
    window = slice_after(found, req, lambda c: c.name)
    return json_response(page(window, req, lambda c: c.name, SinkConfig.to_public_dict))


async def _sink(services: Services, key: ApiKey, name: str) -> SinkConfig:
    check_id(name, "name")
    return await run_in_threadpool(SinkRepository(services.store).get, key.scope, name)


@router.get("/v1/sinks/{name}", **document("get sink", "One sink, without its secrets", None,
                                           "Sink"))
async def get_sink(name: str, key: ApiKey = Depends(require_read),
                   services: Services = Depends(get_services)) -> Response:
    return json_response((await _sink(services, key, name)).to_public_dict())


@router.get("/v1/sinks/{name}/status", **document(
    "sink status", "Delivery lag and counts", None, "SinkStatus"))
async def sink_status(name: str, key: ApiKey = Depends(require_read),
                      services: Services = Depends(get_services)) -> Response:
    await _sink(services, key, name)
    outbox = SqlOutbox(services.store, key.scope)

    def read() -> dict[str, Any]:
        backlog = outbox.backlog(name)
        counts = outbox.counts(name)
        oldest = backlog.oldest_enqueued_ms
        lag_s = 0 if oldest is None else max(0, services.clock.now_ms() - oldest) // 1000
        return {"lag_events": backlog.events, "lag_seconds": lag_s,
                "delivered": counts["delivered"], "retried": counts["retried"],
                "dead_lettered": counts["dead"], "last_error": counts["last_error"]}

    return json_response(await run_in_threadpool(read))


@router.post("/v1/sinks/{name}/replay", **document(
    "replay sink", "Send a time range of usage events again (idempotent at the vendor)",
    _BODY, "SinkReplay"))
async def replay_sink(name: str, request: Request, key: ApiKey = Depends(require_admin),
                      services: Services = Depends(get_services)) -> Response:
    await _sink(services, key, name)
    body = schemas.obj(await schemas.read_json(request))
    lo = rfc3339_to_ms(body.get("from"), "from")
    hi = rfc3339_to_ms(body.get("to"), "to")
    if hi <= lo:
        raise InvalidRequest("to must be after from", param="to")
    outbox = SqlOutbox(services.store, key.scope)

    def write(tx: SqlSession, now: int) -> tuple[int, Any]:
        return 200, {"sink": name, "queued": outbox.replay(name, lo, hi, now, tx)}

    written = await idempotent_write(request, services.store, key.scope, body, write,
                                     services.clock.now_ms)
    return written.response()


@router.post("/v1/sinks/{name}/redrive", **document(
    "redrive sink", "Retry every dead-lettered event of the sink", None, "SinkRedrive",
    idempotent=True))
async def redrive_sink(name: str, request: Request, key: ApiKey = Depends(require_admin),
                       services: Services = Depends(get_services)) -> Response:
    await _sink(services, key, name)
    outbox = SqlOutbox(services.store, key.scope)

    def write(tx: SqlSession, now: int) -> tuple[int, Any]:
        return 200, {"sink": name, "redriven": outbox.redrive(name, now, tx)}

    written = await idempotent_write(request, services.store, key.scope, {}, write,
                                     services.clock.now_ms)
    return written.response()


__all__ = ["router"]
