"""`spendgate demo` end to end: a real server process, real traffic, a verified ledger."""

from __future__ import annotations

import io

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from spendgate.demo import DemoReport, render, run_demo


@pytest.fixture(scope="module")
def shown() -> tuple[DemoReport, str]:
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    report = run_demo(None, "127.0.0.1", 0, console=console)
    render(report, console)
    return report, out.getvalue()


def test_the_batch_is_refused_atomically_then_funded_partially(
        shown: tuple[DemoReport, str]) -> None:
    report, _ = shown
    refused, partial = report.batch_all_or_nothing, report.batch_partial
    assert refused is not None and partial is not None
    assert refused.status == "denied" and not refused.held_refs
    assert partial.status == "partial"
    assert partial.held_refs == ("shot-1", "shot-2", "shot-3")
    denied = [i.denied_by for i in partial.items if not i.held]
    assert len(denied) == 3
    assert all(d is not None and (d.level, d.reason) == ("user", "limit_exceeded")
               for d in denied)


def test_the_downgrade_chose_the_cheaper_option(shown: tuple[DemoReport, str]) -> None:
    report, _ = shown
    assert report.downgrade is not None
    assert report.downgrade.items[0].option == 1
    assert report.downgrade.items[0].amount == "1.200000000"  # veo-3-fast, 8 s


def test_the_crashed_jobs_hold_expired_and_retries_replayed(
        shown: tuple[DemoReport, str]) -> None:
    report, _ = shown
    assert report.expired_status == "expired"
    assert report.replayed_reservation and report.replayed_commit and report.replayed_grant
    assert report.granted_once
    assert report.usage_duplicates == 5


def test_the_summary_shows_decisions_spend_budgets_and_a_clean_verify(
        shown: tuple[DemoReport, str]) -> None:
    report, text = shown
    assert report.verify_problems == [] and report.orgs_verified >= 1
    assert report.ok, report.checks()
    assert report.decisions[("downgraded", "-", "-")] == 1
    assert report.decisions[("denied", "user", "limit_exceeded")] >= 9
    assert set(report.spend_by_project) == {"chatbot", "storyboard", "trailer"}
    assert report.spend_by_project["trailer"][1] == "15.200000000"
    for title in ("Decisions by outcome and level", "Spend by project", "Remaining budgets",
                  "Checks"):
        assert title in text
    assert "✗" not in text
    assert "every balance matches its journal" in text


def test_the_server_process_is_gone_afterwards(shown: tuple[DemoReport, str]) -> None:
    report, _ = shown
    assert report.server_url
    with pytest.raises(httpx.TransportError):
        httpx.get(report.server_url + "/healthz", timeout=1.0)


def test_the_cli_runs_the_demo_and_exits_zero() -> None:
    from spendgate.cli import app

    result = CliRunner().invoke(app, ["demo", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "every balance matches its journal" in result.output


def test_with_sinks_every_vendor_holds_every_event_once() -> None:
    from rich.console import Console

    from spendgate.demo import run_demo

    report = run_demo(None, "127.0.0.1", 0, console=Console(quiet=True), with_sinks=True)
    assert set(report.sinks) == {"flexprice", "metronome", "lago"}
    assert all(metered == held == rows > 0 for metered, held, rows in report.sinks.values())
    assert report.ok
