"""One reconciliation run: import provider files, read the metered side, compare, report.

    report = reconcile("openai", [InputFile.from_path(p) for p in paths], metered, mapping,
                       grain=Grain("day"), tolerance=Tolerance(Decimal("0.01")))

Nothing is written here: adjustments and alerts are separate, explicit steps on the report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

from spendgate.errors import InvalidRequest
from spendgate.reconcile.anthropic import read_anthropic
from spendgate.reconcile.comparison import MeteredSide, ProviderSide, compare
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
) -> Report:
    """Compare provider exports with metered usage. Raises ReconcileInputError on bad input.

    Without from/to the range is the span of the provider's buckets; give both to also find
    days the provider file lacks at its edges.
    """
    grain = grain or Grain()
    tolerance = tolerance or Tolerance()
    if from_ms is not None and to_ms is not None and from_ms >= to_ms:
        raise InvalidRequest("--from must be before --to", param="from")
    name, read = importer_for(provider, mapping)
    resolver = mapping.resolver(name)
    side = ProviderSide(resolver, grain, from_ms=from_ms, to_ms=to_ms, strict=strict)
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
        for provider_row in read(file, progress):
            side.add(provider_row)
        summaries.append(FileSummary(file.name, digest, side.rows - rows_before,
                                     side.outside_range - outside_before))
    start = from_ms if from_ms is not None else (side.first_ms or 0)
    end = to_ms if to_ms is not None else (side.last_ms or start)
    notes: list[str] = []
    if COST in side.measures and mapping.credit_value is not None and side.currency not in (
        None, mapping.credit_value.currency
    ):
        raise InvalidRequest(
            f"the provider bills in {side.currency} but a credit is valued in "
            f"{mapping.credit_value.currency}; compare one currency at a time", param="mapping",
        )
    ours = MeteredSide(resolver, grain, side.measures, side.meters,
                       cost_quantity=mapping.cost_quantity, credit_value=mapping.credit_value)
    if end > start:
        for metered_row in metered.rows(start, end):
            ours.add(metered_row)
    else:
        notes.append("no provider rows in range: nothing compared")
    groups, summary = compare(side, ours, tolerance, mapping.measures)
    return Report(
        run_id=run_id_of(name, list(first_of), start, end, grain),
        provider=name, grain=grain, from_ms=start, to_ms=end, tolerance=tolerance,
        currency=side.currency, files=tuple(summaries), groups=tuple(groups), summary=summary,
        duplicates=tuple(side.duplicates), unmapped=tuple(side.unmapped_rows()),
        metered_rows=ours.rows, metered_out_of_scope=ours.out_of_scope, notes=tuple(notes),
    )


__all__ = ["PROVIDERS", "Importer", "Progress", "importer_for", "reconcile", "run_id_of"]
