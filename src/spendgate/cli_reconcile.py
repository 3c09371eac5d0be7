"""`spendgate reconcile ...`: compare providers' exports with what Spendgate metered.

The main CLI mounts this Typer app: `app.add_typer(cli_reconcile.app, name="reconcile")`.
Exit codes: 0 everything matched within tolerance; 1 discrepancies, duplicate or unmapped rows
were found; 2 the input is bad (nothing was written).
"""

from __future__ import annotations

import csv
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from spendgate.domain.money import parse_credits
from spendgate.errors import SpendgateError
from spendgate.reconcile import (
    Grain,
    InputFile,
    JsonLinesAdjustmentSink,
    JsonLinesMeteredUsage,
    ReconcileInputError,
    Report,
    Tolerance,
    VendorTotal,
    adjustments,
    compare_vendor,
    load_mapping,
    reconcile,
    sent_totals,
)
from spendgate.reconcile._parse import rfc3339_ms
from spendgate.reconcile.report import key_to_dict

EXIT_MATCHED = 0
EXIT_DISCREPANCIES = 1
EXIT_BAD_INPUT = 2

app = typer.Typer(
    help="Compare AI providers' usage and cost exports with what Spendgate metered.\n\n"
    "Exit codes: 0 all matched within tolerance, 1 discrepancies found, 2 bad input.",
    no_args_is_help=True,
)

Files = Annotated[list[Path], typer.Argument(help="Provider export files (JSON pages, JSONL).")]
Metered = Annotated[
    list[Path],
    typer.Option("--metered", help="JSON Lines of Spendgate usage events (repeatable); "
                 "without it, the usage events in the database are compared."),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--database-url", envvar="SPENDGATE_DATABASE_URL",
                 help="The store to read metered usage from (default sqlite:///./spendgate.db)."),
]
MappingOpt = Annotated[Path, typer.Option("--mapping", help="YAML/JSON mapping file.")]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="Start (inclusive): RFC 3339 or YYYY-MM-DD, UTC.")
]
ToOpt = Annotated[str | None, typer.Option("--to", help="End (exclusive), like --from.")]
GrainOpt = Annotated[str, typer.Option("--grain", help="Period: hour, day or month (UTC).")]
ByOpt = Annotated[str, typer.Option("--by", help="Dimensions kept: org,project,model.")]
TolOpt = Annotated[
    str, typer.Option("--tolerance", help="Relative tolerance, e.g. 0.01 for 1 %.")
]
AbsOpt = Annotated[
    str, typer.Option("--abs-tolerance", help="Absolute tolerance per measure.")
]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv.")]
AdjustOpt = Annotated[
    bool, typer.Option("--adjust", help="Write adjustment usage events for the differences.")
]
AdjustmentsOpt = Annotated[
    Path | None,
    typer.Option("--adjustments", help="JSON Lines journal of adjustment events (read and "
                 "appended; required with --adjust)."),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Unmapped accounts or models are errors (exit 2).")
]
LimitOpt = Annotated[int, typer.Option("--limit", help="Rows shown in the table.")]
JobsOpt = Annotated[
    int, typer.Option("--jobs", help="Processes: 2 imports the provider files in a worker "
                      "while the metered side is read (needs --from and --to).")
]


def _provider_command(provider: str, doc: str) -> None:
    """Register `spendgate reconcile <provider>`: the three providers share their options."""

    def command(
        files: Files, mapping: MappingOpt, metered: Metered = [],  # noqa: B006
        from_: FromOpt = None, database_url: DbOpt = None, to: ToOpt = None,
        grain: GrainOpt = "day", by: ByOpt = "org,project,model", tolerance: TolOpt = "0.01",
        abs_tolerance: AbsOpt = "0", output: FormatOpt = "table", adjust: AdjustOpt = False,
        adjustments_path: AdjustmentsOpt = None, strict: StrictOpt = False,
        limit: LimitOpt = 50, jobs: JobsOpt = 1,
    ) -> None:
        _run(provider, files, metered, mapping, from_, to, grain, by, tolerance, abs_tolerance,
             output, adjust, adjustments_path, strict, limit, jobs, database_url)

    command.__doc__ = doc
    command.__name__ = f"{provider}_command"
    app.command(provider)(command)


_provider_command("openai", "OpenAI organization Usage API (completions, images, audio...) "
                  "and Costs API pages.")
_provider_command("anthropic", "Anthropic Admin API messages usage report and cost report "
                  "pages.")
_provider_command("csv", "Any other provider's CSV export, columns mapped in the mapping's "
                  "`csv` section.")


