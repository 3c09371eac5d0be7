"""Limits on any node: an amount of credits or of a meter per window, hard or soft."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from spendgate.domain.hierarchy import NodePath

WINDOWS = ("day", "week", "month", "lifetime")
MODES = ("hard", "soft")
CREDITS = "credits"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def window_start(window: str, now_ms: int) -> int:
    """Start of the UTC window holding now: midnight, Monday midnight, the 1st, or 0."""
    if window == "lifetime":
        return 0
    now = _EPOCH + timedelta(milliseconds=now_ms)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "week":
        day -= timedelta(days=day.weekday())
    elif window == "month":
        day = day.replace(day=1)
    return (day - _EPOCH) // timedelta(milliseconds=1)


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
