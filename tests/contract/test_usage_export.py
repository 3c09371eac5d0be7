"""Exports stream every event of the period once, in order, in each format."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import DirectUsage, RecordUsage, UpsertOrg, UpsertProject
from spendgate.ledger.engine import Ledger
from spendgate.metering import export
from spendgate.stores import open_store

S = Scope("acme-inc", "live")
T0 = 1_767_225_600_000


def test_csv_jsonl_and_parquet_exports_hold_every_event_of_the_period_once(
        store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    n = export.PAGE * 2 + 17  # crosses page boundaries, with many equal timestamps
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme"))
        ledger.upsert_project(S, UpsertProject("acme", "p"))
        for start in range(0, n + 50, 1000):
            ledger.record_usage(S, RecordUsage("acme", tuple(
                DirectUsage(f"e{i:06d}", NodePath("acme", "p"), Charge(
                    i, usage={"meter": "llm", "model": "gpt-4o", "output_tokens": i}),
                    timestamp_ms=T0 + i // 7) for i in range(start, min(start + 1000, n + 50)))))
    hi = T0 + n // 7 + (1 if n % 7 else 0)  # events e0 .. e(n-1) plus a few of the next ms
    expected = [f"e{i:06d}" for i in range(n + 50) if T0 + i // 7 < hi]
    seen: list[int] = []
    assert export.export(store, S, T0, hi, "csv", tmp_path / "u.csv",
                         progress=seen.append) == len(expected)
    with (tmp_path / "u.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == expected
    assert sum(Decimal(r["credits"]) for r in rows) == Decimal(sum(
        int(e[1:]) for e in expected)) / 10**9
    assert seen[-1] == len(expected)

    export.export(store, S, T0, hi, "jsonl", tmp_path / "u.jsonl")
    lines = (tmp_path / "u.jsonl").read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == expected

    export.export(store, S, T0, hi, "parquet", tmp_path / "u.parquet")
    table = pq.read_table(tmp_path / "u.parquet")
    assert table.column("id").to_pylist() == expected
    store.close()
