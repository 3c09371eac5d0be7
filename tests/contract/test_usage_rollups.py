"""Rollups answer exactly what a scan of the events would, on every store."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.money import format_credits
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import (
    DirectUsage,
    RecordUsage,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.ledger.engine import Ledger
from spendgate.metering import rollups
from spendgate.stores import open_store

S = Scope("acme-inc", "live")
DAY0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def _events(rng: random.Random) -> list[DirectUsage]:
    out = []
    for i in range(400):
        project, user = rng.choice([("p1", "a"), ("p1", "b"), ("p2", "c")])
        usage: dict[str, Any] = {"meter": rng.choice(["llm", "video"]),
                                 "model": rng.choice(["gpt-4o", "veo-3", "claude"])}
        usage["output_tokens" if usage["meter"] == "llm" else "seconds"] = rng.randint(0, 5000)
        if rng.random() < 0.3:  # fractional quantities arrive as Decimal, as the API sends them
            usage["seconds"] = Decimal("2.5")
        out.append(DirectUsage(f"e{i}", NodePath("acme", project, user),
                               Charge(rng.randint(0, 10**9), usage=usage),
                               timestamp_ms=DAY0 + rng.randint(0, 3 * 86_400_000)))
    return out


def _oracle(events: list[DirectUsage], groups: tuple[str, ...],
            lo: int, hi: int) -> list[dict[str, Any]]:
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for ev in events:
        ts = ev.timestamp_ms or 0
        if not lo <= ts < hi:
            continue
        usage = ev.charge.usage or {}
        values = {"org": "acme", "project": ev.path.project, "user": ev.path.user,
                  "meter": usage["meter"], "model": usage["model"],
                  "day": datetime.fromtimestamp(ts // 1000, UTC).date().isoformat()}
        row = totals.setdefault(tuple(values[g] for g in groups),
                                {"events": 0, "credits": 0, "q": defaultdict(Decimal)})
        row["events"] += 1
        row["credits"] += ev.charge.credits
        for k, v in usage.items():
            if k not in ("meter", "model"):
                row["q"][k] += Decimal(v)
    return [{**dict(zip(groups, g, strict=True)), "events": r["events"],
             "credits": format_credits(r["credits"]),
             "quantities": {k: format(v.normalize(), "f") for k, v in sorted(r["q"].items())}}
            for g, r in sorted(totals.items(), key=lambda kv: [str(v) for v in kv[0]])]


@pytest.mark.parametrize("groups", [(), ("model", "day"), ("project", "user", "meter"),
                                    ("day",)])
def test_rollup_reports_equal_a_scan_of_the_events(store_url: str,
                                                    groups: tuple[str, ...]) -> None:
    store = open_store(store_url)
    events = _events(random.Random(5))
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme"))
        for p, u in (("p1", "a"), ("p1", "b"), ("p2", "c")):
            ledger.upsert_project(S, UpsertProject("acme", p))
            ledger.upsert_user(S, UpsertUser("acme", p, u))
        for start in range(0, len(events), 100):
            ledger.record_usage(S, RecordUsage("acme", tuple(events[start:start + 100])))
    lo, hi = DAY0 + 3_600_000, DAY0 + 2 * 86_400_000
    with store.read() as tx:
        got = rollups.report(tx, S, NodePath("acme"), lo, hi, groups)
        everything = rollups.report(tx, S, NodePath(""), None, None, ())
    assert got == _oracle(events, groups, lo, hi)
    assert everything[0]["events"] == 400
    store.close()


def test_the_usage_endpoint_answers_from_rollups_exactly_as_from_the_events(
        store_url: str) -> None:
    from types import SimpleNamespace

    from spendgate.api import usage

    store = open_store(store_url)
    events = _events(random.Random(9))
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme"))
        for p, u in (("p1", "a"), ("p1", "b"), ("p2", "c")):
            ledger.upsert_project(S, UpsertProject("acme", p))
            ledger.upsert_user(S, UpsertUser("acme", p, u))
        ledger.record_usage(S, RecordUsage("acme", tuple(events)))
    services = SimpleNamespace(store=store)
    for groups in [("model", "day"), ("project", "meter"), ()]:
        fast = usage.aggregate(services, S, NodePath("acme"), DAY0, DAY0 + 86_400_000 * 2,
                               groups, None, None)  # type: ignore[arg-type]
        slow = usage.scan(services, S, NodePath("acme"), DAY0, DAY0 + 86_400_000 * 2,
                          groups, None, None)  # type: ignore[arg-type]
        assert fast == slow
    store.close()
