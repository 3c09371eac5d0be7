"""Reconciliation over HTTP: provider exports in the body, metered usage from the store."""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import openapi, schemas
from spendgate.api.auth import require_admin
from spendgate.api.context import Services, get_services
from spendgate.api.openapi import document
from spendgate.api.responses import json_response
from spendgate.domain.clock import rfc3339_to_ms
from spendgate.domain.hierarchy import Scope
from spendgate.errors import InvalidRequest
from spendgate.reconcile import (
    Grain,
    InputFile,
    ReconcileMetrics,
    Tolerance,
    adjustments,
    alert,
    mapping_from_dict,
    reconcile,
)
from spendgate.reconcile.store import LedgerAdjustmentSink, StoreMeteredUsage
from spendgate.stores.webhooks import SqlWebhookPublisher
from spendgate.tenancy import ApiKey

router = APIRouter(tags=["reconciliation"])
PROVIDERS = ("openai", "anthropic", "csv")
MAX_FILES_BYTES = 50 * 1024 * 1024
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["provider", "files", "mapping"],
    "properties": {
        "provider": {"enum": list(PROVIDERS)},
        "files": {"type": "array", "items": {"type": "object", "required": ["name"],
                                             "properties": {"name": {"type": "string"},
                                                            "content": {"type": "string"},
                                                            "content_base64": {
                                                                "type": "string"}}}},
        "mapping": {"type": "object"}, "from": {"type": "string"}, "to": {"type": "string"},
        "grain": {"enum": ["hour", "day", "month"]}, "by": {"type": "string"},
        "tolerance": {"type": "string"}, "adjust": {"type": "boolean"},
    }}}}}}


class ReconciliationReport(BaseModel):
    run_id: str
    ok: bool
    summary: dict[str, Any]


openapi.register(ReconciliationReport)


def _files(raw: object) -> list[InputFile]:
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("files must be a non-empty list of {name, content}", param="files")
    out, total = [], 0
    for n, item in enumerate(raw):
        param = f"files[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidRequest(f"{param} needs a name", param=param)
        if isinstance(item.get("content"), str):
            data = item["content"].encode()
        elif isinstance(item.get("content_base64"), str):
            try:
                data = base64.b64decode(item["content_base64"], validate=True)
            except binascii.Error:
                raise InvalidRequest(f"{param}.content_base64 is not base64",
                                     param=f"{param}.content_base64") from None
        else:
            raise InvalidRequest(f"{param} needs content or content_base64", param=param)
        total += len(data)
        if total > MAX_FILES_BYTES:
            raise InvalidRequest("files exceed 50 MiB; use `spendgate reconcile` for bigger "
                                 "exports", param="files")
        out.append(InputFile.from_bytes(item["name"], data))
    return out


@router.post("/v1/reconciliations", **document(
    "reconcile", "Compare a provider's usage or cost export with metered usage; optionally "
    "journal adjustments for the differences", _BODY, "ReconciliationReport",
    idempotent=False))
async def create_reconciliation(request: Request, key: ApiKey = Depends(require_admin),
                                services: Services = Depends(get_services)) -> Response:
    body = schemas.obj(await schemas.read_json(request))
    provider = body.get("provider")
    if provider not in PROVIDERS:
        raise InvalidRequest(f"provider must be one of {', '.join(PROVIDERS)}",
                             param="provider")
    files = _files(body.get("files"))
    mapping = mapping_from_dict({**schemas.obj(body.get("mapping") or {}),
                                 "tenant": key.scope.tenant, "env": key.scope.env})
    lo = rfc3339_to_ms(body["from"], "from") if body.get("from") is not None else None
    hi = rfc3339_to_ms(body["to"], "to") if body.get("to") is not None else None
    try:
        tolerance = Tolerance(Decimal(str(body.get("tolerance", "0.01"))), Decimal(0))
    except InvalidOperation:
        raise InvalidRequest("tolerance must be a decimal such as 0.01",
                             param="tolerance") from None
    by = tuple(d.strip() for d in str(body.get("by", "org,project,model")).split(",") if d)
    try:
        grain = Grain(body.get("grain", "day"), by)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(str(exc), param="grain") from None
    adjust = body.get("adjust", False)
    if not isinstance(adjust, bool):
        raise InvalidRequest("adjust must be true or false", param="adjust")
    scope: Scope = key.scope
    state = request.app.state
    if getattr(state, "reconcile_metrics", None) is None:  # once per app and its registry
        state.reconcile_metrics = ReconcileMetrics(services.metrics.registry)
    metrics: ReconcileMetrics = state.reconcile_metrics

    def run() -> dict[str, Any]:
        report = reconcile(provider, files, StoreMeteredUsage(services.store, scope), mapping,
                           grain=grain, tolerance=tolerance, from_ms=lo, to_ms=hi)
        alert(report, SqlWebhookPublisher(services.store, scope, services.clock.now_ms),
              metrics)
        out = report.to_dict()
        if adjust:
            made = adjustments(report, tenant=scope.tenant, env=scope.env,
                               credit_value=mapping.credit_value,
                               cost_quantity=mapping.cost_quantity)
            out["adjustments"] = {"proposed": len(made),
                                  "new": LedgerAdjustmentSink(services.ledger, scope).apply(made)}
        return out

    return json_response(await run_in_threadpool(run))
