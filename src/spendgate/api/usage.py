"""Direct usage (no hold) and usage reports.

POST groups events by org: each org's events are one ledger command, durable and charged
before the answer. Every org and node named is checked first, so a bad event refuses the
whole call and nothing is recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from spendgate.api import schemas
from spendgate.api.auth import require_read, require_service
from spendgate.api.charges import Pricer, needs_pricing, org_rate_card, pricing_in_order
from spendgate.api.context import Services, get_services
from spendgate.api.idempotency import idempotency_key, request_fingerprint
from spendgate.api.openapi import body_doc, document
from spendgate.api.responses import json_response
from spendgate.domain.clock import rfc3339_to_ms
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.ids import check_id
from spendgate.domain.money import format_credits
from spendgate.domain.reservations import Charge
from spendgate.errors import InvalidRequest
from spendgate.ledger.commands import DirectUsage, Idem, RecordUsage
from spendgate.ledger.committer import Outcome
from spendgate.metering import rollups
from spendgate.stores.sql import loads
from spendgate.tenancy import ApiKey

router = APIRouter(tags=["usage"])

GROUPS = ("org", "project", "user", "meter", "model", "day")
MAX_REPORT_ROWS = 10_000


@router.post("/v1/usage",
             **document("record usage", "Record usage that happened (no hold); durable and "
                        "charged before the answer", body_doc("UsageRequest"), "UsageAccepted",
                        status=202))
async def record_usage(request: Request, key: ApiKey = Depends(require_service),
                       services: Services = Depends(get_services)) -> Response:
    body = schemas.obj(await schemas.read_json(request))
    events = schemas.usage_events(body)
    now = services.clock.now_ms()

    def prepare() -> dict[str, list[DirectUsage]]:
        by_org: dict[str, list[DirectUsage]] = defaultdict(list)
        pricers: dict[str, Pricer] = {}
        settings = services.configuration.settings(key.scope)
        for path in dict.fromkeys(e.path for e in events):
            services.ledger.get_node(key.scope, path)  # 404 before anything is recorded
        for i, ev in enumerate(events):
            if needs_pricing([ev.choice]) and ev.path.org not in pricers:
                pricers[ev.path.org] = Pricer(services.configuration, key.scope, settings,
                                              org_rate_card(services.configuration, key.scope,
                                                            ev.path.org), org=ev.path.org)
            charge = (Charge(ev.choice.amount) if ev.choice.amount is not None else
                      pricers[ev.path.org].of(ev.choice, ev.timestamp_ms or now,
                                              f"events[{i}].usage"))
            by_org[ev.path.org].append(DirectUsage(ev.id, ev.path, charge, ev.timestamp_ms))
        return by_org

    key_text = idempotency_key(request)
    fp = request_fingerprint(request, body) if key_text is not None else ""

    def idem(org: str) -> Idem | None:  # an org's share of the key is key + org
        return None if key_text is None else Idem(f"{key_text}\x1f{org}", fp)

    def record(by_org: dict[str, list[DirectUsage]]) -> list[Outcome]:
        return [services.ledger.execute(key.scope, RecordUsage(org, tuple(by_org[org])),
                                        idem(org)) for org in sorted(by_org)]

    def price_and_record() -> list[Outcome]:
        # Priced usage is charged after the month so far: read it and record under the
        # orgs' pricing locks, or concurrent requests would all start from the same figure.
        with pricing_in_order(key.scope, {e.path.org for e in events}):
            return record(prepare())

    if any(needs_pricing([ev.choice]) for ev in events):
        outcomes = await run_in_threadpool(price_and_record)
    else:  # amounts only: nothing to price, so nothing to serialize
        by_org = await run_in_threadpool(prepare)
        outcomes = [await services.ledger.aexecute(
            key.scope, RecordUsage(org, tuple(by_org[org])), idem(org))
            for org in sorted(by_org)]  # one command per org, in a fixed order
    accepted = sum(o.value[0] for o in outcomes)
    duplicates = sum(o.value[1] for o in outcomes)
    replayed = key_text is not None and all(o.replayed for o in outcomes)
    return json_response({"accepted": accepted, "duplicates": duplicates}, 202,
                         replayed=replayed)


@dataclass(slots=True)
class _Row:
    events: int = 0
    credits: int = 0
    quantities: dict[str, Decimal] = field(default_factory=dict)


@router.get("/v1/usage",
            **document("usage report", "Usage totals, grouped by org, project, user, meter, "
                       "model and/or day", None, "UsageReport"))
async def usage_report(org: str | None = None, project: str | None = None,
                       user: str | None = None, meter: str | None = None,
                       model: str | None = None,
                       from_: str | None = Query(default=None, alias="from"),
                       to: str | None = None, group_by: str | None = None,
                       key: ApiKey = Depends(require_read),
                       services: Services = Depends(get_services)) -> Response:
    start = from_
    groups = _groups(group_by)
    filters = _filters(org, project, user)
    lo = None if start is None else rfc3339_to_ms(start, "from")
    hi = None if to is None else rfc3339_to_ms(to, "to")
    if lo is not None and hi is not None and hi < lo:
        raise InvalidRequest("to must not be before from", param="to")

    def read() -> list[dict[str, Any]]:
        if filters.org:
            services.ledger.get_node(key.scope, filters)
        return aggregate(services, key.scope, filters, lo, hi, groups, meter, model)

    rows = await run_in_threadpool(read)
    return json_response({"data": rows, "has_more": False, "next_cursor": None})


def _groups(group_by: str | None) -> tuple[str, ...]:
    if not group_by:
        return ()
    names = tuple(dict.fromkeys(g.strip() for g in group_by.split(",") if g.strip()))
    for name in names:
        if name not in GROUPS:
            raise InvalidRequest(f"group_by accepts {', '.join(GROUPS)}", param="group_by")
    return names


def _filters(org: str | None, project: str | None, user: str | None) -> NodePath:
    if (project or user) and not org:
        raise InvalidRequest("filtering by project or user needs org", param="org")
    if user and not project:
        raise InvalidRequest("filtering by user needs project", param="project")
    return NodePath(check_id(org, "org") if org else "",
                    check_id(project, "project") if project else "",
                    check_id(user, "user") if user else "")


def aggregate(services: Services, scope: Scope, path: NodePath, lo: int | None,
              hi: int | None, groups: tuple[str, ...], meter: str | None,
              model: str | None) -> list[dict[str, Any]]:
    """Sum events by the requested groups: events, credits (9 dp) and each quantity.

    Whole-hour periods are answered from the hourly rollups the ledger keeps in the same
    transaction as the events; any other period is summed from the events themselves.
    """
    if rollups.aligned(lo) and rollups.aligned(hi):
        with services.store.read() as tx:
            try:
                return rollups.report(tx, scope, path, lo, hi, groups, meter, model,
                                      max_rows=MAX_REPORT_ROWS)
            except OverflowError:
                raise InvalidRequest(f"the report has more than {MAX_REPORT_ROWS} rows; narrow "
                                     "it with from/to or fewer groups", param="group_by") from None
    return scan(services, scope, path, lo, hi, groups, meter, model)


def scan(services: Services, scope: Scope, path: NodePath, lo: int | None, hi: int | None,
         groups: tuple[str, ...], meter: str | None, model: str | None) -> list[dict[str, Any]]:
    """The same report summed from the events (exact for any period, slower)."""
    sql = ("SELECT org, project, user_id, meter, ts_ms, credits, doc FROM usage_events "
           "WHERE tenant=? AND env=?")
    params: list[Any] = [scope.tenant, scope.env]
    for column, value in (("org", path.org), ("project", path.project),
                          ("user_id", path.user), ("meter", meter or "")):
        if value:
            sql += f" AND {column}=?"
            params.append(value)
    if lo is not None:
        sql += " AND ts_ms >= ?"
        params.append(lo)
    if hi is not None:
        sql += " AND ts_ms < ?"
        params.append(hi)
    totals: dict[tuple[Any, ...], _Row] = {}
    with services.store.read() as tx:
        rows = tx.all(sql + " ORDER BY ts_ms", params)
    for ev_org, ev_project, ev_user, ev_meter, ts, credits, doc in rows:
        data = loads(doc)
        ev_model = (data.get("dimensions") or {}).get("model")
        if model is not None and ev_model != model:
            continue
        values = {"org": ev_org, "project": ev_project or None, "user": ev_user or None,
                  "meter": ev_meter, "model": ev_model, "day": _day(ts)}
        group = tuple(values[g] for g in groups)
        row = totals.setdefault(group, _Row())
        if row.events == 0 and len(totals) > MAX_REPORT_ROWS:
            raise InvalidRequest(f"the report has more than {MAX_REPORT_ROWS} rows; narrow "
                                 "it with from/to or fewer groups", param="group_by")
        row.events += 1
        row.credits += int(credits)
        for name, value in (data.get("quantities") or {}).items():
            row.quantities[name] = row.quantities.get(name, Decimal(0)) + Decimal(value)
    out = []
    for group, row in sorted(totals.items(), key=lambda kv: [str(v) for v in kv[0]]):
        entry: dict[str, Any] = dict(zip(groups, group, strict=True))
        entry.update(events=row.events, credits=format_credits(row.credits),
                     quantities={k: format(v.normalize(), "f") for k, v in
                                 sorted(row.quantities.items())})
        out.append(entry)
    return out


def _day(ms: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).date().isoformat()
