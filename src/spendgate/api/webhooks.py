"""Webhooks: vendor deliveries in (authenticated by their signature), endpoints out."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import openapi, schemas
from spendgate.api.auth import require_admin, require_read
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import idempotent_write
from spendgate.api.openapi import document
from spendgate.api.pagination import page_request
from spendgate.api.responses import json_response
from spendgate.domain.hierarchy import Scope
from spendgate.domain.ids import check_id
from spendgate.errors import InvalidRequest, NotFound
from spendgate.sinks import SinkConfig
from spendgate.stores.sinks import SinkRepository
from spendgate.stores.sql import SqlSession, dumps
from spendgate.stores.webhooks import EndpointRepository, SqlInbox
from spendgate.tenancy import ApiKey
from spendgate.webhooks.errors import WebhookRejected
from spendgate.webhooks.inbound.flexprice_native import NativePolicy
from spendgate.webhooks.intake import WebhookSource, receive, verify
from spendgate.webhooks.outbound.deliverer import send_ping
from spendgate.webhooks.outbound.events import CATALOGUE
from spendgate.webhooks.outbound.log import Endpoint
from spendgate.webhooks.outbound.signing import check_secret, generate_secret

router = APIRouter(tags=["webhooks"])
MAX_BODY = 1024 * 1024
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": True}}}}}


class WebhookReceipt(BaseModel):
    received: bool
    duplicate: bool
    id: str


class WebhookEndpoint(BaseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool
    secret: str | None = None


class WebhookDeliveryList(BaseModel):
    data: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None


class WebhookPing(BaseModel):
    ok: bool
    response_code: int | None
    error: str | None


openapi.register(WebhookReceipt, WebhookEndpoint, WebhookDeliveryList, WebhookPing)


def source_for(scope: Scope, config: SinkConfig) -> WebhookSource:
    """How this sink's vendor signs: secrets (space-separated for rotation), key, opt-ins."""
    if config.type == "nats":
        raise NotFound("webhook sink", config.name)
    secrets = tuple(config.webhook_secret.reveal().split()) if config.webhook_secret else ()
    native = None
    sources = config.options.get("native_webhook_sources")
    header = config.options.get("native_webhook_header")
    if config.type == "flexprice" and sources and header and secrets:
        native = NativePolicy.of(list(sources), str(header), secrets)
    return WebhookSource(scope.tenant, scope.env, config.name, config.type, secrets=secrets,
                         public_keys=(config.webhook_public_key,)
                         if config.webhook_public_key else (),
                         native=native, lago_issuer=config.options.get("webhook_issuer"))


_INBOUND = document("receive webhook", "A delivery from the sink's vendor; its signature "
                    "authenticates it (no API key)", _BODY, "WebhookReceipt", idempotent=False)
_INBOUND.setdefault("openapi_extra", {})["security"] = []


@router.post("/v1/webhooks/{sink}", **_INBOUND)
async def receive_webhook(sink: str, request: Request,
                          services: Services = Depends(get_services)) -> Response:
    check_id(sink, "sink")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise InvalidRequest("the delivery is larger than 1 MiB", param="body")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidRequest("the delivery is larger than 1 MiB", param="body")
    headers = dict(request.headers)
    peer = request.client.host if request.client else None
    now = services.clock.now_ms()

    def handle() -> dict[str, Any]:
        candidates = [(scope, c) for scope, c in SinkRepository(services.store).named(sink)
                      if c.type != "nats"]
        if not candidates:
            raise NotFound("webhook sink", sink)
        sources = [source_for(scope, c) for scope, c in candidates]
        chosen = sources[0]
        if len(sources) > 1:  # the same sink name in several tenants: the signature decides
            for source in sources:
                try:
                    verify(source, headers, body, source_ip=peer, now_ms=now)
                except WebhookRejected:
                    continue
                chosen = source
                break
            else:
                raise WebhookRejected("no configured secret verifies this delivery",
                                      code="bad_signature")
        receipt = receive(chosen, headers, body, source_ip=peer, now_ms=now,
                          inbox=SqlInbox(services.store))
        return {"received": True, "duplicate": receipt.duplicate, "id": receipt.record_id}

    return json_response(await run_in_threadpool(handle))


