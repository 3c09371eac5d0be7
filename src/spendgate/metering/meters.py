"""Meters: named aggregations over usage events, the way billing vendors define them.

    {"event_meter": "llm", "aggregation": "sum", "field": "output_tokens",
     "filters": {"model": ["gpt-4o", "gpt-4o-mini"]}, "group_by": ["project", "model"]}

Aggregations follow Lago, Metronome and Flexprice: `sum`, `max` and `latest` read a numeric
quantity; `count` counts events; `unique_count` counts distinct values of a dimension or
quantity. Filters keep events whose dimension is one of the listed values. Groups may be any
dimension or `org`, `project`, `user`. Values are exact (Decimal), never float.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from spendgate.domain.ids import check_id
from spendgate.errors import InvalidRequest
from spendgate.metering.events import UsageEvent

AGGREGATIONS = ("sum", "count", "max", "unique_count", "latest")
NODE_GROUPS = ("org", "project", "user")


@dataclass(frozen=True, slots=True)
class Meter:
    name: str
    event_meter: str
    aggregation: str
    field: str | None = None
    filters: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    group_by: tuple[str, ...] = ()

    @classmethod
    def parse(cls, name: str, body: object) -> Meter:
        check_id(name, "name")
        if not isinstance(body, Mapping):
            raise InvalidRequest("a meter must be a JSON object", param="body")
        unknown = set(body) - {"event_meter", "aggregation", "field", "filters", "group_by"}
        if unknown:
            bad = sorted(unknown)[0]
            raise InvalidRequest(f"unknown field {bad!r}", param=bad)
        event_meter = body.get("event_meter")
        if not isinstance(event_meter, str) or not event_meter:
            raise InvalidRequest("event_meter names the usage meter to read, e.g. llm",
                                 param="event_meter")
        aggregation = body.get("aggregation")
        if aggregation not in AGGREGATIONS:
            raise InvalidRequest(f"aggregation must be one of {', '.join(AGGREGATIONS)}",
                                 param="aggregation")
        fld = body.get("field")
        if aggregation != "count" and (not isinstance(fld, str) or not fld):
            raise InvalidRequest(f"{aggregation} needs field (a quantity or dimension)",
                                 param="field")
        filters_raw = body.get("filters") or {}
        if not isinstance(filters_raw, Mapping):
            raise InvalidRequest("filters must map a dimension to a list of values",
                                 param="filters")
        filters: dict[str, tuple[str, ...]] = {}
        for key, values in filters_raw.items():
            if not isinstance(values, list) or not values or not all(
                    isinstance(v, str) for v in values):
                raise InvalidRequest(f"filters.{key} must be a non-empty list of strings",
                                     param=f"filters.{key}")
            filters[str(key)] = tuple(values)
        group_by = body.get("group_by") or []
        if not isinstance(group_by, list) or not all(isinstance(g, str) and g
                                                     for g in group_by):
            raise InvalidRequest("group_by must be a list of dimension names",
                                 param="group_by")
        return cls(name, event_meter, str(aggregation), fld if isinstance(fld, str) else None,
                   filters, tuple(dict.fromkeys(group_by)))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "event_meter": self.event_meter,
                "aggregation": self.aggregation, "field": self.field,
                "filters": {k: list(v) for k, v in self.filters.items()},
                "group_by": list(self.group_by)}

    def matches(self, ev: UsageEvent) -> bool:
        if ev.meter != self.event_meter:
            return False
        return all(ev.dimensions.get(k) in allowed for k, allowed in self.filters.items())

    def group_of(self, ev: UsageEvent) -> tuple[str | None, ...]:
        nodes = {"org": ev.org, "project": ev.project, "user": ev.user}
        return tuple(nodes[g] if g in NODE_GROUPS else ev.dimensions.get(g)
                     for g in self.group_by)


@dataclass(slots=True)
class _Acc:
    events: int = 0
    total: Decimal = Decimal(0)
    best: Decimal | None = None
    latest: tuple[int, str, Decimal] | None = None
    seen: set[str] = dataclasses.field(default_factory=set)


def aggregate(meter: Meter, events: Iterable[UsageEvent]) -> list[dict[str, Any]]:
    """One row per group: {group fields..., "value": decimal string, "events": n}."""
    groups: dict[tuple[str | None, ...], _Acc] = {}
    for ev in events:
        if not meter.matches(ev):
            continue
        quantity = ev.quantities.get(meter.field) if meter.field else None
        if meter.aggregation in ("sum", "max", "latest") and quantity is None:
            continue  # an event without the field says nothing about it
        acc = groups.setdefault(meter.group_of(ev), _Acc())
        acc.events += 1
        if meter.aggregation == "sum":
            acc.total += quantity or 0
        elif meter.aggregation == "max":
            acc.best = quantity if acc.best is None else max(acc.best, quantity or acc.best)
        elif meter.aggregation == "latest" and quantity is not None:
            stamp = (ev.timestamp_ms, ev.id, quantity)
            if acc.latest is None or stamp[:2] > acc.latest[:2]:
                acc.latest = stamp
        elif meter.aggregation == "unique_count" and meter.field:
            distinct = ev.dimensions.get(meter.field)
            if distinct is None and meter.field in ev.quantities:
                distinct = str(ev.quantities[meter.field])
            if distinct is not None:
                acc.seen.add(distinct)
    rows = []
    for group, acc in sorted(groups.items(), key=lambda kv: [str(v) for v in kv[0]]):
        value: Decimal | int
        if meter.aggregation == "sum":
            value = acc.total
        elif meter.aggregation == "count":
            value = acc.events
        elif meter.aggregation == "max":
            value = acc.best if acc.best is not None else Decimal(0)
        elif meter.aggregation == "latest":
            value = acc.latest[2] if acc.latest is not None else Decimal(0)
        else:
            value = len(acc.seen)
        row: dict[str, Any] = dict(zip(meter.group_by, group, strict=True))
        row["value"] = format(Decimal(value).normalize(), "f")
        row["events"] = acc.events
        rows.append(row)
    return rows
