"""An organization's wallet: credit grants and the balance they make."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import render, schemas
from spendgate.api.auth import require_admin, require_read
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import ledger_idem
from spendgate.api.openapi import body_doc, document
from spendgate.api.pagination import page, page_request
from spendgate.api.responses import json_response
from spendgate.domain.ids import check_id
from spendgate.tenancy import ApiKey

router = APIRouter(tags=["wallet"])


@router.post("/v1/orgs/{org}/grants",
             **document("add grant", "Grant credits to an organization",
                        body_doc("GrantRequest"), "Grant", status=201))
async def add_grant(org: str, request: Request, key: ApiKey = Depends(require_admin),
                    services: Services = Depends(get_services)) -> Response:
    check_id(org, "org")
    body = schemas.obj(await schemas.read_json(request))
    command = schemas.add_grant(org, body)
    outcome = await services.ledger.aexecute(key.scope, command, ledger_idem(request, body))
    return json_response(render.grant(outcome.value), 201, replayed=outcome.replayed)


@router.get("/v1/orgs/{org}/grants",
            **document("list grants", "Grants in burn order, each with its remaining",
                       None, "GrantList"))
async def list_grants(org: str, limit: str | None = None, starting_after: str | None = None,
                      key: ApiKey = Depends(require_read),
                      services: Services = Depends(get_services)) -> Response:
    check_id(org, "org")
    req = page_request(limit, starting_after)
    grants = await run_in_threadpool(services.ledger.grants, key.scope, org)
    # Pages follow burn order; the cursor is a grant id, resolved to its position (an
    # unknown cursor gives an empty page).
    ids = [g.id for g in grants]
    if req.starting_after is None:
        start = 0
    else:
        start = ids.index(req.starting_after) + 1 if req.starting_after in ids else len(ids)
    window = grants[start:start + req.limit + 1]
    return json_response(page(window, req, lambda g: g.id, render.grant))


@router.get("/v1/orgs/{org}/balance",
            **document("get balance", "The organization's credit balance", None, "Balance"))
async def get_balance(org: str, key: ApiKey = Depends(require_read),
                      services: Services = Depends(get_services)) -> Response:
    check_id(org, "org")
    balance = await run_in_threadpool(services.ledger.balance, key.scope, org)
    return json_response(render.balance(org, balance))

