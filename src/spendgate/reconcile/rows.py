"""The two sides of a comparison, each reduced to rows: what a provider reported, what we metered.

Both are NamedTuples rather than frozen dataclasses on purpose: an import creates a million of
them, and a tuple is built several times faster. They are still immutable values.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

Quantity = int | Decimal

# The measure holding provider cost in major currency units (e.g. dollars).
COST = "cost"
# The measure counting requests; on the metered side it is the number of usage events.
REQUESTS = "requests"


class ProviderRow(NamedTuple):
    """One result of one provider bucket, normalised to Spendgate's quantity names."""

    provider: str
    file: str
    where: str  # the bucket (or CSV line), e.g. "line 12, page 1, bucket 3"
    result: int  # the result's number in its bucket; 0 when `where` says it all
    key: int  # identity within a run: kind, bucket, grouping fields (64-bit hash)
    start_ms: int
    end_ms: int
    account: str | None  # provider project id / workspace id
    api_key: str | None
    model: str | None
    meter: str
    quantities: Mapping[str, Quantity]
    currency: str | None = None  # set when quantities carry COST

    @property
    def row(self) -> str:
        """Where the row is, for messages: "line 12, page 1, bucket 3, result 2"."""
        return f"{self.where}, result {self.result}" if self.result else self.where


class MeteredRow(NamedTuple):
    """Usage Spendgate metered: one event, or a pre-aggregated row finer than the grain."""

    timestamp_ms: int
    org: str
    project: str | None
    model: str | None
    meter: str
    quantities: Mapping[str, Quantity]
    credits_nano: int
    events: int = 1


class GroupKey(NamedTuple):
    """One cell of the comparison; dimensions outside the grain hold "*"."""

    period_ms: int
    org: str
    project: str
    model: str
    meter: str


__all__ = ["COST", "REQUESTS", "GroupKey", "MeteredRow", "ProviderRow", "Quantity"]
