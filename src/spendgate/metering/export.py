"""Export usage events for a period: CSV, JSON Lines or Parquet, streamed page by page."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from spendgate.domain.hierarchy import Scope
from spendgate.metering.events import UsageEvent
from spendgate.stores.port import Store
from spendgate.stores.sql import loads

FORMATS = ("csv", "jsonl", "parquet")
COLUMNS = ("id", "org", "project", "user", "meter", "model", "timestamp", "credits",
           "quantities", "dimensions", "reservation_id", "rate_card", "rate_card_version",
           "kind")
PAGE = 5000


def events(store: Store, scope: Scope, lo: int, hi: int,
           org: str | None = None) -> Iterator[UsageEvent]:
    """Events with lo <= timestamp < hi in time order, read in keyset pages (constant memory)."""
    after: tuple[int, str] = (lo - 1, "")
    while True:
        sql = ("SELECT ts_ms, event_id, doc FROM usage_events WHERE tenant=? AND env=? "
               "AND ts_ms < ? AND (ts_ms > ? OR (ts_ms = ? AND event_id > ?))")
        params: list[Any] = [scope.tenant, scope.env, hi, after[0], after[0], after[1]]
        if org:
            sql += " AND org=?"
            params.append(org)
        with store.read() as tx:
            rows = tx.all(sql + " ORDER BY ts_ms, event_id LIMIT ?", [*params, PAGE])
        for _, _, doc in rows:
            yield UsageEvent.from_dict(loads(doc))
        if len(rows) < PAGE:
            return
        after = (rows[-1][0], rows[-1][1])


def count(store: Store, scope: Scope, lo: int, hi: int, org: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM usage_events WHERE tenant=? AND env=? AND ts_ms >= ? AND ts_ms < ?"
    params: list[Any] = [scope.tenant, scope.env, lo, hi]
    if org:
        sql += " AND org=?"
        params.append(org)
    with store.read() as tx:
        return int(tx.one(sql, params)[0])


def row_of(ev: UsageEvent) -> dict[str, Any]:
    d = ev.to_dict()
    return {
        "id": ev.id, "org": ev.org, "project": ev.project or "", "user": ev.user or "",
        "meter": ev.meter, "model": ev.dimensions.get("model", ""), "timestamp": d["timestamp"],
        "credits": d["credits"], "quantities": json.dumps(d["quantities"], sort_keys=True),
        "dimensions": json.dumps(d["dimensions"], sort_keys=True),
        "reservation_id": ev.reservation_id or "", "rate_card": ev.rate_card or "",
        "rate_card_version": "" if ev.rate_card_version is None else str(ev.rate_card_version),
        "kind": ev.kind,
    }


def export(store: Store, scope: Scope, lo: int, hi: int, fmt: str, out: Path | TextIO,
           *, org: str | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write the period's events to `out` (a path; csv/jsonl may also go to a stream)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    written = 0
    stream = events(store, scope, lo, hi, org)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not isinstance(out, Path):
            raise ValueError("parquet needs a file path (--output)")
        schema = pa.schema([(c, pa.string()) for c in COLUMNS])
        with pq.ParquetWriter(out, schema) as writer:
            batch: list[dict[str, Any]] = []
            for ev in stream:
                batch.append(row_of(ev))
                if len(batch) == PAGE:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    written += len(batch)
                    batch = []
                    if progress:
                        progress(written)
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                written += len(batch)
        if progress:
            progress(written)
        return written
    handle = out.open("w", newline="") if isinstance(out, Path) else out
    try:
        writer_csv = csv.DictWriter(handle, fieldnames=COLUMNS) if fmt == "csv" else None
        if writer_csv:
            writer_csv.writeheader()
        for ev in stream:
            if writer_csv:
                writer_csv.writerow(row_of(ev))
            else:
                handle.write(json.dumps(ev.to_dict(), sort_keys=True) + "\n")
            written += 1
            if progress and written % PAGE == 0:
                progress(written)
        if progress:
            progress(written)
    finally:
        if isinstance(out, Path):
            handle.close()
    return written
