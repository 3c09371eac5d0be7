from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from spendgate.cli_reconcile import EXIT_BAD_INPUT, EXIT_DISCREPANCIES, EXIT_MATCHED, app

from .conftest import DATA, read_pages, write_pages

runner = CliRunner()
COMMON = ["--metered", str(DATA / "metered_events.jsonl"), "--mapping", str(DATA / "mapping.yaml")]


def _drifted(tmp_path: Path) -> Path:
    pages = read_pages("openai_usage_completions.jsonl")
    pages[0]["data"][0]["results"][0]["output_tokens"] += 10_000
    write_pages(tmp_path / "usage.jsonl", pages)
    return tmp_path / "usage.jsonl"


def test_matching_exports_exit_zero_with_a_readable_summary() -> None:
    result = runner.invoke(app, ["openai", str(DATA / "openai_usage_completions.jsonl"),
                                 str(DATA / "openai_usage_images.json"),
                                 str(DATA / "openai_costs.json"), *COMMON])
    assert result.exit_code == EXIT_MATCHED, result.output
    assert "groups 30: matched 30" in result.stdout
    assert "all matched within tolerance" in result.stdout


def test_every_provider_command_reconciles_its_sample() -> None:
    for command, names in (("anthropic", ["anthropic_usage_messages.json",
                                          "anthropic_cost_report.json"]),
                           ("csv", ["videogen_usage.csv"])):
        result = runner.invoke(app, [command, *[str(DATA / n) for n in names], *COMMON])
        assert result.exit_code == EXIT_MATCHED, (command, result.output)


def test_discrepancies_exit_one_and_show_the_group(tmp_path: Path) -> None:
    result = runner.invoke(app, ["openai", str(_drifted(tmp_path)), *COMMON])
    assert result.exit_code == EXIT_DISCREPANCIES
    assert "gpt-4o" in result.stdout and "under" in result.stdout
    assert "output_tokens" in result.stdout


def test_json_format_is_the_report_object(tmp_path: Path) -> None:
    result = runner.invoke(app, ["openai", str(_drifted(tmp_path)), *COMMON,
                                 "--format", "json", "--from", "2025-11-01",
                                 "--to", "2025-11-04T00:00:00Z"])
    assert result.exit_code == EXIT_DISCREPANCIES
    report = json.loads(result.stdout)
    assert report["object"] == "reconciliation" and report["ok"] is False
    assert report["from"] == "2025-11-01T00:00:00.000Z"
    [bad] = [g for g in report["groups"] if g["status"] != "matched"]
    assert bad["period"] == "2025-11-01T00:00:00.000Z"
    assert {m["name"]: m["difference"] for m in bad["measures"]}["output_tokens"] == "-10000"


def test_csv_format_has_one_line_per_group_and_measure() -> None:
    result = runner.invoke(app, ["csv", str(DATA / "videogen_usage.csv"), *COMMON,
                                 "--format", "csv"])
    assert result.exit_code == EXIT_MATCHED
    lines = result.stdout.splitlines()
    assert lines[0].startswith("period,org,project,model,meter,status,measure")
    assert len(lines) == 1 + 6 * 2 + 6  # video groups x (requests, seconds) + cost groups


def test_bad_input_exits_two_naming_the_file_and_line_and_writes_nothing(
    tmp_path: Path,
) -> None:
    truncated = tmp_path / "costs.json"
    truncated.write_bytes((DATA / "openai_costs.json").read_bytes()[:700])
    journal = tmp_path / "adjustments.jsonl"
    result = runner.invoke(app, ["openai", str(truncated), *COMMON, "--adjust",
                                 "--adjustments", str(journal)])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "costs.json" in result.stderr and ": line 8: " in result.stderr
    assert not journal.exists()


def test_adjust_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    journal = tmp_path / "adjustments.jsonl"
    args = ["openai", str(_drifted(tmp_path)), *COMMON, "--adjust", "--adjustments", str(journal)]
    first = runner.invoke(app, args)
    assert first.exit_code == EXIT_DISCREPANCIES
    assert "1 new event(s)" in first.stderr
    lines = journal.read_text().splitlines()
    second = runner.invoke(app, args)
    assert second.exit_code == EXIT_MATCHED, second.output
    assert "0 new event(s)" in second.stderr
    assert journal.read_text().splitlines() == lines


def test_adjust_without_a_journal_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["openai", str(_drifted(tmp_path)), *COMMON, "--adjust"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--adjustments" in result.stderr


def test_vendor_totals_compare_per_org_and_meter(tmp_path: Path) -> None:
    totals = tmp_path / "vendor.jsonl"
    totals.write_text(json.dumps({"org": "globex", "meter": "llm",
                                  "quantities": {"output_tokens": "1"}}) + "\n")
    result = runner.invoke(app, ["vendor", str(totals), "--metered",
                                 str(DATA / "metered_events.jsonl"), "--from", "2025-11-01",
                                 "--to", "2025-11-04", "--format", "json"])
    assert result.exit_code == EXIT_DISCREPANCIES
    report = json.loads(result.stdout)
    globex = [g for g in report["groups"] if g["org"] == "globex"]
    assert globex[0]["status"] == "over"


def test_a_naive_from_time_is_refused() -> None:
    result = runner.invoke(app, ["openai", str(DATA / "openai_usage_images.json"), *COMMON,
                                 "--from", "2025-11-01T00:00:00"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "time zone" in result.stderr


def test_two_jobs_give_the_same_json_report(tmp_path: Path) -> None:
    args = ["openai", str(_drifted(tmp_path)), *COMMON, "--format", "json",
            "--from", "2025-11-01", "--to", "2025-11-04"]
    one = runner.invoke(app, args)
    two = runner.invoke(app, [*args, "--jobs", "2"])
    assert two.exit_code == one.exit_code == EXIT_DISCREPANCIES
    assert json.loads(two.stdout) == json.loads(one.stdout)