@app.command("vendor")
def vendor_command(
    totals: Annotated[Path, typer.Argument(help="JSON Lines of {org, meter, quantities, "
                                                "credits?} the vendor reports or invoiced.")],
    metered: Metered,
    from_: Annotated[str, typer.Option("--from", help="Start (inclusive), UTC.")],
    to: Annotated[str, typer.Option("--to", help="End (exclusive), UTC.")],
    vendor: Annotated[str, typer.Option("--vendor", help="Vendor name for the report.")] = "vendor",
    tolerance: TolOpt = "0.01", abs_tolerance: AbsOpt = "0", output: FormatOpt = "table",
    limit: LimitOpt = 50,
) -> None:
    """Totals per org and meter that Spendgate sent vs what a billing vendor reports."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        fmt = _format(output)
        start, end = _time(from_, "--from"), _time(to, "--to")
        if start is None or end is None:
            raise ReconcileInputError("--from/--to", None, "both are required")
        tol = _tolerance(tolerance, abs_tolerance)
        sent = sent_totals(JsonLinesMeteredUsage(metered), start, end)
        report = compare_vendor(vendor, sent, _vendor_totals(totals), from_ms=start, to_ms=end,
                                tolerance=tol)
    except SpendgateError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _emit(report, fmt, limit)
    raise typer.Exit(EXIT_MATCHED if report.ok else EXIT_DISCREPANCIES)


def _run(provider: str, files: list[Path], metered: list[Path], mapping_path: Path,
         from_: str | None, to: str | None, grain: str, by: str, tolerance: str,
         abs_tolerance: str, output: str, adjust: bool, adjustments_path: Path | None,
         strict: bool, limit: int, jobs: int = 1, database_url: str | None = None) -> None:
    err = Console(stderr=True, soft_wrap=True)
    try:
        fmt = _format(output)
        mapping = load_mapping(mapping_path)
        if adjust and adjustments_path is None and metered:
            raise ReconcileInputError("--adjust", None, "with --metered files, needs "
                                      "--adjustments PATH (the journal)")
        inputs = [InputFile.from_path(p) for p in files]
        sources = list(metered)
        if adjustments_path is not None and adjustments_path.exists():
            sources.append(adjustments_path)  # applied adjustments are metered usage too
        live = _Live(database_url, mapping.tenant, mapping.env) if not metered else None
        metered_usage = live.metered() if live else JsonLinesMeteredUsage(sources)
        grain_value = Grain(grain, tuple(d.strip() for d in by.split(",") if d.strip()))  # type: ignore[arg-type]
        total = sum(f.size or 0 for f in inputs)
        with Progress(
            TextColumn("[bold]reconcile[/bold] {task.description}"), BarColumn(),
            DownloadColumn(), TimeRemainingColumn(), console=err, transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(provider, total=total or None)
            report = reconcile(
                provider, inputs, metered_usage, mapping, grain=grain_value,
                tolerance=_tolerance(tolerance, abs_tolerance), from_ms=_time(from_, "--from"),
                to_ms=_time(to, "--to"), strict=strict,
                progress=lambda n: bar.advance(task, n), workers=max(1, jobs),
            )
        new = 0
        if adjust and adjustments_path is not None:
            events = adjustments(report, tenant=mapping.tenant, env=mapping.env,
                                 credit_value=mapping.credit_value,
                                 cost_quantity=mapping.cost_quantity)
            new = JsonLinesAdjustmentSink(adjustments_path).apply(events)
        elif adjust and live is not None:
            events = adjustments(report, tenant=mapping.tenant, env=mapping.env,
                                 credit_value=mapping.credit_value,
                                 cost_quantity=mapping.cost_quantity)
            new = live.adjust(events)
    except SpendgateError as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _emit(report, fmt, limit)
    if adjust:
        where = adjustments_path if adjustments_path is not None else "the ledger"
        err.print(f"adjustments: {new} new event(s) written to {where}", highlight=False)
    if live is not None:
        live.close()
    raise typer.Exit(EXIT_MATCHED if report.ok else EXIT_DISCREPANCIES)


class _Live:
    """The database as the metered side, and the ledger as the adjustments journal."""

    def __init__(self, url: str | None, tenant: str | None, env: str | None) -> None:
        from spendgate.domain.hierarchy import Scope
        from spendgate.stores import open_store

        if not tenant or not env:
            raise ReconcileInputError("--mapping", None, "needs tenant and env to read the "
                                      "database (or pass --metered files)")
        self.store = open_store(url or "sqlite:///./spendgate.db")
        self.scope = Scope(tenant, env)
        self._ledger: Any = None

    def metered(self) -> Any:
        from spendgate.reconcile.store import StoreMeteredUsage

        return StoreMeteredUsage(self.store, self.scope)

    def adjust(self, events: Any) -> int:
        from spendgate.ledger.engine import Ledger
        from spendgate.reconcile.store import LedgerAdjustmentSink

        self._ledger = self._ledger or Ledger(self.store)
        return LedgerAdjustmentSink(self._ledger, self.scope).apply(events)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
        self.store.close()


def _format(output: str) -> str:
    if output not in ("table", "json", "csv"):
        raise ReconcileInputError("--format", None, "must be table, json or csv")
    return output


def _tolerance(relative: str, absolute: str) -> Tolerance:
    try:
        rel, abs_ = Decimal(relative), Decimal(absolute)
    except InvalidOperation:
        raise ReconcileInputError("--tolerance", None, "must be a decimal such as 0.01") from None
    if not rel.is_finite() or not abs_.is_finite() or rel < 0 or abs_ < 0:
        raise ReconcileInputError("--tolerance", None, "must be a non-negative decimal")
    return Tolerance(rel, abs_)


def _time(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    return rfc3339_ms(text, option, "value", option)


def _vendor_totals(path: Path) -> list[VendorTotal]:
    name = str(path)
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ReconcileInputError(name, None, f"cannot read: {exc.strerror}") from exc
    out: list[VendorTotal] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ReconcileInputError(name, where, f"invalid JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("org"), str) or not isinstance(
            data.get("meter"), str
        ):
            raise ReconcileInputError(name, where, "needs org and meter")
        quantities: dict[str, Decimal] = {}
        for key, value in (data.get("quantities") or {}).items():
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise ReconcileInputError(name, where, f"quantity {key} must be a decimal string")
            try:
                quantities[key] = Decimal(value)
            except InvalidOperation:
                raise ReconcileInputError(name, where, f"quantity {key} is not a decimal") from None
        credits = data.get("credits")
        nano = None
        if credits is not None:
            try:
                nano = parse_credits(credits, field="credits", allow_zero=True,
                                     allow_negative=True)
            except SpendgateError as exc:
                raise ReconcileInputError(name, where, str(exc)) from None
        out.append(VendorTotal(data["org"], data["meter"], quantities, nano))
    return out


def _emit(report: Report, fmt: str, limit: int) -> None:
    if fmt == "json":
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
        sys.stdout.write("\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows(report.csv_rows())
    else:
        _table(report, limit)


def _table(report: Report, limit: int) -> None:
    out = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    s = report.summary
    data = report.to_dict(include_matched=False)
    out.print(
        f"[bold]{report.provider}[/bold] {data['from']} .. {data['to']}  "
        f"grain {report.grain.describe()}  tolerance {report.tolerance.relative}"
    )
    out.print(
        f"groups {s.groups}: matched {s.matched}, over {s.over}, under {s.under}, "
        f"missing in Spendgate {s.missing_in_spendgate}, missing at provider "
        f"{s.missing_in_provider}; duplicate rows {s.duplicate_rows}, unmapped rows "
        f"{s.unmapped_rows}"
    )
    for f in report.files:
        if f.duplicate_of:
            out.print(f"skipped {f.name}: same content as {f.duplicate_of}")
    shown = 0
    table = Table("period", "org", "project", "model", "meter", "status", "measure",
                  "spendgate", "provider", "diff", "rel", title="discrepancies")
    for group in report.discrepancies():
        k = key_to_dict(group.key)
        for m in group.measures:
            if m.within_tolerance:
                continue
            if shown >= limit:
                break
            shown += 1
            rel = "n/a" if m.relative is None else f"{m.relative * 100:.2f}%"
            table.add_row(k["period"][:10] if report.grain.period != "hour" else k["period"],
                          k["org"], k["project"], k["model"], k["meter"], group.status, m.name,
                          str(m.spendgate), str(m.provider), str(m.difference), rel)
    if shown:
        out.print(table)
        if s.discrepancies and shown >= limit:
            out.print(f"(first {limit} rows; use --format json or csv for all)")
    if report.unmapped:
        unmapped = Table("missing", "value", "rows", "first row", title="unmapped provider rows")
        for u in report.unmapped[:limit]:
            unmapped.add_row(u.reason, u.value, str(u.rows), f"{u.first_file}: {u.first_row}")
        out.print(unmapped)
    if report.duplicates:
        dups = Table("file", "row", "group", title="duplicate provider rows (counted once)")
        for d in report.duplicates[:limit]:
            where: dict[str, Any] = key_to_dict(d.group) if d.group else {}
            dups.add_row(d.file, d.row, " ".join(str(v) for v in where.values()))
        out.print(dups)
    if report.ok:
        out.print("[green]all matched within tolerance[/green]")


__all__ = ["EXIT_BAD_INPUT", "EXIT_DISCREPANCIES", "EXIT_MATCHED", "app"]
