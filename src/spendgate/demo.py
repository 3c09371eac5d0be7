"""`spendgate demo`: a real server, a realistic AI studio, and traffic through the client.

It starts `spendgate serve` as a child process (a real HTTP server) over a throw-away SQLite
file, creates a tenant and an admin key, seeds a studio (prepaid credits, project
allocations, users' daily caps, a rate card with fallback chains) and drives concurrent
traffic through the HTTP client: single generations, a "Generate All" batch refused
atomically and then funded partially, a downgrade to a cheaper model, a crashed job whose
hold expires, idempotent retries and re-sent usage. It ends with a summary and a check of
the whole ledger against its journal, and always stops its server.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from spendgate.client import Gate, NotFoundError, Reservation
from spendgate.config import redact_url
from spendgate.pricing import (
    estimate_image,
    estimate_llm,
    estimate_video,
    load_card,
    usage_from_anthropic,
    usage_from_openai,
)
from spendgate.sinks.stubs import STUBS, VendorStub

TENANT = "northwind-ai"
CARD = "studio-list"
RATE_CARD_FILE = Path(__file__).resolve().parents[2] / "examples" / "rate-card.yaml"
SERVER_START_TIMEOUT_S = 30.0

# Used when examples/rate-card.yaml is not around (an installed package): the same list
# prices for the models the demo uses, in credits at 1 credit = 1 USD.
FALLBACK_PRICES: tuple[dict[str, Any], ...] = tuple(
    {"meter": meter, "quantity": quantity, "match": {"model": model}, "model": "per_unit",
     **({"per": "1000000"} if meter == "llm" else {}), "unit_price": price}
    for meter, model, quantity, price in (
        ("llm", "gpt-4o", "input_tokens", "2.5"), ("llm", "gpt-4o", "output_tokens", "10"),
        ("llm", "claude-sonnet-4-5", "input_tokens", "3"),
        ("llm", "claude-sonnet-4-5", "output_tokens", "15"),
        ("image", "imagen-4", "count", "0.04"), ("image", "imagen-4-fast", "count", "0.02"),
        ("video", "veo-3", "seconds", "0.4"), ("video", "veo-3-fast", "seconds", "0.15"),
        ("video", "sora-2", "seconds", "0.1"), ("audio", "whisper-1", "seconds", "0.0001"),
    ))

# The studio: (project, allocation), and (project, user, daily cap).
PROJECTS = (("trailer", "Launch trailer", "40"), ("chatbot", "Support chatbot", "15"),
            ("storyboard", "Storyboards", "10"))
USERS = (("trailer", "ana", "10"), ("trailer", "ben", "12"), ("trailer", "eve", "2"),
         ("chatbot", "cara", "5"), ("storyboard", "dev", "4"))


class ProvisioningFailed(RuntimeError):
    """The demo could not set itself up (server, tenant or key)."""


@dataclass
class DemoReport:
    """What the demo saw, for the summary and for tests."""

    org: str = ""
    server_url: str = ""
    decisions: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    jobs: Counter[str] = field(default_factory=Counter)
    batch_all_or_nothing: Reservation | None = None
    batch_partial: Reservation | None = None
    downgrade: Reservation | None = None
    expired_status: str | None = None
    replayed_reservation: bool = False
    replayed_commit: bool = False
    replayed_grant: bool = False
    granted_once: bool = False
    usage_duplicates: int = 0
    spend_by_project: dict[str, tuple[int, str]] = field(default_factory=dict)
    spend_by_model: dict[str, tuple[int, str]] = field(default_factory=dict)
    budgets: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    verify_problems: list[str] | None = None
    orgs_verified: int = 0
    # With --with-sinks: per vendor (events metered, events the vendor holds, rows it counts).
    sinks: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_job(self, outcome: str) -> None:
        with self.lock:
            self.jobs[outcome] += 1

    def checks(self) -> dict[str, bool]:
        aon, part, down = self.batch_all_or_nothing, self.batch_partial, self.downgrade
        return {
            "Generate All (all_or_nothing): refused atomically, nothing held":
                aon is not None and aon.status == "denied"
                and not any(i.held for i in aon.items),
            "Generate All (partial): 3 of 6 shots held":
                part is not None and part.status == "partial" and len(part.held_refs) == 3,
            "Downgrade: veo-3 refused, veo-3-fast held (option 1)":
                down is not None and down.items[0].option == 1,
            "Crashed job: its hold expired": self.expired_status == "expired",
            "Idempotent retries: replayed, one effect":
                self.replayed_reservation and self.replayed_commit and self.replayed_grant
                and self.granted_once,
            "Re-sent usage events counted as duplicates": self.usage_duplicates == 5,
            "Ledger verified: every balance matches its journal":
                self.verify_problems is not None and not self.verify_problems,
            **({"Usage reached every vendor, each event exactly once":
                all(metered == held == rows and metered > 0
                    for metered, held, rows in self.sinks.values())} if self.sinks else {}),
        }

    @property
    def ok(self) -> bool:
        return all(self.checks().values())


# ---- the server --------------------------------------------------------------------------

def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def choose_port(host: str, port: int) -> int:
    """The port asked for if it is free; otherwise (or for 0) any free one."""
    if port and _port_free(host, port):
        return port
    with socket.socket() as s:
        s.bind((host, 0))
        free: int = s.getsockname()[1]
        return free


def provision(database_url: str) -> str:
    """The demo tenant (created if missing) and a fresh admin key for it; returns the key."""
    from spendgate.stores import open_store
    from spendgate.tenancy import Directory

    store = open_store(database_url)
    try:
        directory = Directory(store)
        directory.ensure_tenant(TENANT)
        _, secret = directory.create_key(TENANT, "test", "admin", name="demo")
        return secret
    finally:
        store.close()


@contextlib.contextmanager
def running_server(database_url: str, host: str, port: int, log: Path) -> Iterator[str]:
    """`spendgate serve` as a child process; yields its base URL; always stops it."""
    # The URL travels in the environment, not argv: a password must not show in `ps`.
    command = [sys.executable, "-c", "from spendgate.cli import main; main()", "serve",
               "--host", host, "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1",
                                     "SPENDGATE_DATABASE_URL": database_url})
        try:
            url = f"http://{host}:{port}"
            with Gate(url) as probe:
                deadline = time.monotonic() + SERVER_START_TIMEOUT_S
                while not probe.healthz():
                    if proc.poll() is not None:
                        raise ProvisioningFailed(
                            f"the server exited with code {proc.returncode}:\n"
                            + log.read_text(errors="replace")[-2000:])
                    if time.monotonic() > deadline:
                        raise ProvisioningFailed("the server did not answer /healthz in time")
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


# ---- the studio --------------------------------------------------------------------------

def rate_card_prices() -> list[dict[str, Any]]:
    if RATE_CARD_FILE.exists():
        card = load_card(RATE_CARD_FILE)
        prices = card.versions[-1].to_dict()["prices"]
        assert isinstance(prices, list)
        return prices
    return [dict(p) for p in FALLBACK_PRICES]


def seed(gate: Gate) -> str:
    """The studio: org, credits, projects with allocations, users with daily caps."""
    org = "northwind"
    with contextlib.suppress(NotFoundError):
        gate.get_org(org)
        org = f"northwind-{random.randbytes(3).hex()}"  # a database used before: start anew
    gate.create_rate_card_version(CARD, rate_card_prices())
    gate.put_settings(default_rate_card=CARD, credit_value={"currency": "USD", "amount": "1"},
                      default_ttl_seconds=300,
                      fallbacks={"veo-3": ["veo-3-fast"], "imagen-4": ["imagen-4-fast"]})
    gate.put_org(org, name="Northwind Pictures", metadata={"plan": "studio"})
    gate.add_grant(org, "60", priority=10, reason="prepaid credits")
    gate.add_grant(org, "15", priority=5, reason="launch promotion",
                   expires_at=_in_days(30))
    for project, name, allocation in PROJECTS:
        gate.put_project(org, project, name=name)
        gate.put_limit(f"{org}-{project}-allocation", org=org, project=project,
                       amount=allocation, window="lifetime", thresholds=["0.5", "0.8", "1"])
    for project, user, cap in USERS:
        gate.put_user(org, project, user)
        gate.put_limit(f"{org}-{project}-{user}-daily", org=org, project=project, user=user,
                       amount=cap, window="day")
    return org


def _in_days(days: int) -> str:
    from spendgate.domain.clock import ms_to_rfc3339

    return ms_to_rfc3339(int(time.time() * 1000) + days * 86_400_000)


def record(report: DemoReport, reservation: Reservation) -> None:
    with report.lock:
        for item in reservation.items:
            if item.held:
                outcome = "downgraded" if item.option else "held"
                report.decisions[(outcome, "-", "-")] += 1
            elif item.denied_by is not None:
                report.decisions[("denied", item.denied_by.level, item.denied_by.reason)] += 1


@dataclass(frozen=True, slots=True)
class Job:
    """One generation: who, what it is estimated to cost, and what it really used."""

    project: str
    user: str
    estimate: Mapping[str, Any]
    actual: Mapping[str, Any]
    fails: bool = False


def jobs(rng: random.Random) -> list[Job]:
    out: list[Job] = []
    for n in range(14):  # support chatbot: LLM calls, estimated at their worst case
        if n % 2:
            est = estimate_llm("gpt-4o", prompt_tokens=1800, max_output_tokens=1200)
            actual = usage_from_openai("gpt-4o", {"prompt_tokens": 1800,
                                                  "completion_tokens": rng.randint(150, 1200)})
        else:
            est = estimate_llm("claude-sonnet-4-5", prompt_tokens=2400, max_output_tokens=1000)
            actual = usage_from_anthropic("claude-sonnet-4-5", {
                "input_tokens": 2400, "output_tokens": rng.randint(100, 1000)})
        out.append(Job("chatbot", "cara", est.to_dict(), actual.to_dict(), fails=n == 5))
    for n in range(8):  # storyboards: four frames a call
        frames = estimate_image("imagen-4", 4).to_dict()
        out.append(Job("storyboard", "dev", frames, frames, fails=n == 3))
    for n in range(10):  # trailer b-roll: short sora-2 clips
        seconds = rng.choice((4, 8))
        clip = estimate_video("sora-2", seconds).to_dict()
        out.append(Job("trailer", "ben", clip, clip, fails=n == 7))
    rng.shuffle(out)
    return out


def run_job(gate: Gate, org: str, job: Job, report: DemoReport) -> None:
    try:
        with gate.reserve(org, job.project, job.user, usage=job.estimate,
                          metadata={"kind": job.estimate["meter"]}) as hold:
            record(report, hold.reservation)
            if not hold.funded:
                report.count_job("refused")
                return
            time.sleep(0.005)  # the provider at work
            if job.fails:
                raise TimeoutError("the provider timed out")
            hold.commit(job.actual)
            report.count_job("committed")
    except TimeoutError:
        report.count_job("failed, hold released")


def generate_all(gate: Gate, org: str, report: DemoReport) -> None:
    """Six veo-3 shots of 8 s (3.2 credits each) against ana's daily cap of 10."""
    shots = [{"ref": f"shot-{n}", "usage": {"meter": "video", "model": "veo-3", "seconds": 8}}
             for n in range(1, 7)]
    refused = gate.reserve(org, "trailer", "ana", items=shots, policy="all_or_nothing")
    report.batch_all_or_nothing = refused.reservation
    record(report, refused.reservation)
    with gate.reserve(org, "trailer", "ana", items=shots, policy="partial") as batch:
        report.batch_partial = batch.reservation
        record(report, batch.reservation)
        batch.commit(items=[{"ref": ref, "usage": {"meter": "video", "model": "veo-3",
                                                   "seconds": 8}}
                            for ref in batch.reservation.held_refs])
    report.count_job("committed")