def _endpoint_view(ep: Endpoint, secret: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {"id": ep.id, "url": ep.url, "events": sorted(ep.events),
                            "enabled": ep.enabled}
    if secret is not None:
        view["secret"] = secret  # shown once, when it was generated
    return view


@router.put("/v1/webhook-endpoints/{endpoint_id}", **document(
    "put webhook endpoint", "Register where alerts go; a secret is generated (and returned "
    "once) when none is given", _BODY, "WebhookEndpoint", created=True))
async def put_endpoint(endpoint_id: str, request: Request, key: ApiKey = Depends(require_admin),
                       services: Services = Depends(get_services)) -> Response:
    check_id(endpoint_id, "id")
    body = schemas.obj(await schemas.read_json(request))
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2048:
        raise InvalidRequest("url must be an http(s) URL", param="url")
    events = body.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise InvalidRequest("events must be a non-empty list of event types", param="events")
    unknown = [e for e in events if e != "*" and e not in CATALOGUE]
    if unknown:
        raise InvalidRequest(f"unknown event type {unknown[0]!r}; known: "
                             f"{', '.join(sorted(CATALOGUE))} or *", param="events")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidRequest("enabled must be true or false", param="enabled")
    given = body.get("secret")
    secret = check_secret(given) if given is not None else generate_secret()

    def write(tx: SqlSession, now: int) -> tuple[int, Any]:
        created = tx.one("SELECT 1 FROM webhook_endpoints WHERE tenant=? AND env=? AND "
                         "endpoint_id=?", (key.scope.tenant, key.scope.env, endpoint_id)) is None
        tx.execute(
            "INSERT INTO webhook_endpoints (tenant, env, endpoint_id, url, events, secrets, "
            "enabled, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT "
            "(tenant, env, endpoint_id) DO UPDATE SET url=excluded.url, events=excluded.events,"
            " secrets=excluded.secrets, enabled=excluded.enabled, updated_ms=excluded.updated_ms",
            (key.scope.tenant, key.scope.env, endpoint_id, url, dumps(sorted(set(events))),
             dumps([secret]), 1 if enabled else 0, now, now))
        ep = Endpoint(endpoint_id, key.scope.tenant, key.scope.env, url, frozenset(events),
                      (secret,), enabled)
        return (201 if created else 200), _endpoint_view(ep, secret if given is None else None)

    written = await idempotent_write(request, services.store, key.scope, body, write,
                                     services.clock.now_ms)
    return written.response()


@router.get("/v1/webhook-endpoints/{endpoint_id}", **document(
    "get webhook endpoint", "One endpoint (its secret is never shown again)", None,
    "WebhookEndpoint"))
async def get_endpoint(endpoint_id: str, key: ApiKey = Depends(require_read),
                       services: Services = Depends(get_services)) -> Response:
    check_id(endpoint_id, "id")
    ep = await run_in_threadpool(EndpointRepository(services.store).get, key.scope, endpoint_id)
    return json_response(_endpoint_view(ep))


@router.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", **document(
    "list webhook deliveries", "Deliveries to the endpoint with every attempt", None,
    "WebhookDeliveryList"))
async def list_deliveries(endpoint_id: str, limit: str | None = None,
                          starting_after: str | None = None,
                          key: ApiKey = Depends(require_read),
                          services: Services = Depends(get_services)) -> Response:
    check_id(endpoint_id, "id")
    req = page_request(limit, starting_after)
    rows = await run_in_threadpool(EndpointRepository(services.store).deliveries, key.scope,
                                   endpoint_id, after=req.starting_after, limit=req.limit + 1)
    shown = rows[:req.limit]
    return json_response({"data": shown, "has_more": len(rows) > req.limit,
                          "next_cursor": shown[-1]["id"] if len(rows) > req.limit else None})


@router.post("/v1/webhook-endpoints/{endpoint_id}/test", **document(
    "test webhook endpoint", "Send one signed ping now (not logged, not retried)", None,
    "WebhookPing", idempotent=False))
async def test_endpoint(endpoint_id: str, key: ApiKey = Depends(require_admin),
                        services: Services = Depends(get_services)) -> Response:
    check_id(endpoint_id, "id")
    ep = await run_in_threadpool(EndpointRepository(services.store).get, key.scope, endpoint_id)

    def ping() -> dict[str, Any]:
        with httpx.Client() as client:
            result = send_ping(client, ep, now_ms=services.clock.now_ms())
        return {"ok": result.ok, "response_code": result.response_code, "error": result.error}

    return json_response(await run_in_threadpool(ping))


__all__ = ["router", "source_for"]
