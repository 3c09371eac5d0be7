"""Limits on any node: an amount of credits or of a meter per window, hard or soft."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from spendgate.domain.hierarchy import NodePath

WINDOWS = ("day", "week", "month", "lifetime")
MODES = ("hard", "soft")
CREDITS = "credits"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


DAY_MS = 86_400_000


def window_start(window: str, now_ms: int) -> int:
    """Start of the UTC window holding now: midnight, Monday midnight, the 1st, or 0."""
    if window == "lifetime":
        return 0
    day = now_ms // DAY_MS
    if window == "day":
        return day * DAY_MS
    if window == "week":
        return (day - (day + 3) % 7) * DAY_MS  # 1970-01-01 was a Thursday
    return _month_start(day)


@lru_cache(maxsize=64)
def _month_start(day: int) -> int:
    first = (_EPOCH + timedelta(days=day)).replace(day=1)
    return (first - _EPOCH) // timedelta(milliseconds=1)


@dataclass(slots=True)
class Limit:
    """Definition plus live counters: `used` in the window starting at window_start_ms.

    Counters are mutable so the ledger can move them in place; values handed to callers
    are copies.
    """

    id: str
    path: NodePath
    meter: str  # "credits", "<meter>" or "<meter>.<quantity>"
    amount: int  # nano-credits, or billionths of a meter unit
    window: str
    mode: str
    thresholds: tuple[Decimal, ...] = ()
    window_start_ms: int = 0
    used: int = 0
    held: int = 0
    fired: tuple[str, ...] = ()  # thresholds already alerted in this window
    created_ms: int = 0
    updated_ms: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def hard(self) -> bool:
        return self.mode == "hard"

    def applies_to(self, path: NodePath) -> bool:
        """A limit on a node covers work at that node and below it."""
        return self.path in path.ancestors()

    def used_now(self, now_ms: int) -> int:
        return self.used if self.window_start_ms == window_start(self.window, now_ms) else 0

    def needed(self, credits: int, quantities: dict[str, int]) -> int:
        return credits if self.meter == CREDITS else quantities.get(self.meter, 0)
