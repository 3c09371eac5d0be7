"""The metered side, as a port: what Spendgate recorded, by time range.

The store implements `MeteredUsage` over its usage events (or rollups finer than the grain).
Here: an implementation over any iterable of UsageEvent, and one over JSON Lines files of
`UsageEvent.to_dict()` objects, used by the CLI and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from spendgate.domain.money import NANO_PER_CREDIT, parse_credits
from spendgate.errors import InvalidAmount
from spendgate.metering.events import UsageEvent
from spendgate.reconcile.errors import ReconcileInputError
from spendgate.reconcile.rows import MeteredRow, Quantity

MODEL_DIMENSION = "model"


class MeteredUsage(Protocol):
    def rows(self, from_ms: int, to_ms: int) -> Iterator[MeteredRow]:
        """Usage with from_ms <= timestamp < to_ms: events or rollups finer than the grain."""
        ...


def row_of_event(event: UsageEvent) -> MeteredRow:
    return MeteredRow(
        event.timestamp_ms, event.org, event.project, event.dimensions.get(MODEL_DIMENSION),
        event.meter, dict(event.quantities), event.credits_nano,
        1 if event.kind == "usage" else 0,
    )


class EventsMeteredUsage:
    """Metered usage over UsageEvent values already in hand."""

    def __init__(self, events: Iterable[UsageEvent]) -> None:
        self._events = events

    def rows(self, from_ms: int, to_ms: int) -> Iterator[MeteredRow]:
        for event in self._events:
            if from_ms <= event.timestamp_ms < to_ms:
                yield row_of_event(event)


class JsonLinesMeteredUsage:
    """Metered usage read, streaming, from JSON Lines of UsageEvent.to_dict() objects."""

    def __init__(self, paths: Sequence[str | Path], *, tenant: str | None = None,
                 env: str | None = None) -> None:
        self._paths = [Path(p) for p in paths]
        self._tenant = tenant
        self._env = env

    def rows(self, from_ms: int, to_ms: int) -> Iterator[MeteredRow]:
        for path in self._paths:
            name = str(path)
            try:
                handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
            except OSError as exc:
                raise ReconcileInputError(name, None, f"cannot read: {exc.strerror}") from exc
            with handle:
                yield from _read(handle, name, from_ms, to_ms, self._tenant, self._env)


def _read(handle: IO[bytes], name: str, from_ms: int, to_ms: int, tenant: str | None,
          env: str | None) -> Iterator[MeteredRow]:
    """The rows of one file. The common event shape is handled inline (this runs once per
    event); anything unusual goes through `_row`, which explains what is wrong."""
    loads = orjson.loads
    new_row = tuple.__new__
    filtered = tenant is not None or env is not None
    for number, line in enumerate(handle, 1):
        try:
            data = loads(line)
        except orjson.JSONDecodeError as exc:
            if not line.strip():
                continue
            raise ReconcileInputError(
                name, f"line {number}", f"invalid JSON (truncated?): {exc}"
            ) from exc
        if type(data) is dict and not filtered:
            get = data.get
            ts = get("timestamp_ms")
            credits = get("credits")
            raw = get("quantities")
            dimensions = get("dimensions")
            if (type(ts) is int and type(credits) is str and type(raw) is dict
                    and type(dimensions) is dict and get("kind") == "usage"):
                whole, dot, frac = credits.partition(".")
                org = get("org")
                meter = get("meter")
                if (dot and len(frac) == 9 and whole.isdigit() and frac.isdigit()
                        and type(org) is str and type(meter) is str):
                    quantities: dict[str, Quantity] = {}
                    for key, value in raw.items():
                        if type(value) is str and value.isdigit():
                            quantities[key] = int(value)
                        else:
                            quantities[key] = _quantity(value, name, f"line {number}", key)
                    if from_ms <= ts < to_ms:
                        yield new_row(MeteredRow, (
                            ts, org, get("project"), dimensions.get(MODEL_DIMENSION), meter,
                            quantities, int(whole) * NANO_PER_CREDIT + int(frac), 1))
                    continue
        row = _row(data, name, number, tenant, env)
        if row is not None and from_ms <= row.timestamp_ms < to_ms:
            yield row


def _row(data: Any, name: str, number: int, tenant: str | None,
         env: str | None) -> MeteredRow | None:
    """One event line as a row; runs once per event, so the common shape is checked inline."""
    if type(data) is not dict:
        raise ReconcileInputError(name, f"line {number}", "expected a usage event object")
    if (tenant is not None and data.get("tenant") != tenant) or (
        env is not None and data.get("env") != env
    ):
        return None
    get = data.get
    ts = get("timestamp_ms")
    org = get("org")
    meter = get("meter")
    credits = get("credits")
    raw = get("quantities") or {}
    dimensions = get("dimensions") or {}
    if (type(ts) is not int or type(org) is not str or type(meter) is not str
            or type(raw) is not dict or type(dimensions) is not dict):
        raise ReconcileInputError(
            name, f"line {number}",
            "a usage event needs timestamp_ms, org, meter, credits, quantities as in "
            "UsageEvent.to_dict()",
        )
    nano = None
    if type(credits) is str:
        whole, dot, frac = credits.partition(".")
        if dot and whole.isdigit() and frac.isdigit() and len(frac) == 9:
            nano = int(whole) * NANO_PER_CREDIT + int(frac)
    if nano is None:
        nano = _nano(credits, name, f"line {number}")
    quantities: dict[str, Quantity] = {}
    for key, value in raw.items():
        quantities[key] = (int(value) if type(value) is str and value.isdigit()
                           else _quantity(value, name, f"line {number}", key))
    events = 1 if get("kind", "usage") == "usage" else 0
    # tuple.__new__ skips NamedTuple's Python-level __new__: this runs once per event.
    return tuple.__new__(MeteredRow, (ts, org, get("project"), dimensions.get(MODEL_DIMENSION),
                                      meter, quantities, nano, events))


def _nano(credits: Any, name: str, where: str) -> int:
    """Credits as nano-credits: the plain "12.345000000" form fast, anything else strictly."""
    if type(credits) is str:
        whole, dot, frac = credits.partition(".")
        if whole.isdigit() and (frac.isdigit() and len(frac) <= 9 if dot else True):
            return int(whole) * NANO_PER_CREDIT + (int(frac.ljust(9, "0")) if dot else 0)
    try:
        return parse_credits(credits, field="credits", allow_zero=True, allow_negative=True)
    except InvalidAmount as exc:
        raise ReconcileInputError(name, where, exc.message) from None


def _quantity(value: Any, name: str, where: str, key: str) -> Quantity:
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            parsed = Decimal("NaN")
        if parsed.is_finite():
            return parsed
    elif type(value) is int:
        return value
    raise ReconcileInputError(
        name, where, f"quantity {key} must be a decimal string, got {value!r} (no floats)"
    )


__all__ = ["EventsMeteredUsage", "JsonLinesMeteredUsage", "MeteredUsage", "row_of_event"]
