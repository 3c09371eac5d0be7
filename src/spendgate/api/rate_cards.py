"""Rate cards (immutable, scheduled versions) and quotes (dry-run pricing)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import schemas
from spendgate.api.auth import require_admin, require_read, require_service
from spendgate.api.charges import Pricer, org_rate_card
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import idempotent_write
from spendgate.api.openapi import body_doc, document
from spendgate.api.responses import json_response
from spendgate.domain.hierarchy import NodePath
from spendgate.domain.ids import check_id
from spendgate.errors import InvalidUsage, NotFound
from spendgate.pricing import quote, validate_new_version
from spendgate.stores.sql import SqlSession, dumps
from spendgate.tenancy import ApiKey, read_card

router = APIRouter(tags=["rate cards"])


@router.post("/v1/rate-cards/{card}/versions",
             **document("create rate card version", "Schedule a new, immutable version",
                        body_doc("RateCardVersionRequest"), "RateCardVersion", status=201))
async def create_version(card: str, request: Request, key: ApiKey = Depends(require_admin),
                         services: Services = Depends(get_services)) -> Response:
    check_id(card, "card")
    body = schemas.obj(await schemas.read_json(request))
    effective_ms, prices = schemas.rate_card_version(body)

    def write(tx: SqlSession, now_ms: int) -> tuple[int, Any]:
        existing = read_card(tx, key.scope, card)
        version = validate_new_version(card, prices, effective_ms,
                                       existing.versions if existing else (), now_ms)
        services.configuration.add_version(tx, key.scope, version, now_ms)
        audit(tx, key, now_ms, "rate_card.version_created", f"{card}/v{version.version}",
              version.to_dict())
        return 201, version.to_dict()

    written = await idempotent_write(request, services.store, key.scope, body, write,
                                     services.clock.now_ms)
    services.configuration.invalidate(key.scope)
    return written.response()


@router.get("/v1/rate-cards/{card}",
            **document("get rate card", "A rate card with all its versions", None, "RateCard"))
async def get_card(card: str, key: ApiKey = Depends(require_read),
                   services: Services = Depends(get_services)) -> Response:
    check_id(card, "card")

    def read() -> Any:
        with services.store.read() as tx:
            return read_card(tx, key.scope, card)

    found = await run_in_threadpool(read)
    if found is None:
        raise NotFound("rate card", card)
    return json_response(found.to_dict())


@router.post("/v1/quotes",
             **document("create quote", "Price a usage without holding anything",
                        body_doc("QuoteRequest"), "Quote", idempotent=False))
async def create_quote(request: Request, key: ApiKey = Depends(require_service),
                       services: Services = Depends(get_services)) -> Response:
    body = schemas.obj(await schemas.read_json(request))
    spec = schemas.quote(body)

    def price() -> dict[str, object]:
        settings = services.configuration.settings(key.scope)
        org_card = None
        if spec.org is not None:
            services.ledger.get_node(key.scope, NodePath(spec.org))  # 404 when unknown here
            org_card = org_rate_card(services.configuration, key.scope, spec.org)
        pricer = Pricer(services.configuration, key.scope, settings,
                        spec.rate_card or org_card)
        card = pricer.card("rate_card" if spec.rate_card else "usage")
        at = spec.at_ms if spec.at_ms is not None else services.clock.now_ms()
        try:
            version = card.version_at(at)
        except NotFound as exc:
            raise InvalidUsage(f"rate card {card.name!r} has no version in force then",
                               param="at") from exc
        return quote(version, spec.usage, spec.period_to_date).to_dict()

    return json_response(await run_in_threadpool(price))


def audit(tx: SqlSession, key: ApiKey, now_ms: int, action: str, target: str,
          doc: object) -> None:
    """Every configuration change leaves a line in the audit log, in its own transaction."""
    tx.execute("INSERT INTO audit_log (tenant, env, at_ms, actor, action, target, doc) "
               "VALUES (?,?,?,?,?,?,?)",
               (key.tenant, key.env, now_ms, key.key_id, action, target, dumps(doc)))
