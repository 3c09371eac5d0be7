"""A generic CSV usage export (image, video and other providers), columns mapped in config.

Roles in `csv.columns`: `timestamp` (required; RFC 3339 with a zone, or a YYYY-MM-DD date meaning
that UTC day), `model` (required), `account`, `api_key`, `cost`, `currency`. `csv.quantities` maps
quantity columns to measure names. Every other column is part of the row's identity.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from spendgate.reconcile._parse import amount, currency, rfc3339_ms, row_key
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.grain import DAY_MS, HOUR_MS
from spendgate.reconcile.mapping import CsvLayout
from spendgate.reconcile.rows import COST, ProviderRow, Quantity
from spendgate.reconcile.source import InputFile


def read_csv(
    file: InputFile, layout: CsvLayout, progress: Callable[[int], None] | None = None
) -> Iterator[ProviderRow]:
    """Every data row of a CSV export, normalised; a wrong header or value raises."""
    name = file.name
    width = DAY_MS if layout.period == "day" else HOUR_MS
    roles = layout.columns
    with file.open() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(_counting(text, progress))
        try:
            header = next(reader)
        except StopIteration:
            raise ReconcileInputError(name, "line 1", "is empty: expected a header row") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ReconcileInputError(name, "line 1", f"unreadable CSV: {exc}") from exc
        index = {column.strip(): i for i, column in enumerate(header)}
        wanted = [*roles.values(), *layout.quantities]
        missing = [column for column in wanted if column not in index]
        if missing:
            raise ReconcileInputError(
                name, "line 1 (header)",
                f"missing column(s) {', '.join(missing)}; the file has {', '.join(index)}",
            )
        at = {role: index[column] for role, column in roles.items()}
        measures = [(index[column], target) for column, target in layout.quantities.items()]
        used = {*at.values(), *(i for i, _ in measures)}
        identity = [i for i in range(len(header)) if i not in used or i in
                    (at.get("timestamp"), at.get("model"), at.get("account"), at.get("api_key"))]
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except (UnicodeDecodeError, csv.Error) as exc:
                raise ReconcileInputError(name, f"line {reader.line_num}",
                                          f"unreadable CSV: {exc}") from exc
            if not cells or all(not c.strip() for c in cells):
                continue
            row = f"line {reader.line_num}"
            if len(cells) != len(header):
                raise ReconcileInputError(
                    name, row, f"has {len(cells)} columns, the header has {len(header)}"
                )
            ts = rfc3339_ms(cells[at["timestamp"]], name, row, roles["timestamp"])
            start = ts - ts % width
            quantities: dict[str, Quantity] = {}
            for i, target in measures:
                quantities[target] = _quantity(cells[i], name, row, header[i])
            code: str | None = None
            if "cost" in at:
                quantities[COST] = _quantity(cells[at["cost"]], name, row, roles["cost"])
                if "currency" not in at:
                    raise ReconcileInputError(name, row, "a cost column needs a currency column")
                code = currency(cells[at["currency"]].strip(), name, row)
            key = row_key(layout.provider, start, *[cells[i].strip() for i in identity])
            yield ProviderRow(
                layout.provider, name, row, 0, key, start, start + width,
                _cell(cells, at.get("account")), _cell(cells, at.get("api_key")),
                _cell(cells, at["model"]), layout.meter, quantities, code,
            )


def _cell(cells: list[str], i: int | None) -> str | None:
    if i is None:
        return None
    return cells[i].strip() or None


def _quantity(text: str, name: str, row: str, column: str) -> Quantity:
    value = text.strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    parsed = amount(value, name, row, column)
    if parsed < 0:
        raise ReconcileInputError(name, row, f"{column} must not be negative")
    return parsed if parsed != parsed.to_integral_value() else int(parsed)


def _counting(text: io.TextIOWrapper, progress: Callable[[int], None] | None) -> Iterator[str]:
    for line in text:
        if progress is not None:
            progress(len(line))
        yield line


__all__ = ["read_csv"]
