"""Reservations: hold (reserve), then commit the actual usage or release; read one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import render, schemas
from spendgate.api.auth import authenticate
from spendgate.api.charges import Pricer, needs_pricing, org_rate_card, pricing_in_order
from spendgate.api.context import Services
from spendgate.api.idempotency import ledger_idem
from spendgate.api.openapi import body_doc, document
from spendgate.api.responses import json_response
from spendgate.domain.hierarchy import Scope
from spendgate.domain.ids import check_id
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import Commit, CommitItem, ItemRequest, Release, Reserve
from spendgate.ledger.committer import Outcome
from spendgate.tenancy import ApiKey, EnvSettings, Role

router = APIRouter(tags=["reservations"])


async def _caller(request: Request, role: Role) -> tuple[Services, ApiKey]:
    """Services and the authenticated key, without FastAPI's per-request dependency solving
    (these are the hottest routes)."""
    return request.app.state.services, await authenticate(request, role)


async def _settings(services: Services, scope: Scope) -> EnvSettings:
    cached = services.configuration.cached_settings(scope)
    if cached is not None:
        return cached
    return await run_in_threadpool(services.configuration.settings, scope)


def _pricer(services: Services, scope: Scope, settings: EnvSettings, org: str) -> Pricer:
    return Pricer(services.configuration, scope, settings,
                  org_rate_card(services.configuration, scope, org), org=org)


async def _org_of(services: Services, scope: Scope, reservation_id: str) -> str:
    """The reservation's org: remembered from its reserve, else read (404 when unknown)."""
    org = services.locator.org_of(scope, reservation_id)
    if org is None:
        held = await run_in_threadpool(services.ledger.get_reservation, scope, reservation_id)
        org = held.path.org
        services.locator.remember(scope, reservation_id, org)
    return org


@router.post("/v1/reservations",
             **document("create reservation", "Hold credits for work about to start",
                        body_doc("ReserveRequest"), "Reservation"))
async def create_reservation(request: Request) -> Response:
    services, key = await _caller(request, Role.SERVICE)
    body = schemas.obj(await schemas.read_json(request))
    spec = schemas.reserve(body)
    settings = await _settings(services, key.scope)
    ttl_s = spec.ttl_seconds or settings.default_ttl_seconds
    if any(needs_pricing(item.options) for item in spec.items):
        now = services.clock.now_ms()
        items = await run_in_threadpool(
            lambda: _pricer(services, key.scope, settings, spec.path.org).items(spec.items, now))
    else:
        items = tuple(ItemRequest(i.ref, tuple(Charge(c.amount or 0) for c in i.options))
                      for i in spec.items)
    command = Reserve(spec.path, items, ttl_s * 1000, spec.policy, spec.metadata)
    outcome = await services.ledger.aexecute(key.scope, command, ledger_idem(request, body))
    services.locator.remember(key.scope, outcome.value.id, outcome.value.path.org)
    if not outcome.replayed:
        services.metrics.observe_decision(outcome.value)
    return json_response(render.reservation(outcome.value), replayed=outcome.replayed)


@router.post("/v1/reservations/{reservation_id}/commit",
             **document("commit reservation", "Record what the work really used; items not "
                        "named are released", body_doc("CommitRequest"), "Reservation"))
async def commit_reservation(reservation_id: str, request: Request) -> Response:
    services, key = await _caller(request, Role.SERVICE)
    check_id(reservation_id, "reservation_id")
    body = schemas.obj(await schemas.read_json(request))
    spec = schemas.commit(body)
    org = await _org_of(services, key.scope, reservation_id)
    choices = [c for _, c in spec.items]
    idem = ledger_idem(request, body)
    if needs_pricing(choices):
        settings = await _settings(services, key.scope)
        now = services.clock.now_ms()

        def price_and_commit() -> Outcome:
            # Tiered prices charge after the month so far: read it and record this charge
            # under the org's pricing lock, or concurrent commits would all start from zero.
            with pricing_in_order(key.scope, [org]):
                pricer = _pricer(services, key.scope, settings, org)
                items = tuple(CommitItem(ref, pricer.of(c, now, f"items[{i}].usage"))
                              for i, (ref, c) in enumerate(spec.items))
                return services.ledger.execute(key.scope, Commit(org, reservation_id, items),
                                               idem)

        outcome = await run_in_threadpool(price_and_commit)
    else:
        items = tuple(CommitItem(ref, Charge(c.amount or 0)) for ref, c in spec.items)
        outcome = await services.ledger.aexecute(key.scope, Commit(org, reservation_id, items),
                                                 idem)
    return json_response(render.reservation(outcome.value), replayed=outcome.replayed)


@router.post("/v1/reservations/{reservation_id}/release",
             **document("release reservation", "Return a hold unused", body_doc(
                 "ReleaseRequest", required=False), "Reservation"))
async def release_reservation(reservation_id: str, request: Request) -> Response:
    services, key = await _caller(request, Role.SERVICE)
    check_id(reservation_id, "reservation_id")
    body = schemas.obj(await schemas.read_json(request, optional=True))
    schemas.only(body, ())
    command = Release(await _org_of(services, key.scope, reservation_id), reservation_id)
    outcome = await services.ledger.aexecute(key.scope, command, ledger_idem(request, body))
    return json_response(render.reservation(outcome.value), replayed=outcome.replayed)


@router.get("/v1/reservations/{reservation_id}",
            **document("get reservation", "Read a reservation (expiry applied on read)", None,
                       "Reservation"))
async def get_reservation(reservation_id: str, request: Request) -> Response:
    services, key = await _caller(request, Role.READ)
    check_id(reservation_id, "reservation_id")
    res = await run_in_threadpool(services.ledger.get_reservation, key.scope, reservation_id)
    return json_response(render.reservation(res))
