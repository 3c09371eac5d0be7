"""Operator commands: `spendgate sinks ...`, `spendgate webhooks test`, `spendgate export usage`.

They work on the database directly (no API key), for one tenant environment at a time.
Exit codes: 0 done; 1 the operation reached a problem (a ping failed); 2 bad input.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from spendgate.config import DEFAULT_DATABASE_URL
from spendgate.domain.clock import SystemClock, rfc3339_to_ms
from spendgate.domain.hierarchy import Scope
from spendgate.domain.ids import check_env, check_id
from spendgate.errors import SpendgateError
from spendgate.stores.port import Store

sinks_app = typer.Typer(help="Usage delivery to billing vendors and streams.",
                        no_args_is_help=True)
webhooks_app = typer.Typer(help="Outbound webhook endpoints.", no_args_is_help=True)
export_app = typer.Typer(help="Export data for a period.", no_args_is_help=True)

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

DatabaseUrl = Annotated[str, typer.Option(
    "--database-url", envvar="SPENDGATE_DATABASE_URL", show_envvar=True,
    help="sqlite:///path.db or postgresql://user@host:5432/db")]
Tenant = Annotated[str, typer.Option("--tenant", help="Tenant id")]
Env = Annotated[str, typer.Option("--env", help="live or test")]
From = Annotated[str, typer.Option("--from", help="Start, inclusive (RFC 3339, UTC)")]
To = Annotated[str, typer.Option("--to", help="End, exclusive (RFC 3339, UTC)")]


@contextmanager
def _store(database_url: str) -> Iterator[Store]:
    from spendgate.stores import open_store

    try:
        store = open_store(database_url)
    except SpendgateError as exc:
        err.print(f"[red]error:[/red] {exc.message}. Check --database-url or "
                  "SPENDGATE_DATABASE_URL.", highlight=False)
        raise typer.Exit(3) from None
    try:
        yield store
    except SpendgateError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        store.close()


def _scope(tenant: str, env: str) -> Scope:
    try:
        return Scope(check_id(tenant, "tenant"), check_env(env))
    except SpendgateError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None


def _period(start: str, end: str) -> tuple[int, int]:
    try:
        lo, hi = rfc3339_to_ms(start, "--from"), rfc3339_to_ms(end, "--to")
    except SpendgateError as exc:
        err.print(f"[red]error:[/red] {exc.message} (e.g. 2026-11-01T00:00:00Z)",
                  highlight=False)
        raise typer.Exit(2) from None
    if hi <= lo:
        err.print("[red]error:[/red] --to must be after --from", highlight=False)
        raise typer.Exit(2)
    return lo, hi


@sinks_app.command("run")
def sinks_run(database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
              once: Annotated[bool, typer.Option(help="Drain what is due once, then stop")]
              = False) -> None:
    """Deliver usage to every enabled sink of every tenant, until stopped (Ctrl-C)."""
    from spendgate.ledger.engine import Ledger
    from spendgate.workers import SinkWorkers, Workers

    with _store(database_url) as store:
        if once:
            workers = SinkWorkers(store)
            try:
                settled = workers.run_once()
            finally:
                workers.close()
            err.print(f"delivered or settled {settled} event(s)", highlight=False)
            _status_table(store, None)
            return
        ledger = Ledger(store)
        loop = Workers(store, ledger, webhooks=False, sweep=False)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        loop.start()
        err.print("delivering usage to sinks; Ctrl-C to stop", highlight=False)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            loop.stop()
            ledger.close()


def _status_table(store: Store, scope: Scope | None) -> None:
    from spendgate.stores.outbox import SqlOutbox
    from spendgate.stores.sinks import SinkRepository

    table = Table("tenant", "env", "sink", "type", "lag", "delivered", "retried", "dead",
                  "last error")
    for sink_scope, config in SinkRepository(store).everywhere():
        if scope is not None and sink_scope != scope:
            continue
        outbox = SqlOutbox(store, sink_scope)
        counts = outbox.counts(config.name)
        table.add_row(sink_scope.tenant, sink_scope.env, config.name, config.type,
                      str(outbox.backlog(config.name).events), str(counts["delivered"]),
                      str(counts["retried"]), str(counts["dead"]),
                      str(counts["last_error"] or "")[:60])
    out.print(table)


@sinks_app.command("put")
def sinks_put(name: Annotated[str, typer.Argument(help="Sink name")],
              file: Annotated[Path, typer.Option("--file", help="YAML or JSON: the same body as "
                                                 "PUT /v1/sinks/{name}")],
              tenant: Tenant = "default", env: Env = "live",
              database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Create or replace a sink from a configuration file (validated like the API)."""
    import yaml

    from spendgate.sinks import SinkConfig
    from spendgate.stores.sinks import SinkRepository

    scope = _scope(tenant, env)
    try:
        body = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        err.print(f"[red]error:[/red] cannot read {file}: {exc}", highlight=False)
        raise typer.Exit(2) from None
    with _store(database_url) as store:
        repo = SinkRepository(store)
        config = SinkConfig.parse(name, body, repo.find(scope, name))
        created = repo.put(scope, config, SystemClock().now_ms())
    out.print(f"{'created' if created else 'updated'} sink {name} ({config.type}, "
              f"{'enabled' if config.enabled else 'disabled'})", highlight=False)


