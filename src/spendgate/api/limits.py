"""Limits on any node, and the status of every limit on a path."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import render, schemas
from spendgate.api.auth import require_admin, require_read
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import ledger_idem
from spendgate.api.openapi import body_doc, document
from spendgate.api.pagination import page, page_request, slice_after
from spendgate.api.responses import json_response
from spendgate.domain.hierarchy import NodePath
from spendgate.domain.ids import check_id
from spendgate.errors import InvalidRequest
from spendgate.tenancy import ApiKey

router = APIRouter(tags=["limits"])


@router.put("/v1/limits/{limit_id}",
            **document("put limit", "Create or replace a limit", body_doc("LimitRequest"),
                       "Limit", created=True))
async def put_limit(limit_id: str, request: Request, key: ApiKey = Depends(require_admin),
                    services: Services = Depends(get_services)) -> Response:
    check_id(limit_id, "limit_id")
    body = schemas.obj(await schemas.read_json(request))
    command = schemas.put_limit(limit_id, body)
    outcome = await services.ledger.aexecute(key.scope, command, ledger_idem(request, body))
    lim, created = outcome.value
    return json_response(render.limit(lim), 201 if created else 200, replayed=outcome.replayed)


@router.get("/v1/limits", **document("list limits", "Limits, filtered by node", None,
                                      "LimitList"))
async def list_limits(org: str | None = None, project: str | None = None,
                      user: str | None = None, limit: str | None = None,
                      starting_after: str | None = None, key: ApiKey = Depends(require_read),
                      services: Services = Depends(get_services)) -> Response:
    req = page_request(limit, starting_after)
    if (project or user) and not org:
        raise InvalidRequest("filtering by project or user needs org", param="org")
    if user and not project:
        raise InvalidRequest("filtering by user needs project", param="project")

    def read() -> list[object]:
        if org is not None:
            # An org (or project, user) that does not exist here is a 404, as in every route.
            services.ledger.get_node(key.scope, NodePath(
                check_id(org, "org"), check_id(project, "project") if project else "",
                check_id(user, "user") if user else ""))
        return services.ledger.limits(key.scope, org, project, user)  # type: ignore[return-value]

    limits = await run_in_threadpool(read)
    window = slice_after(limits, req, lambda lim: lim.id)  # type: ignore[attr-defined]
    return json_response(page(window, req, lambda lim: lim.id,  # type: ignore[attr-defined]
                              render.limit))  # type: ignore[arg-type]


async def _status(services: Services, key: ApiKey, path: NodePath) -> Response:
    found = await run_in_threadpool(services.ledger.status, key.scope, path)
    return json_response({"data": [render.limit_status(s) for s in found]})


@router.get("/v1/orgs/{org}/projects/{project}/users/{user}/status",
            **document("user status", "Every limit on the user's path, with used, held and "
                       "remaining in the current window", None, "LimitStatusList"))
async def user_status(org: str, project: str, user: str, key: ApiKey = Depends(require_read),
                      services: Services = Depends(get_services)) -> Response:
    return await _status(services, key, NodePath(check_id(org, "org"),
                                                 check_id(project, "project"),
                                                 check_id(user, "user")))


@router.get("/v1/orgs/{org}/projects/{project}/status",
            **document("project status", "Every limit on the project's path", None,
                       "LimitStatusList"))
async def project_status(org: str, project: str, key: ApiKey = Depends(require_read),
                         services: Services = Depends(get_services)) -> Response:
    return await _status(services, key, NodePath(check_id(org, "org"),
                                                 check_id(project, "project")))


@router.get("/v1/orgs/{org}/status",
            **document("org status", "Every limit on the organization", None,
                       "LimitStatusList"))
async def org_status(org: str, key: ApiKey = Depends(require_read),
                     services: Services = Depends(get_services)) -> Response:
    return await _status(services, key, NodePath(check_id(org, "org")))
