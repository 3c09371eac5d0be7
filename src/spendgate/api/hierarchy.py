"""Organizations, projects and users: PUT creates (201) or updates (200); GET reads and lists."""

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
from spendgate.domain.hierarchy import Node, NodePath
from spendgate.domain.ids import check_id
from spendgate.tenancy import ApiKey

router = APIRouter(tags=["hierarchy"])


async def _upsert(request: Request, services: Services, key: ApiKey, build: object) -> Response:
    body = schemas.obj(await schemas.read_json(request, optional=True))
    command = build(body)  # type: ignore[operator]
    outcome = await services.ledger.aexecute(key.scope, command, ledger_idem(request, body))
    node, created = outcome.value
    return json_response(render.node(node), 201 if created else 200, replayed=outcome.replayed)


@router.put("/v1/orgs/{org}", **document("PUT org", "Create or update an organization",
                                        body_doc("OrgRequest"), "Node", created=True))
async def put_org(org: str, request: Request, key: ApiKey = Depends(require_admin),
                  services: Services = Depends(get_services)) -> Response:
    check_id(org, "org")
    return await _upsert(request, services, key, lambda b: schemas.upsert_org(org, b))


@router.put("/v1/orgs/{org}/projects/{project}",
            **document("PUT project", "Create or update a project",
                       body_doc("ProjectRequest"), "Node", created=True))
async def put_project(org: str, project: str, request: Request,
                      key: ApiKey = Depends(require_admin),
                      services: Services = Depends(get_services)) -> Response:
    check_id(org, "org")
    check_id(project, "project")
    return await _upsert(request, services, key,
                         lambda b: schemas.upsert_project(org, project, b))


@router.put("/v1/orgs/{org}/projects/{project}/users/{user}",
            **document("PUT user", "Create or update a user", body_doc("UserRequest"), "Node",
                       created=True))
async def put_user(org: str, project: str, user: str, request: Request,
                   key: ApiKey = Depends(require_admin),
                   services: Services = Depends(get_services)) -> Response:
    check_id(org, "org")
    check_id(project, "project")
    check_id(user, "user")
    return await _upsert(request, services, key,
                         lambda b: schemas.upsert_user(org, project, user, b))


async def _get(services: Services, key: ApiKey, path: NodePath) -> Response:
    node = await run_in_threadpool(services.ledger.get_node, key.scope, path)
    return json_response(render.node(node))


@router.get("/v1/orgs/{org}", **document("GET org", "Read an organization", None, "Node"))
async def get_org(org: str, key: ApiKey = Depends(require_read),
                  services: Services = Depends(get_services)) -> Response:
    return await _get(services, key, NodePath(check_id(org, "org")))


@router.get("/v1/orgs/{org}/projects/{project}",
            **document("GET project", "Read a project", None, "Node"))
async def get_project(org: str, project: str, key: ApiKey = Depends(require_read),
                      services: Services = Depends(get_services)) -> Response:
    return await _get(services, key, NodePath(check_id(org, "org"),
                                              check_id(project, "project")))


@router.get("/v1/orgs/{org}/projects/{project}/users/{user}",
            **document("GET user", "Read a user", None, "Node"))
async def get_user(org: str, project: str, user: str, key: ApiKey = Depends(require_read),
                   services: Services = Depends(get_services)) -> Response:
    return await _get(services, key, NodePath(check_id(org, "org"),
                                              check_id(project, "project"),
                                              check_id(user, "user")))


async def _list(services: Services, key: ApiKey, level: str, org: str | None,
                project: str | None, limit: str | None, starting_after: str | None
                ) -> Response:
    req = page_request(limit, starting_after)
    nodes = await run_in_threadpool(
        lambda: services.ledger.list_nodes(key.scope, level, org, project,
                                           after=req.starting_after, limit=req.limit + 1))
    return json_response(page(nodes, req, _cursor, render.node))


def _cursor(n: Node) -> str:
    return n.path.user or n.path.project or n.path.org


@router.get("/v1/orgs", **document("list orgs", "List organizations", None, "NodeList"))
async def list_orgs(limit: str | None = None, starting_after: str | None = None,
                    key: ApiKey = Depends(require_read),
                    services: Services = Depends(get_services)) -> Response:
    return await _list(services, key, "org", None, None, limit, starting_after)


@router.get("/v1/orgs/{org}/projects",
            **document("list projects", "List an organization's projects", None, "NodeList"))
async def list_projects(org: str, limit: str | None = None, starting_after: str | None = None,
                        key: ApiKey = Depends(require_read),
                        services: Services = Depends(get_services)) -> Response:
    return await _list(services, key, "project", check_id(org, "org"), None, limit,
                       starting_after)


@router.get("/v1/orgs/{org}/projects/{project}/users",
            **document("list users", "List a project's users", None, "NodeList"))
async def list_users(org: str, project: str, limit: str | None = None,
                     starting_after: str | None = None, key: ApiKey = Depends(require_read),
                     services: Services = Depends(get_services)) -> Response:
    return await _list(services, key, "user", check_id(org, "org"),
                       check_id(project, "project"), limit, starting_after)
