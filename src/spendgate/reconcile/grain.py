"""The comparison grain: how wide a period is and which dimensions split a group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from spendgate.errors import InvalidRequest

Period = Literal["hour", "day", "month"]
PERIODS: tuple[Period, ...] = ("hour", "day", "month")
DIMENSIONS = ("org", "project", "model")

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Grain:
    """`period` buckets time in UTC; `by` names the dimensions kept (the meter always is)."""

    period: Period = "day"
    by: tuple[str, ...] = DIMENSIONS

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise InvalidRequest(f"grain must be one of {', '.join(PERIODS)}", param="grain")
        unknown = [name for name in self.by if name not in DIMENSIONS]
        if unknown:
            raise InvalidRequest(
                f"cannot group by {', '.join(unknown)}; choose from {', '.join(DIMENSIONS)}",
                param="by",
            )

    def describe(self) -> str:
        return f"{self.period} x {' x '.join((*self.by, 'meter'))}"


class PeriodClock:
    """Maps UTC milliseconds to the start of their period; months are cached per day."""

    __slots__ = ("_months", "period")

    def __init__(self, period: Period) -> None:
        self.period = period
        self._months: dict[int, int] = {}

    def start(self, ms: int) -> int:
        if self.period == "day":
            return ms - ms % DAY_MS
        if self.period == "hour":
            return ms - ms % HOUR_MS
        day = ms - ms % DAY_MS
        month = self._months.get(day)
        if month is None:
            moment = datetime.fromtimestamp(day // 1000, tz=UTC)
            first = datetime(moment.year, moment.month, 1, tzinfo=UTC)
            month = int(first.timestamp()) * 1000
            self._months[day] = month
        return month

    def contains(self, start_ms: int, end_ms: int) -> bool:
        """True when [start, end) lies inside one period, so it can be compared at this grain."""
        return end_ms > start_ms and self.start(start_ms) == self.start(end_ms - 1)


__all__ = ["DAY_MS", "DIMENSIONS", "HOUR_MS", "PERIODS", "Grain", "Period", "PeriodClock"]