def downgrade(gate: Gate, org: str, report: DemoReport) -> None:
    """eve's cap (2) cannot hold veo-3 for 8 s (3.2); the fallback veo-3-fast (1.2) fits."""
    with gate.reserve(org, "trailer", "eve",
                      usage={"meter": "video", "model": "veo-3", "seconds": 8}) as hold:
        report.downgrade = hold.reservation
        record(report, hold.reservation)
        hold.commit()  # the held option's estimate: veo-3-fast, 8 s
    report.count_job("committed")


def crash(gate: Gate, org: str, report: DemoReport) -> str:
    """A worker reserves with a 1 s TTL and dies: no commit, no release."""
    hold = gate.reserve(org, "storyboard", "dev", usage=estimate_image("imagen-4", 4),
                        ttl_seconds=1, metadata={"worker": "render-7"})
    record(report, hold.reservation)
    report.count_job("crashed")
    return hold.id  # the Hold object is dropped, as a crashed process would


def retries(gate: Gate, org: str, report: DemoReport) -> None:
    """A client whose answers get lost re-sends with the same Idempotency-Key."""
    before = Decimal(gate.balance(org).granted)
    top_up = f"top-up-{org}-2026-11"
    gate.add_grant(org, "5", reason="monthly top-up", idempotency_key=top_up)
    again = gate.add_grant(org, "5", reason="monthly top-up", idempotency_key=top_up)
    report.replayed_grant = again.replayed
    report.granted_once = Decimal(gate.balance(org).granted) == before + 5
    usage = estimate_llm("gpt-4o", prompt_tokens=900, max_output_tokens=600)
    first = gate.reserve(org, "chatbot", "cara", usage=usage, idempotency_key=f"{org}-job-42")
    second = gate.reserve(org, "chatbot", "cara", usage=usage, idempotency_key=f"{org}-job-42")
    report.replayed_reservation = second.reservation.replayed and second.id == first.id
    record(report, first.reservation)
    actual = usage_from_openai("gpt-4o", {"prompt_tokens": 900, "completion_tokens": 410})
    first.commit(actual, idempotency_key=f"{org}-job-42-commit")
    replay = second.commit(actual, idempotency_key=f"{org}-job-42-commit")
    report.replayed_commit = replay.replayed
    report.count_job("committed")


