"""Hourly usage rollups: what `GET /v1/usage` reads instead of scanning every event.

Rows are added in the same transaction as the events they count, so a report never
disagrees with the events. Buckets are UTC hours; a day is 24 of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.money import format_credits, quantity_to_nano
from spendgate.metering.events import UsageEvent
from spendgate.stores.sql import SqlSession

HOUR_MS = 3_600_000
EVENTS, CREDITS = "#events", "#credits"
GROUPS = ("org", "project", "user", "meter", "model", "day", "hour")

RollupKey = tuple[str, str, str, str, str, str, str, int, str]


def rollup_rows(events: Iterable[UsageEvent]) -> list[tuple[Any, ...]]:
    """One row per (node, meter, model, hour, quantity) for a batch of new events."""
    sums: dict[RollupKey, int] = defaultdict(int)
    for ev in events:
        base = (ev.tenant, ev.env, ev.org, ev.project or "", ev.user or "", ev.meter,
                ev.dimensions.get("model", ""), ev.timestamp_ms - ev.timestamp_ms % HOUR_MS)
        sums[(*base, EVENTS)] += 1
        sums[(*base, CREDITS)] += ev.credits_nano
        for name, value in ev.quantities.items():
            sums[(*base, name)] += quantity_to_nano(value, field=name)
    return [(*key, amount) for key, amount in sums.items()]


UPSERT = ("INSERT INTO usage_rollups (tenant, env, org, project, user_id, meter, model, hour_ms,"
          " quantity, amount) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (tenant, env, org, "
          "hour_ms, project, user_id, meter, model, quantity) DO UPDATE SET "
          "amount = usage_rollups.amount + excluded.amount")


def aligned(ms: int | None) -> bool:
    return ms is None or ms % HOUR_MS == 0


def report(tx: SqlSession, scope: Scope, path: NodePath, lo: int | None, hi: int | None,
           groups: Sequence[str], meter: str | None = None, model: str | None = None,
           max_rows: int = 10_000) -> list[dict[str, Any]]:
    """Totals by `groups` over [lo, hi), which must fall on hour boundaries."""
    if not (aligned(lo) and aligned(hi)):
        raise ValueError("rollups answer whole hours only")
    sql = ("SELECT org, project, user_id, meter, model, hour_ms, quantity, SUM(amount) "
           "FROM usage_rollups WHERE tenant=? AND env=?")
    params: list[Any] = [scope.tenant, scope.env]
    for column, value in (("org", path.org), ("project", path.project),
                          ("user_id", path.user), ("meter", meter), ("model", model)):
        if value:
            sql += f" AND {column}=?"
            params.append(value)
    if lo is not None:
        sql += " AND hour_ms >= ?"
        params.append(lo)
    if hi is not None:
        sql += " AND hour_ms < ?"
        params.append(hi)
    sql += " GROUP BY org, project, user_id, meter, model, hour_ms, quantity"
    totals: dict[tuple[Any, ...], dict[str, int]] = {}
    for org, project, user, ev_meter, ev_model, hour, quantity, amount in tx.all(sql, params):
        values = {"org": org, "project": project or None, "user": user or None,
                  "meter": ev_meter, "model": ev_model or None, "day": _day(hour),
                  "hour": _hour(hour)}
        group = tuple(values[g] for g in groups)
        row = totals.setdefault(group, defaultdict(int))
        if len(totals) > max_rows:
            raise OverflowError(max_rows)
        row[quantity] += int(amount)
    out = []
    for group, row in sorted(totals.items(), key=lambda kv: [str(v) for v in kv[0]]):
        entry: dict[str, Any] = dict(zip(groups, group, strict=True))
        entry["events"] = row.pop(EVENTS, 0)
        entry["credits"] = format_credits(row.pop(CREDITS, 0))
        entry["quantities"] = {k: _quantity(v) for k, v in sorted(row.items())}
        out.append(entry)
    return out


def _quantity(billionths: int) -> str:
    return format(Decimal(billionths).scaleb(-9).normalize(), "f")


def _day(ms: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).date().isoformat()


def _hour(ms: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).strftime(
        "%Y-%m-%dT%H:00:00Z")