@sinks_app.command("status")
def sinks_status(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Lag and delivery counts of every enabled sink."""
    with _store(database_url) as store:
        _status_table(store, None)


@sinks_app.command("replay")
def sinks_replay(sink: Annotated[str, typer.Argument(help="Sink name")], start: From,
                 end: To, tenant: Tenant = "default", env: Env = "live",
                 database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Queue a time range of usage events for a sink again (the vendor dedups by event id)."""
    from spendgate.stores.outbox import SqlOutbox
    from spendgate.stores.sinks import SinkRepository

    scope = _scope(tenant, env)
    lo, hi = _period(start, end)
    with _store(database_url) as store:
        SinkRepository(store).get(scope, sink)
        queued = SqlOutbox(store, scope).replay(sink, lo, hi, SystemClock().now_ms())
    out.print(f"queued {queued} event(s) for {sink}; `spendgate sinks run` delivers them",
              highlight=False)


@sinks_app.command("redrive")
def sinks_redrive(sink: Annotated[str, typer.Argument(help="Sink name")],
                  tenant: Tenant = "default", env: Env = "live",
                  database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Retry every dead-lettered event of a sink."""
    from spendgate.stores.outbox import SqlOutbox
    from spendgate.stores.sinks import SinkRepository

    scope = _scope(tenant, env)
    with _store(database_url) as store:
        SinkRepository(store).get(scope, sink)
        count = SqlOutbox(store, scope).redrive(sink, SystemClock().now_ms())
    out.print(f"re-driving {count} dead-lettered event(s) of {sink}", highlight=False)


@webhooks_app.command("put")
def webhooks_put(endpoint: Annotated[str, typer.Argument(help="Endpoint id")],
                 url: Annotated[str, typer.Option(help="Where to POST (http or https)")],
                 events: Annotated[str, typer.Option(help="Comma-separated event types, or *")],
                 secret: Annotated[str | None, typer.Option(
                     help="whsec_... (generated and printed once when omitted)")] = None,
                 tenant: Tenant = "default", env: Env = "live",
                 database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Register an endpoint for outbound alerts; prints a generated secret once."""
    from spendgate.stores.webhooks import EndpointRepository
    from spendgate.webhooks.outbound.events import CATALOGUE
    from spendgate.webhooks.outbound.log import Endpoint
    from spendgate.webhooks.outbound.signing import check_secret, generate_secret

    scope = _scope(tenant, env)
    kinds = frozenset(e.strip() for e in events.split(",") if e.strip())
    unknown = sorted(k for k in kinds if k != "*" and k not in CATALOGUE)
    if not url.startswith(("http://", "https://")) or not kinds or unknown:
        err.print(f"[red]error:[/red] need an http(s) --url and --events from "
                  f"{', '.join(sorted(CATALOGUE))} or *" +
                  (f" (unknown: {', '.join(unknown)})" if unknown else ""), highlight=False)
        raise typer.Exit(2)
    try:
        chosen = check_secret(secret) if secret is not None else generate_secret()
    except SpendgateError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    with _store(database_url) as store:
        EndpointRepository(store).put(scope, Endpoint(endpoint, scope.tenant, scope.env, url,
                                                      kinds, (chosen,)), SystemClock().now_ms())
    if secret is None:
        out.print(chosen, highlight=False)  # stdout holds only the secret, for scripts
    err.print(f"endpoint {endpoint} receives {', '.join(sorted(kinds))} at {url}",
              highlight=False)


@webhooks_app.command("list")
def webhooks_list(tenant: Tenant = "default", env: Env = "live",
                  database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Registered endpoints (their secrets are never shown again)."""
    from spendgate.stores.webhooks import EndpointRepository

    scope = _scope(tenant, env)
    table = Table("id", "url", "events", "enabled")
    with _store(database_url) as store:
        for ep in EndpointRepository(store).list(scope):
            table.add_row(ep.id, ep.url, ", ".join(sorted(ep.events)), str(ep.enabled))
    out.print(table)


@webhooks_app.command("test")
def webhooks_test(endpoint: Annotated[str, typer.Argument(help="Endpoint id")],
                  tenant: Tenant = "default", env: Env = "live",
                  database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Send one signed ping to an endpoint and say what it answered."""
    import httpx

    from spendgate.stores.webhooks import EndpointRepository
    from spendgate.webhooks.outbound.deliverer import send_ping

    scope = _scope(tenant, env)
    with _store(database_url) as store:
        ep = EndpointRepository(store).get(scope, endpoint)
    with httpx.Client() as client:
        result = send_ping(client, ep, now_ms=SystemClock().now_ms())
    if result.ok:
        out.print(f"{ep.url} answered {result.response_code}", highlight=False)
        return
    err.print(f"[red]ping failed:[/red] {result.error or result.response_code}; check that "
              f"{ep.url} is reachable and verifies Standard Webhooks signatures",
              highlight=False)
    raise typer.Exit(1)


@export_app.command("usage")
def export_usage(start: From, end: To, tenant: Tenant = "default", env: Env = "live",
                 fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet")]
                 = "csv",
                 output: Annotated[Path | None, typer.Option(
                     "--output", help="File to write (stdout for csv/jsonl when omitted)")]
                 = None,
                 org: Annotated[str | None, typer.Option(help="Only this org")] = None,
                 database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Export the usage events of a period, with a progress bar on stderr."""
    from spendgate.metering import export

    scope = _scope(tenant, env)
    lo, hi = _period(start, end)
    if fmt not in export.FORMATS:
        err.print(f"[red]error:[/red] --format must be one of {', '.join(export.FORMATS)}",
                  highlight=False)
        raise typer.Exit(2)
    if fmt == "parquet" and output is None:
        err.print("[red]error:[/red] parquet needs --output FILE", highlight=False)
        raise typer.Exit(2)
    with _store(database_url) as store:
        total = export.count(store, scope, lo, hi, org)
        with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("usage", total=total)
            written = export.export(store, scope, lo, hi, fmt,
                                    output if output is not None else sys.stdout, org=org,
                                    progress=lambda n: bar.update(task, completed=n))
    err.print(f"exported {written} event(s)" + (f" to {output}" if output else ""),
              highlight=False)