def transcriptions(gate: Gate, org: str, report: DemoReport) -> None:
    """Direct usage (no hold), then the same events again: each id counts once."""
    events = [{"id": f"{org}-whisper-{n}", "org": org, "project": "chatbot", "user": "cara",
               "usage": {"meter": "audio", "model": "whisper-1", "seconds": 60 * n}}
              for n in range(1, 6)]
    gate.ingest_usage(events)
    report.usage_duplicates = gate.ingest_usage(events).duplicates


def summarize(gate: Gate, org: str, report: DemoReport) -> None:
    rows = gate.query_usage(org=org, group_by=["project"]).data
    report.spend_by_project = {str(r.get("project") or "-"): (int(r.get("events") or 0),
                                                              str(r["credits"])) for r in rows}
    models = gate.query_usage(org=org, group_by=["model"]).data
    report.spend_by_model = {str(r.get("model") or "(credits)"): (int(r.get("events") or 0),
                                                                  str(r["credits"]))
                             for r in models}
    balance = gate.balance(org)
    report.budgets.append(("org", org, "credit pool", balance.granted, balance.spent,
                           balance.available))
    limits = {lim.id: lim for lim in gate.list_limits(org=org)}
    for project, user, _ in USERS:
        for status in gate.status(org, project, user):
            lim = status.limit
            if lim.id not in limits:
                continue
            limits.pop(lim.id)
            level = "user" if lim.user else "project"
            who = f"{project}/{lim.user}" if lim.user else project
            kind = "daily cap" if lim.window == "day" else "allocation"
            report.budgets.append((level, who, kind, lim.amount, status.used,
                                   status.remaining))


