"""Operations: liveness, readiness (the store answers) and Prometheus metrics. No auth."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api.context import Services, get_services
from spendgate.api.metrics import CONTENT_TYPE
from spendgate.api.openapi import error_responses
from spendgate.api.responses import json_response
from spendgate.errors import StoreUnavailable

router = APIRouter(tags=["operations"])

_HEALTH: dict[int | str, dict[str, Any]] = {"200": {
    "description": "OK",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}


@router.get("/healthz", summary="The process is alive", responses={**_HEALTH},
            operation_id="healthz")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/readyz", summary="The store is reachable",
            responses={**_HEALTH, "503": error_responses()["503"]}, operation_id="readyz")
async def readyz(services: Services = Depends(get_services)) -> Response:
    try:
        await run_in_threadpool(services.store.ping)
    except Exception as exc:
        raise StoreUnavailable("the store is not reachable; see the server log") from exc
    return json_response({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics", operation_id="metrics",
            responses={"200": {"description": "Prometheus text format",
                               "content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics(services: Services = Depends(get_services)) -> Response:
    body = await run_in_threadpool(services.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)
