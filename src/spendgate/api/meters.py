"""Meters over HTTP: define an aggregation, then read it for a node and a period."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import openapi, schemas
from spendgate.api.auth import require_admin, require_read
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import idempotent_write
from spendgate.api.openapi import document
from spendgate.api.responses import json_response
from spendgate.domain.clock import rfc3339_to_ms
from spendgate.domain.hierarchy import NodePath
from spendgate.domain.ids import check_id
from spendgate.errors import InvalidRequest, NotFound
from spendgate.metering import export
from spendgate.metering.meters import AGGREGATIONS, Meter, aggregate
from spendgate.stores.sql import SqlSession, dumps, loads
from spendgate.tenancy import ApiKey

router = APIRouter(tags=["meters"])
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["event_meter", "aggregation"],
    "properties": {"event_meter": {"type": "string"},
                   "aggregation": {"enum": list(AGGREGATIONS)},
                   "field": {"type": "string"},
                   "filters": {"type": "object", "additionalProperties": {
                       "type": "array", "items": {"type": "string"}}},
                   "group_by": {"type": "array", "items": {"type": "string"}}}}}}}}


class MeterDefinition(BaseModel):
    name: str
    event_meter: str
    aggregation: str
    field: str | None
    filters: dict[str, list[str]]
    group_by: list[str]


class MeterUsage(BaseModel):
    meter: MeterDefinition
    data: list[dict[str, Any]]


openapi.register(MeterDefinition, MeterUsage)


@router.put("/v1/meters/{name}", **document(
    "put meter", "Define an aggregation over usage events", _BODY, "MeterDefinition",
    created=True))
async def put_meter(name: str, request: Request, key: ApiKey = Depends(require_admin),
                    services: Services = Depends(get_services)) -> Response:
    body = schemas.obj(await schemas.read_json(request))
    meter = Meter.parse(name, body)

    def write(tx: SqlSession, now: int) -> tuple[int, Any]:
        created = tx.one("SELECT 1 FROM meters WHERE tenant=? AND env=? AND name=?",
                         (key.scope.tenant, key.scope.env, name)) is None
        tx.execute("INSERT INTO meters (tenant, env, name, doc, updated_ms) VALUES (?,?,?,?,?) "
                   "ON CONFLICT (tenant, env, name) DO UPDATE SET doc=excluded.doc, "
                   "updated_ms=excluded.updated_ms",
                   (key.scope.tenant, key.scope.env, name, dumps(meter.to_dict()), now))
        return (201 if created else 200), meter.to_dict()

    written = await idempotent_write(request, services.store, key.scope, body, write,
                                     services.clock.now_ms)
    return written.response()


def _meter(services: Services, key: ApiKey, name: str) -> Meter:
    check_id(name, "name")
    with services.store.read() as tx:
        row = tx.one("SELECT doc FROM meters WHERE tenant=? AND env=? AND name=?",
                     (key.scope.tenant, key.scope.env, name))
    if row is None:
        raise NotFound("meter", name)
    doc = loads(row[0])
    return Meter.parse(name, {k: v for k, v in doc.items() if k != "name"})


@router.get("/v1/meters/{name}", **document("get meter", "One meter definition", None,
                                            "MeterDefinition"))
async def get_meter(name: str, key: ApiKey = Depends(require_read),
                    services: Services = Depends(get_services)) -> Response:
    meter = await run_in_threadpool(_meter, services, key, name)
    return json_response(meter.to_dict())


@router.get("/v1/meters/{name}/usage", **document(
    "meter usage", "The meter's value per group over [from, to), for an org or all",
    None, "MeterUsage"))
async def meter_usage(name: str, org: str | None = None, project: str | None = None,
                      user: str | None = None,
                      from_: str = Query(alias="from"), to: str = Query(),
                      key: ApiKey = Depends(require_read),
                      services: Services = Depends(get_services)) -> Response:
    lo, hi = rfc3339_to_ms(from_, "from"), rfc3339_to_ms(to, "to")
    if hi <= lo:
        raise InvalidRequest("to must be after from", param="to")
    if (project or user) and not org:
        raise InvalidRequest("filtering by project or user needs org", param="org")

    def read() -> dict[str, Any]:
        meter = _meter(services, key, name)
        if org:
            services.ledger.get_node(key.scope, NodePath(
                check_id(org, "org"), check_id(project, "project") if project else "",
                check_id(user, "user") if user else ""))
        events = (ev for ev in export.events(services.store, key.scope, lo, hi, org)
                  if (not project or ev.project == project) and (not user or ev.user == user))
        return {"meter": meter.to_dict(), "data": aggregate(meter, events)}

    return json_response(await run_in_threadpool(read))
