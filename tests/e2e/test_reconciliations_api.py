"""POST /v1/reconciliations: the provider export in, a report and an alert out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import orjson
import pytest
import yaml

from spendgate.bootstrap import optional_routers
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import DirectUsage, RecordUsage, UpsertOrg, UpsertProject
from spendgate.metering.events import UsageEvent
from spendgate.stores.webhooks import SqlDeliveryLog
from tests.e2e.harness import Harness, harness
from tests.unit.reconcile.conftest import DATA, read_pages


@pytest.fixture
def web(sqlite_url: str) -> Iterator[Harness]:
    with harness(sqlite_url, routers=optional_routers()) as h:
        yield h


def _seed(h: Harness) -> Scope:
    scope = Scope("acme", "live")  # the harness tenant behind acme-live-admin
    events = [UsageEvent.from_dict(orjson.loads(x))
              for x in (DATA / "metered_events.jsonl").read_bytes().splitlines() if x]
    ledger = h.runtime.ledger
    for org in sorted({e.org for e in events}):
        ledger.upsert_org(scope, UpsertOrg(org))
        for project in sorted({e.project for e in events if e.org == org and e.project}):
            ledger.upsert_project(scope, UpsertProject(org, project))
        ledger.record_usage(scope, RecordUsage(org, tuple(
            DirectUsage(e.id, NodePath(org, e.project or ""), Charge(
                e.credits_nano, usage={"meter": e.meter, **e.dimensions, **e.quantities}),
                e.timestamp_ms) for e in events if e.org == org)))
    return scope


def test_a_drifted_export_is_reported_alerted_and_adjusted_once(web: Harness) -> None:
    scope = _seed(web)
    pages = read_pages("openai_usage_completions.jsonl")
    pages[0]["data"][1]["results"][2]["output_tokens"] += 5000
    content = "\n".join(json.dumps(p) for p in pages)
    mapping = yaml.safe_load((DATA / "mapping.yaml").read_text())
    body = {"provider": "openai", "files": [{"name": "usage.jsonl", "content": content}],
            "mapping": mapping, "adjust": True}
    report = web.ok("POST", "/v1/reconciliations", body)
    assert report["ok"] is False and report["adjustments"]["new"] >= 1
    alerts = SqlDeliveryLog(web.runtime.store).events(scope, "reconciliation.discrepancy")
    assert len(alerts) == 1
    again = web.ok("POST", "/v1/reconciliations", {**body, "adjust": False})
    assert again["ok"] is True, "the journaled adjustments close the gap"
    bad = web.call("POST", "/v1/reconciliations", {**body, "files": [
        {"name": "cut.jsonl", "content": content[:200]}]})
    assert bad.status_code in (400, 422) and "cut.jsonl" in bad.json()["error"]["message"]
    assert web.call("POST", "/v1/reconciliations", body,
                    who="acme-live-read").status_code == 403
