"""Meter aggregations, hand-checked on a small set of events."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.errors import InvalidRequest
from spendgate.metering.events import UsageEvent
from spendgate.metering.meters import Meter, aggregate


def ev(i: int, model: str, tokens: str | None, user: str = "u1", ts: int = 0,
       meter: str = "llm") -> UsageEvent:
    quantities = {} if tokens is None else {"output_tokens": Decimal(tokens)}
    return UsageEvent(f"e{i}", "t", "live", "acme", "studio", user, meter, ts or i, 0,
                      quantities, {"model": model})


EVENTS = [ev(1, "gpt-4o", "100"), ev(2, "gpt-4o", "250.5"), ev(3, "mini", "40"),
          ev(4, "gpt-4o", None), ev(5, "mini", "7", user="u2"), ev(6, "x", "1000", meter="img")]


def meter(**body: object) -> Meter:
    return Meter.parse("m", {"event_meter": "llm", **body})


def test_sum_by_model_adds_exact_quantities() -> None:
    rows = aggregate(meter(aggregation="sum", field="output_tokens", group_by=["model"]), EVENTS)
    assert rows == [{"model": "gpt-4o", "value": "350.5", "events": 2},
                    {"model": "mini", "value": "47", "events": 2}]


def test_count_counts_events_of_the_meter_even_without_the_field() -> None:
    assert aggregate(meter(aggregation="count"), EVENTS) == [{"value": "5", "events": 5}]


def test_max_and_latest_read_the_quantity() -> None:
    assert aggregate(meter(aggregation="max", field="output_tokens"), EVENTS)[0]["value"] \
        == "250.5"
    assert aggregate(meter(aggregation="latest", field="output_tokens"), EVENTS)[0]["value"] \
        == "7"


def test_unique_count_of_a_dimension_with_filters_and_node_groups() -> None:
    rows = aggregate(meter(aggregation="unique_count", field="model", group_by=["user"]), EVENTS)
    assert rows == [{"user": "u1", "value": "2", "events": 4},
                    {"user": "u2", "value": "1", "events": 1}]
    only = aggregate(meter(aggregation="sum", field="output_tokens",
                           filters={"model": ["mini"]}), EVENTS)
    assert only == [{"value": "47", "events": 2}]


@pytest.mark.parametrize("body, param", [
    ({"aggregation": "avg", "field": "x"}, "aggregation"),
    ({"aggregation": "sum"}, "field"),
    ({"aggregation": "count", "filters": {"model": "gpt-4o"}}, "filters.model"),
    ({"aggregation": "count", "color": 1}, "color"),
])
def test_bad_definitions_name_the_field(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        meter(**body)
    assert err.value.param == param
