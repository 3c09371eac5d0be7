"""The metered side, as a port: what Spendgate recorded, by time range.

The store implements `MeteredUsage` over its usage events (or rollups finer than the grain).
Here: an implementation over any iterable of UsageEvent, and one over JSON Lines files of
`UsageEvent.to_dict()` objects, used by the CLI and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

import orjson

from spendgate.domain.money import parse_credits
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
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        data = orjson.loads(line)
                    except orjson.JSONDecodeError as exc:
                        raise ReconcileInputError(
                            name, f"line {number}", f"invalid JSON (truncated?): {exc}"
                        ) from exc
                    row = _row(data, name, number, self._tenant, self._env)
                    if row is not None and from_ms <= row.timestamp_ms < to_ms:
                        yield row


def _row(data: Any, name: str, number: int, tenant: str | None,
         env: str | None) -> MeteredRow | None:
    where = f"line {number}"
    if not isinstance(data, dict):
        raise ReconcileInputError(name, where, "expected a usage event object")
    if (tenant is not None and data.get("tenant") != tenant) or (
        env is not None and data.get("env") != env
    ):
        return None
    try:
        ts = data["timestamp_ms"]
        org = data["org"]
        meter = data["meter"]
        credits = data["credits"]
    except KeyError as exc:
        raise ReconcileInputError(name, where, f"usage event without {exc.args[0]}") from None
    if type(ts) is not int or not isinstance(org, str) or not isinstance(meter, str):
        raise ReconcileInputError(name, where, "timestamp_ms, org and meter are malformed")
    try:
        nano = parse_credits(credits, field="credits", allow_zero=True, allow_negative=True)
    except InvalidAmount as exc:
        raise ReconcileInputError(name, where, exc.message) from None
    raw = data.get("quantities") or {}
    if not isinstance(raw, dict):
        raise ReconcileInputError(name, where, "quantities must be an object")
    quantities: dict[str, Quantity] = {}
    for key, value in raw.items():
        quantities[key] = _quantity(value, name, where, key)
    dimensions = data.get("dimensions") or {}
    model = dimensions.get(MODEL_DIMENSION) if isinstance(dimensions, dict) else None
    events = 1 if data.get("kind", "usage") == "usage" else 0
    return MeteredRow(ts, org, data.get("project"), model, meter, quantities, nano, events)


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
