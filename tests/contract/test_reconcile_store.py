"""Reconciliation against the live store: adjustments are journaled once, on every store."""

from __future__ import annotations

from pathlib import Path

import orjson

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import (
    AddGrant,
    DirectUsage,
    RecordUsage,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)
from spendgate.ledger.engine import Ledger
from spendgate.metering.events import UsageEvent
from spendgate.reconcile import adjustments, load_mapping, reconcile
from spendgate.reconcile.store import LedgerAdjustmentSink, StoreMeteredUsage
from spendgate.stores import open_store
from tests.unit.reconcile.conftest import DATA, read_pages, write_pages

S = Scope("acme-tenant", "live")


def _seed(ledger: Ledger) -> None:
    events = [UsageEvent.from_dict(orjson.loads(line))
              for line in (DATA / "metered_events.jsonl").read_bytes().splitlines() if line]
    for org in sorted({e.org for e in events}):
        ledger.upsert_org(S, UpsertOrg(org))
        ledger.add_grant(S, AddGrant(org, 10**15))
    for org, project, user in sorted({(e.org, e.project or "", e.user or "") for e in events}):
        if project:
            ledger.upsert_project(S, UpsertProject(org, project))
        if user:
            ledger.upsert_user(S, UpsertUser(org, project, user))
    for org in sorted({e.org for e in events}):
        mine = [e for e in events if e.org == org]
        ledger.record_usage(S, RecordUsage(org, tuple(
            DirectUsage(e.id, NodePath(org, e.project or "", e.user or ""), Charge(
                e.credits_nano, usage={"meter": e.meter, **e.dimensions, **e.quantities}),
                e.timestamp_ms) for e in mine)))


def test_adjustments_through_the_ledger_make_a_rerun_match_and_add_nothing(
        store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    mapping = load_mapping(DATA / "mapping.yaml")
    pages = read_pages("openai_usage_completions.jsonl")
    row = pages[0]["data"][1]["results"][2]
    row["output_tokens"] = row["output_tokens"] * 103 // 100  # the provider saw 3 % more
    files = [write_pages(tmp_path / "usage.jsonl", pages)]
    with Ledger(store) as ledger:
        _seed(ledger)
        metered = StoreMeteredUsage(store, S)
        first = reconcile("openai", files, metered, mapping)
        assert not first.ok
        made = adjustments(first, tenant=S.tenant, env=S.env)
        sink = LedgerAdjustmentSink(ledger, S)
        assert sink.apply(made) == len(made) >= 1
        second = reconcile("openai", files, StoreMeteredUsage(store, S), mapping)
        assert second.ok, "the journaled adjustments close the gap"
        assert sink.apply(made) == 0, "applying the same run again adds nothing"
        with store.read() as tx:
            kinds = {r[0] for r in tx.all("SELECT kind FROM journal WHERE ref LIKE ?",
                                          ("adj_%",))}
        assert kinds == {"adjustment"}
        assert ledger.verify() == []
    store.close()


def test_the_cli_reconciles_against_the_database_and_adjusts_once(
        store_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from spendgate.cli_reconcile import app

    store = open_store(store_url)
    with Ledger(store) as ledger:
        _seed(ledger)
    store.close()
    pages = read_pages("openai_usage_completions.jsonl")
    pages[0]["data"][1]["results"][2]["output_tokens"] += 1000
    drifted = write_pages(tmp_path / "usage.jsonl", pages)
    args = ["openai", str(drifted.path), "--mapping", str(DATA / "mapping.yaml"),
            "--database-url", store_url, "--format", "json"]
    runner = CliRunner()
    first = runner.invoke(app, [*args, "--adjust"])
    assert first.exit_code == 1, first.output  # discrepancies found (and adjusted)
    assert "1 new event" in first.stderr
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
