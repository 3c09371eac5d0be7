"""One reconciliation run: import provider files, read the metered side, compare, report.

    report = reconcile("openai", [InputFile.from_path(p) for p in paths], metered, mapping,
                       grain=Grain("day"), tolerance=Tolerance(Decimal("0.01")))

Nothing is written here: adjustments and alerts are separate, explicit steps on the report.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from multiprocessing.connection import Connection
from typing import Any

from spendgate.errors import InvalidRequest
from spendgate.reconcile.anthropic import read_anthropic
from spendgate.reconcile.comparison import MeteredSide, ProviderSide, compare
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.generic_csv import read_csv
from spendgate.reconcile.grain import Grain
from spendgate.reconcile.mapping import ProviderMapping
from spendgate.reconcile.metered import MeteredUsage
from spendgate.reconcile.openai import read_openai
from spendgate.reconcile.report import FileSummary, Report, Tolerance
from spendgate.reconcile.rows import COST, ProviderRow
from spendgate.reconcile.source import InputFile

PROVIDERS = ("openai", "anthropic", "csv")
Progress = Callable[[int], None]
Importer = Callable[[InputFile, Progress | None], Iterator[ProviderRow]]


def importer_for(provider: str, mapping: ProviderMapping) -> tuple[str, Importer]:
    """The provider's name in the mapping and its file reader."""
    if provider == "openai":
        return "openai", read_openai
    if provider == "anthropic":
        return "anthropic", read_anthropic
    if provider == "csv":
        if mapping.csv is None:
            raise InvalidRequest("a CSV import needs a `csv` section in the mapping",
                                 param="mapping")
        layout = mapping.csv

        def read(file: InputFile, progress: Progress | None) -> Iterator[ProviderRow]:
            return read_csv(file, layout, progress)

        return layout.provider, read
    raise InvalidRequest(f"provider must be one of {', '.join(PROVIDERS)}", param="provider")


