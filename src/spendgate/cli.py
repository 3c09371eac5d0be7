"""The `spendgate` command: serve, migrate, tenants, keys, verify, demo, reconcile, sinks,
webhooks, export.

Exit codes: 0 done; 1 problems found (verify); 2 bad input (nothing changed); 3 the database
cannot be reached.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from spendgate.cli_ops import export_app, sinks_app, webhooks_app
from spendgate.config import DEFAULT_DATABASE_URL, Settings, redact_url
from spendgate.errors import SpendgateError, StoreUnavailable

if TYPE_CHECKING:
    from spendgate.tenancy import Directory

app = typer.Typer(name="spendgate", help="Real-time spend control and usage billing for AI.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
tenants_app = typer.Typer(help="Tenants: the companies using this Spendgate.",
                          no_args_is_help=True)
keys_app = typer.Typer(help="API keys (shown once, stored hashed).", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")

err = Console(stderr=True, soft_wrap=True)

DatabaseUrl = Annotated[str, typer.Option(
    "--database-url", envvar="SPENDGATE_DATABASE_URL", show_envvar=True,
    help="sqlite:///path.db or postgresql://user@host:5432/db")]


def _fail(exc: SpendgateError) -> typer.Exit:
    """Say what went wrong and what to do next; the exit code tells scripts which case."""
    where = f" ({exc.param})" if exc.param else ""
    err.print(f"[red]error{where}:[/] {exc.message}", highlight=False)
    if isinstance(exc, StoreUnavailable):
        err.print("Check --database-url (or SPENDGATE_DATABASE_URL) and that the database "
                  "server is running.")
        return typer.Exit(3)
    return typer.Exit(2)


def _settings(database_url: str, **overrides: Any) -> Settings:
    return Settings.from_env(None, database_url=database_url, **overrides)


@app.command()
def serve(host: Annotated[str, typer.Option(help="Interface to listen on",
                                            envvar="SPENDGATE_HOST")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port", envvar="SPENDGATE_PORT")] = 8080,
          database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
          log_level: Annotated[str, typer.Option(help="debug, info, warning, error",
                                                 envvar="SPENDGATE_LOG_LEVEL")] = "info",
          workers: Annotated[bool, typer.Option(
              help="Also run sink delivery and webhook loops in this process")] = True,
          ) -> None:
    """Run the HTTP API (and the hold-expiry sweeper) until interrupted."""
    import uvicorn

    from spendgate.api.logging import configure_logging
    from spendgate.bootstrap import build

    configure_logging(log_level)
    try:
        runtime = build(_settings(database_url, host=host, port=port, log_level=log_level))
        first_run = not runtime.directory.list_tenants()
        if first_run:
            tenant, _ = runtime.directory.ensure_tenant(runtime.settings.default_tenant)
    except SpendgateError as exc:
        raise _fail(exc) from None
    if first_run:
        err.print(f"Created tenant [bold]{tenant.tenant}[/] in an empty database. Get an API "
                  "key with:\n  spendgate keys create --tenant "
                  f"{tenant.tenant} --env test --role admin --database-url "
                  f"'{redact_url(database_url)}'", highlight=False)
    err.print(f"Spendgate listening on http://{host}:{port} "
              f"(database {redact_url(database_url)}); OpenAPI at /openapi.json",
              highlight=False)
    runtime.start_background(workers=workers)
    config = uvicorn.Config(runtime.app, host=host, port=port, log_config=None,
                            access_log=False, log_level=log_level, lifespan="off")
    try:
        uvicorn.Server(config).run()
    finally:
        runtime.close()


@app.command()
def migrate(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Create or upgrade the database schema (serve does it too)."""
    from spendgate.stores import open_store
    from spendgate.stores.migrations import migrate as run_migrations

    try:
        store = open_store(database_url, run_migrations=False)
        try:
            applied = run_migrations(store)
        finally:
            store.close()
    except SpendgateError as exc:
        raise _fail(exc) from None
    if applied:
        err.print(f"Applied migrations: {', '.join(applied)}")
    else:
        err.print("The schema is up to date.")