# ---- the run -----------------------------------------------------------------------------

def run_demo(database_url: str | None, host: str, port: int, *,
             console: Console | None = None, with_sinks: bool = False) -> DemoReport:
    """Run the whole demo and return what it saw; the server is stopped on return."""
    console = console or Console()
    report = DemoReport()
    with tempfile.TemporaryDirectory(prefix="spendgate-demo-") as tmp, \
            _vendor_stubs(with_sinks) as vendors:
        url = database_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        port = choose_port(host, port)
        progress = Progress(TextColumn("{task.description:<34}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                            transient=False)
        secret = provision(url)
        with progress, running_server(url, host, port, Path(tmp) / "server.log") as base:
            report.server_url = base
            where = "a throw-away SQLite file" if database_url is None else redact_url(url)
            console.print(f"Spendgate serving on {base} (tenant {TENANT}, database {where})",
                          highlight=False)
            with Gate(base, secret) as gate:
                seeding = progress.add_task("Seeding the studio", total=1)
                report.org = org = seed(gate)
                for name, (_, base_url) in vendors.items():
                    gate.request("PUT", f"/v1/sinks/{name}", json={
                        "type": name, "api_key": f"{name}-demo-key", "base_url": base_url})
                progress.advance(seeding)
                crashed = crash(gate, org, report)
                work = jobs(random.Random(7))
                traffic = progress.add_task("Concurrent generations", total=len(work))
                with ThreadPoolExecutor(max_workers=8) as pool:
                    for _ in pool.map(lambda j: run_job(gate, org, j, report), work):
                        progress.advance(traffic)
                steps: list[tuple[str, Callable[[], object]]] = [
                         ("Generate All (6 video shots)", lambda: generate_all(gate, org,
                                                                               report)),
                         ("Downgrade to a cheaper model", lambda: downgrade(gate, org, report)),
                         ("Idempotent retries", lambda: retries(gate, org, report)),
                         ("Re-sent usage events", lambda: transcriptions(gate, org, report))]
                scenarios = progress.add_task("Scenarios", total=len(steps) + 1)
                for name, step in steps:
                    progress.update(scenarios, description=name)
                    step()
                    progress.advance(scenarios)
                progress.update(scenarios, description="Crashed job: waiting for expiry")
                held = gate.get_reservation(crashed)
                deadline = time.monotonic() + 10
                while held.status == "held" and time.monotonic() < deadline:
                    time.sleep(0.1)  # its TTL is 1 s; reading applies the expiry
                    held = gate.get_reservation(crashed)
                progress.update(scenarios, description="Scenarios")
                report.expired_status = held.status
                progress.advance(scenarios)
                summarize(gate, org, report)
                if vendors:
                    delivery = progress.add_task("Delivering usage to vendors", total=1)
                    report.sinks = await_delivery(gate, org, vendors)
                    progress.advance(delivery)
        report.verify_problems, report.orgs_verified = verify_ledger(url)
    return report


@contextlib.contextmanager
def _vendor_stubs(enabled: bool) -> Iterator[dict[str, tuple[VendorStub, str]]]:
    """Local stand-ins of Flexprice, Metronome and Lago (their published contracts)."""
    if not enabled:
        yield {}
        return
    started = {name: cls(api_key=f"{name}-demo-key") for name, cls in STUBS.items()}
    try:
        yield {name: (stub, stub.start()) for name, stub in started.items()}
    finally:
        for stub in started.values():
            stub.stop()


def await_delivery(gate: Gate, org: str, vendors: dict[str, tuple[VendorStub, str]],
                   timeout_s: float = 60.0) -> dict[str, tuple[int, int, int]]:
    """Wait for the server's dispatcher to drain every sink, then compare with the vendors."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lags = [gate.request("GET", f"/v1/sinks/{name}/status").body["lag_events"]
                for name in vendors]
        if not any(lags):
            break
        time.sleep(0.2)
    metered = sum(int(r.get("events") or 0) for r in gate.query_usage().data)
    return {name: (metered, len(stub.accepted()), stub.stored_rows())
            for name, (stub, _) in vendors.items()}


def verify_ledger(database_url: str) -> tuple[list[str], int]:
    """What `spendgate verify` does: recompute every balance from the journal."""
    from spendgate.ledger.engine import Ledger
    from spendgate.stores import open_store

    store = open_store(database_url)
    try:
        with store.read() as tx:
            orgs = len(tx.all_orgs())
        ledger = Ledger(store)
        try:
            return [str(p) for p in ledger.verify()], orgs
        finally:
            ledger.close()
    finally:
        store.close()


def _short(credits: str) -> str:
    """Credits without trailing zeros, for narrow tables (exact: nothing is rounded)."""
    return format(Decimal(credits).normalize(), "f")


def render(report: DemoReport, console: Console) -> None:
    decisions = Table(title="Decisions by outcome and level")
    for column in ("outcome", "level", "reason", "items"):
        decisions.add_column(column, justify="right" if column == "items" else "left")
    for (outcome, level, reason), count in sorted(report.decisions.items()):
        decisions.add_row(outcome, level, reason, str(count))
    jobs_table = Table(title="Jobs")
    jobs_table.add_column("outcome")
    jobs_table.add_column("jobs", justify="right")
    for outcome, count in sorted(report.jobs.items()):
        jobs_table.add_row(outcome, str(count))
    spend = Table(title="Spend by project")
    spend.add_column("project")
    spend.add_column("events", justify="right")
    spend.add_column("credits", justify="right")
    for project, (events, credits) in sorted(report.spend_by_project.items()):
        spend.add_row(project, str(events), _short(credits))
    by_model = Table(title="Spend by model")
    by_model.add_column("model")
    by_model.add_column("events", justify="right")
    by_model.add_column("credits", justify="right")
    for model, (events, credits) in sorted(report.spend_by_model.items()):
        by_model.add_row(model, str(events), _short(credits))
    budgets = Table(title="Remaining budgets")
    for column in ("budget", "kind", "amount", "used", "remaining"):
        budgets.add_column(column, justify="left" if column in ("budget", "kind") else "right")
    for _, who, kind, amount, used, remaining in report.budgets:
        budgets.add_row(who, kind, _short(amount), _short(used), _short(remaining))
    checks = Table(title="Checks")
    checks.add_column("")
    checks.add_column("what the demo showed")
    for name, passed in report.checks().items():
        checks.add_row("[green]✓[/]" if passed else "[red]✗[/]", name)
    vendors = Table(title="Usage delivered to billing vendors (local stubs)")
    for column in ("vendor", "events metered", "events at the vendor", "rows it counts"):
        vendors.add_column(column)
    for name, (metered, held, rows) in report.sinks.items():
        vendors.add_row(name, str(metered), str(held), str(rows))
    shown = (decisions, jobs_table, spend, by_model, budgets,
             *((vendors,) if report.sinks else ()), checks)
    for table in shown:
        console.print(table)
    if report.verify_problems:
        for problem in report.verify_problems:
            console.print(f"[red]✗[/] {problem}", highlight=False)
    else:
        console.print(f"[green]✓[/] spendgate verify: {report.orgs_verified} organization(s), "
                      "every balance matches its journal.")


def demo(database_url: str | None, host: str, port: int, with_sinks: bool = False) -> int:
    """Run the demo end to end; 0 when everything it shows checked out."""
    console = Console()
    started = time.monotonic()
    try:
        report = run_demo(database_url, host, port, console=console, with_sinks=with_sinks)
    except ProvisioningFailed as exc:
        console.print(f"[red]The demo could not start:[/] {exc}", highlight=False)
        return 1
    render(report, console)
    console.print(f"Done in {time.monotonic() - started:.1f} s; the server has been stopped.")
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m spendgate.demo")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    return demo(args.database_url, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DemoReport", "demo", "run_demo"]