def run_id_of(provider: str, digests: Sequence[str], from_ms: int, to_ms: int,
              grain: Grain) -> str:
    """The run's identity: same provider files, range and grain give the same id."""
    text = "\x1f".join((provider, *sorted(digests), str(from_ms), str(to_ms), grain.period,
                        ",".join(grain.by)))
    return "rec_" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """An import allocates millions of short-lived, acyclic objects; the cyclic collector would
    rescan the growing heap many times for nothing. Paused for the run, then restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def reconcile(
    provider: str,
    files: Sequence[InputFile],
    metered: MeteredUsage,
    mapping: ProviderMapping,
    *,
    grain: Grain | None = None,
    tolerance: Tolerance | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    workers: int = 1,
) -> Report:
    """Compare provider exports with metered usage. Raises ReconcileInputError on bad input.

    Without from/to the range is the span of the provider's buckets; give both to also find
    days the provider file lacks at its edges. With both and `workers` > 1, the provider files
    are imported in a worker process while this one reads the metered side.
    """
    grain = grain or Grain()
    tolerance = tolerance or Tolerance()
    if from_ms is not None and to_ms is not None and from_ms >= to_ms:
        raise InvalidRequest("--from must be before --to", param="from")
    name, _ = importer_for(provider, mapping)
    with _collector_paused():
        if workers > 1 and from_ms is not None and to_ms is not None:
            imported, ours = _concurrently(provider, files, metered, mapping, grain, from_ms,
                                           to_ms, strict, progress)
        else:
            imported = _import(provider, files, mapping, grain, from_ms, to_ms, strict, progress)
            ours = None
        side = imported.side
        start = from_ms if from_ms is not None else (side.first_ms or 0)
        end = to_ms if to_ms is not None else (side.last_ms or start)
        if COST in side.measures and mapping.credit_value is not None and side.currency not in (
            None, mapping.credit_value.currency
        ):
            raise InvalidRequest(
                f"the provider bills in {side.currency} but a credit is valued in "
                f"{mapping.credit_value.currency}; compare one currency at a time",
                param="mapping",
            )
        notes: list[str] = []
        if ours is None:
            ours = MeteredSide(mapping.resolver(name), grain, side.measures, side.meters,
                               cost_quantity=mapping.cost_quantity,
                               credit_value=mapping.credit_value)
            if end > start:
                ours.add_many(metered.rows(start, end))
        else:
            ours.restrict(side.measures, side.meters)
        if side.rows == 0:
            notes.append("no provider rows in range: nothing to compare them with")
        groups, summary = compare(side, ours, tolerance, mapping.measures)
    return Report(
        run_id=run_id_of(name, imported.digests, start, end, grain),
        provider=name, grain=grain, from_ms=start, to_ms=end, tolerance=tolerance,
        currency=side.currency, files=tuple(imported.summaries), groups=tuple(groups),
        summary=summary, duplicates=tuple(side.duplicates), unmapped=tuple(side.unmapped_rows()),
        metered_rows=ours.rows, metered_out_of_scope=ours.out_of_scope, notes=tuple(notes),
    )


@dataclass(slots=True)
class _Imported:
    side: ProviderSide
    summaries: list[FileSummary]
    digests: list[str]


def _import(provider: str, files: Sequence[InputFile], mapping: ProviderMapping, grain: Grain,
            from_ms: int | None, to_ms: int | None, strict: bool,
            progress: Progress | None) -> _Imported:
    name, read = importer_for(provider, mapping)
    side = ProviderSide(mapping.resolver(name), grain, from_ms=from_ms, to_ms=to_ms,
                        strict=strict)
    summaries: list[FileSummary] = []
    first_of: dict[str, str] = {}
    for file in files:
        digest = file.digest()
        if digest in first_of:
            # The same export twice adds nothing: skip it whole and say so.
            summaries.append(FileSummary(file.name, digest, 0, 0, duplicate_of=first_of[digest]))
            if progress is not None and file.size:
                progress(file.size)
            continue
        first_of[digest] = file.name
        rows_before, outside_before = side.rows, side.outside_range
        side.add_many(read(file, progress))
        summaries.append(FileSummary(file.name, digest, side.rows - rows_before,
                                     side.outside_range - outside_before))
    return _Imported(side, summaries, list(first_of))


def _concurrently(provider: str, files: Sequence[InputFile], metered: MeteredUsage,
                  mapping: ProviderMapping, grain: Grain, from_ms: int, to_ms: int,
                  strict: bool, progress: Progress | None) -> tuple[_Imported, MeteredSide]:
    """Provider files in a worker process, the metered side here, at the same time.

    The metered side does not know yet which measures and meters the provider reports, so it
    keeps them all and is trimmed afterwards. Spawned (not forked): safe in threaded callers.
    """
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Value("q", 0, lock=False)
    receiver, sender = ctx.Pipe(duplex=False)
    worker = ctx.Process(
        target=_import_worker, name="spendgate-reconcile-import",
        args=(sender, done, provider, list(files), mapping, grain, from_ms, to_ms, strict),
    )
    worker.start()
    sender.close()
    reported = 0

    def report_progress() -> None:
        nonlocal reported
        if progress is not None and done.value > reported:
            progress(done.value - reported)
            reported = done.value

    try:
        name, _ = importer_for(provider, mapping)
        ours = MeteredSide(mapping.resolver(name), grain, None, None,
                           cost_quantity=mapping.cost_quantity, credit_value=mapping.credit_value)
        rows = metered.rows(from_ms, to_ms)
        while True:
            batch = list(islice(rows, 65_536))
            if not batch:
                break
            ours.add_many(batch)
            report_progress()
        while not receiver.poll(0.1):
            report_progress()
            if not worker.is_alive() and not receiver.poll(0):
                raise RuntimeError("the reconciliation import worker died")
        outcome = receiver.recv()
        report_progress()
    finally:
        worker.join(timeout=5)
        if worker.is_alive():
            worker.terminate()
        receiver.close()
    kind = outcome[0]
    if kind == "ok":
        imported: _Imported = outcome[1]
        imported.side.resolver = mapping.resolver(name)
        return imported, ours
    if kind == "input":
        raise ReconcileInputError(outcome[1], outcome[2], outcome[3])
    if kind == "invalid":
        raise InvalidRequest(outcome[1], param=outcome[2])
    raise RuntimeError(f"the reconciliation import worker failed: {outcome[1]}")


def _import_worker(sender: Connection, done: Any, provider: str, files: list[InputFile],
                   mapping: ProviderMapping, grain: Grain, from_ms: int, to_ms: int,
                   strict: bool) -> None:
    def progress(n: int) -> None:
        done.value += n

    gc.disable()
    try:
        imported = _import(provider, files, mapping, grain, from_ms, to_ms, strict, progress)
        imported.side.detached()
        sender.send(("ok", imported))
    except ReconcileInputError as exc:
        sender.send(("input", exc.file, exc.row, exc.detail))
    except InvalidRequest as exc:
        sender.send(("invalid", exc.message, exc.param))
    except BaseException as exc:  # reported to the parent, which raises
        sender.send(("crash", "".join(traceback.format_exception(exc))))
    finally:
        sender.close()


__all__ = ["PROVIDERS", "Importer", "Progress", "importer_for", "reconcile", "run_id_of"]