@tenants_app.command("create")
def tenants_create(name: Annotated[str, typer.Argument(help="Tenant id, e.g. acme")],
                   database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Create a tenant; then create its keys with `spendgate keys create`."""
    with _directory(database_url) as directory:
        try:
            tenant = directory.create_tenant(name)
        except SpendgateError as exc:
            raise _fail(exc) from None
    err.print(f"Created tenant [bold]{tenant.tenant}[/]. Next: spendgate keys create "
              f"--tenant {tenant.tenant} --env test --role admin", highlight=False)


@tenants_app.command("list")
def tenants_list(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """List tenants."""
    with _directory(database_url) as directory:
        for tenant in directory.list_tenants():
            typer.echo(tenant.tenant)


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="The tenant the key belongs to")],
    env: Annotated[str, typer.Option(help="live or test")] = "test",
    role: Annotated[str, typer.Option(help="admin, service or read")] = "admin",
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
    database_url: DatabaseUrl = DEFAULT_DATABASE_URL,
) -> None:
    """Create an API key and print it (only it) on stdout: it is shown this once."""
    with _directory(database_url) as directory:
        try:
            key, secret = directory.create_key(tenant, env, role, name)
        except SpendgateError as exc:
            raise _fail(exc) from None
    typer.echo(secret)
    err.print(f"Created {key.role.value} key {key.key_id} for {key.tenant} ({key.env}). "
              "Store it now: it cannot be shown again.", highlight=False)


@keys_app.command("list")
def keys_list(tenant: Annotated[str, typer.Option(help="The tenant")],
              database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """List a tenant's keys (ids and roles; secrets are never stored)."""
    with _directory(database_url) as directory:
        for key in directory.list_keys(tenant):
            state = "revoked" if key.revoked_ms else "active"
            typer.echo(f"{key.key_id}\t{key.env}\t{key.role.value}\t{state}\t{key.name or ''}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="key_...")],
                database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Revoke a key; servers stop accepting it within a few seconds."""
    with _directory(database_url) as directory:
        try:
            directory.revoke_key(key_id)
        except SpendgateError as exc:
            raise _fail(exc) from None
    err.print(f"Revoked {key_id}.")


@app.command()
def verify(database_url: DatabaseUrl = DEFAULT_DATABASE_URL) -> None:
    """Recompute every balance from the journal; exit 1 if any disagrees."""
    from rich.progress import Progress

    from spendgate.domain.hierarchy import Scope
    from spendgate.ledger.verify import Problem, verify_org
    from spendgate.stores import open_store

    try:
        store = open_store(database_url)
    except SpendgateError as exc:
        raise _fail(exc) from None
    problems: list[Problem] = []
    try:
        with store.read() as tx:
            orgs = tx.all_orgs()
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("Verifying organizations", total=len(orgs))
            for tenant, env, org in orgs:
                with store.read() as tx:
                    problems.extend(verify_org(tx, Scope(tenant, env), org))
                progress.advance(task)
    finally:
        store.close()
    if problems:
        for problem in problems:
            err.print(f"[red]✗[/] {problem}", highlight=False)
        err.print(f"[red]{len(problems)} problem(s)[/] in {len(orgs)} organization(s). The "
                  "journal is the truth: investigate before changing balances.")
        raise typer.Exit(1)
    err.print(f"[green]✓[/] {len(orgs)} organization(s): every balance matches its journal.")


@app.command()
def demo(database_url: Annotated[str | None, typer.Option(
            "--database-url", envvar="SPENDGATE_DATABASE_URL",
            help="Defaults to a throw-away SQLite file")] = None,
         host: Annotated[str, typer.Option()] = "127.0.0.1",
         port: Annotated[int, typer.Option()] = 8080,
         with_sinks: Annotated[bool, typer.Option(
             "--with-sinks", help="Also deliver the usage to local Flexprice, Metronome and "
             "Lago stubs and check each holds every event once")] = False) -> None:
    """Run the service with demo traffic."""
    try:
        from spendgate.demo import demo as run_demo
    except ModuleNotFoundError as exc:
        if exc.name not in ("spendgate.demo",):
            raise
        err.print("The demo is not part of this build yet (module spendgate.demo is "
                  "missing). Run `spendgate serve` and use the API instead.")
        raise typer.Exit(2) from None
    raise typer.Exit(run_demo(database_url, host, port, with_sinks=with_sinks))


def _mount_reconcile() -> None:
    try:
        from spendgate.cli_reconcile import app as reconcile_app
    except ModuleNotFoundError as exc:
        if exc.name != "spendgate.cli_reconcile":
            raise

        @app.command("reconcile")
        def reconcile_missing() -> None:
            """Compare provider exports with metered usage (not in this build yet)."""
            err.print("Reconciliation is not part of this build yet (spendgate.cli_reconcile "
                      "is missing).")
            raise typer.Exit(2)

        return
    app.add_typer(reconcile_app, name="reconcile")


class _directory:
    """A Directory over a store opened for one command, closed afterwards."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def __enter__(self) -> Directory:
        from spendgate.stores import open_store
        from spendgate.tenancy import Directory

        try:
            self.store = open_store(self.database_url)
        except SpendgateError as exc:
            raise _fail(exc) from None
        return Directory(self.store)

    def __exit__(self, *exc: object) -> None:
        self.store.close()


_mount_reconcile()
app.add_typer(sinks_app, name="sinks")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(export_app, name="export")


def main() -> None:
    sys.exit(app(standalone_mode=True))


__all__ = ["app", "main"]
