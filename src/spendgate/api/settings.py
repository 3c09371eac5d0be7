"""The environment's settings: default rate card, credit value, hold TTL, fallbacks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import schemas
from spendgate.api.auth import require_admin, require_read
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import idempotent_write
from spendgate.api.openapi import body_doc, document
from spendgate.api.rate_cards import audit
from spendgate.api.responses import json_response
from spendgate.stores.sql import SqlSession
from spendgate.tenancy import ApiKey, read_settings

router = APIRouter(tags=["settings"])


@router.put("/v1/settings",
            **document("put settings", "Change settings; fields not sent keep their value, "
                       "null resets one", body_doc("SettingsRequest"), "Settings"))
async def put_settings(request: Request, key: ApiKey = Depends(require_admin),
                       services: Services = Depends(get_services)) -> Response:
    body = schemas.obj(await schemas.read_json(request))

    def write(tx: SqlSession, now_ms: int) -> tuple[int, Any]:
        updated = read_settings(tx, key.scope).updated(body)
        services.configuration.put_settings(tx, key.scope, updated, now_ms)
        audit(tx, key, now_ms, "settings.updated", "settings", updated.to_dict())
        return 200, updated.to_dict()

    written = await idempotent_write(request, services.store, key.scope, body, write,
                                     services.clock.now_ms)
    services.configuration.invalidate(key.scope)
    return written.response()


@router.get("/v1/settings", **document("get settings", "The environment's settings", None,
                                        "Settings"))
async def get_settings(key: ApiKey = Depends(require_read),
                       services: Services = Depends(get_services)) -> Response:
    settings = await run_in_threadpool(services.configuration.settings, key.scope)
    return json_response(settings.to_dict())
