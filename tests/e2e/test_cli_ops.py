"""Operator commands over a real database: sinks, export, webhooks test."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from spendgate.cli import app
from spendgate.domain.hierarchy import NodePath, Scope
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import DirectUsage, RecordUsage, UpsertOrg
from spendgate.ledger.engine import Ledger
from spendgate.sinks import SinkConfig
from spendgate.sinks.stubs import LagoStub
from spendgate.stores import open_store
from spendgate.stores.sinks import SinkRepository

S = Scope("default", "live")
T0 = 1_767_225_600_000


def _seed(url: str, base_url: str | None = None) -> None:
    store = open_store(url)
    if base_url:
        SinkRepository(store).put(S, SinkConfig.parse("lago", {
            "type": "lago", "api_key": "lg", "base_url": base_url}), 0)
    with Ledger(store) as ledger:
        ledger.upsert_org(S, UpsertOrg("acme"))
        ledger.record_usage(S, RecordUsage("acme", tuple(
            DirectUsage(f"e{i}", NodePath("acme"), Charge(10**8, usage={
                "meter": "llm", "model": "gpt-4o", "output_tokens": i}), T0 + i)
            for i in range(25))))
    store.close()


def test_sinks_run_once_delivers_and_replay_and_redrive_report_counts(sqlite_url: str) -> None:
    stub = LagoStub(api_key="lg")
    with stub.serve() as base_url:
        _seed(sqlite_url, base_url)
        runner = CliRunner()
        ran = runner.invoke(app, ["sinks", "run", "--once", "--database-url", sqlite_url])
        assert ran.exit_code == 0, ran.output
        assert len(stub.accepted()) == 25
        replay = runner.invoke(app, ["sinks", "replay", "lago", "--from",
                                     "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z",
                                     "--database-url", sqlite_url])
        assert replay.exit_code == 0 and "queued 25 event(s)" in replay.output
        bad = runner.invoke(app, ["sinks", "replay", "lago", "--from", "yesterday", "--to",
                                  "2026-01-02T00:00:00Z", "--database-url", sqlite_url])
        assert bad.exit_code == 2
        missing = runner.invoke(app, ["sinks", "redrive", "nope", "--database-url", sqlite_url])
        assert missing.exit_code == 2 and "no such sink" in missing.output


def test_export_usage_writes_csv_to_stdout_and_parquet_to_a_file(sqlite_url: str,
                                                                 tmp_path: Path) -> None:
    _seed(sqlite_url)
    runner = CliRunner()
    done = runner.invoke(app, ["export", "usage", "--from", "2026-01-01T00:00:00Z", "--to",
                               "2026-01-01T00:00:00.010Z", "--database-url", sqlite_url])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["id"] for r in rows] == [f"e{i}" for i in range(10)]
    parquet = runner.invoke(app, ["export", "usage", "--from", "2026-01-01T00:00:00Z", "--to",
                                  "2026-01-02T00:00:00Z", "--format", "parquet",
                                  "--database-url", sqlite_url])
    assert parquet.exit_code == 2, "parquet needs --output"
    written = runner.invoke(app, ["export", "usage", "--from", "2026-01-01T00:00:00Z", "--to",
                                  "2026-01-02T00:00:00Z", "--format", "parquet", "--output",
                                  str(tmp_path / "u.parquet"), "--database-url", sqlite_url])
    assert written.exit_code == 0 and (tmp_path / "u.parquet").stat().st_size > 0


def test_a_sink_from_a_config_file_and_an_endpoint_from_the_command_line(
        sqlite_url: str, tmp_path: Path) -> None:
    config = tmp_path / "sink.yaml"
    config.write_text("type: metronome\napi_key: mk\nbase_url: http://127.0.0.1:9\n"
                      "event_names: {llm: llm_tokens}\n")
    runner = CliRunner()
    made = runner.invoke(app, ["sinks", "put", "metronome", "--file", str(config),
                               "--database-url", sqlite_url])
    assert made.exit_code == 0 and "created sink metronome" in made.output
    store = open_store(sqlite_url)
    assert SinkRepository(store).get(S, "metronome").event_name("llm") == "llm_tokens"
    store.close()
    config.write_text("type: metronome\nbase_url: 12\n")
    bad = runner.invoke(app, ["sinks", "put", "metronome", "--file", str(config),
                              "--database-url", sqlite_url])
    assert bad.exit_code == 2 and "base_url" in bad.output

    put = runner.invoke(app, ["webhooks", "put", "ops", "--url", "http://127.0.0.1:9/h",
                              "--events", "org.suspended,limit.exceeded",
                              "--database-url", sqlite_url])
    assert put.exit_code == 0 and put.stdout.strip().startswith("whsec_")
    listed = runner.invoke(app, ["webhooks", "list", "--database-url", sqlite_url])
    assert "ops" in listed.output and "whsec_" not in listed.output
    ping = runner.invoke(app, ["webhooks", "test", "ops", "--database-url", sqlite_url])
    assert ping.exit_code == 1 and "ping failed" in ping.output
    wrong = runner.invoke(app, ["webhooks", "put", "x", "--url", "http://h", "--events",
                                "nope", "--database-url", sqlite_url])
    assert wrong.exit_code == 2
