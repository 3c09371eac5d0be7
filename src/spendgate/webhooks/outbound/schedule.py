"""When to try an outbound delivery again: exponential backoff with jitter, over 24 h+."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Delays after attempt 1, 2, ...; None after the last one (the delivery has failed).

    The default (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) spans 27 h 35 min; jitter of
    ±10 % keeps the span above 24 h even when every draw is the lowest.
    """

    delays_ms: tuple[int, ...] = (5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR,
                                  10 * HOUR, 10 * HOUR)
    jitter_permille: int = 100

    @property
    def max_attempts(self) -> int:
        return len(self.delays_ms) + 1

    def min_span_ms(self) -> int:
        return sum(d - d * self.jitter_permille // 1000 for d in self.delays_ms)

    def next_attempt_ms(self, attempts_made: int, now_ms: int, rng: random.Random) -> int | None:
        """When to try again after `attempts_made` failed attempts; None means give up."""
        if attempts_made < 1 or attempts_made > len(self.delays_ms):
            return None
        delay = self.delays_ms[attempts_made - 1]
        spread = delay * self.jitter_permille // 1000
        return now_ms + delay + rng.randint(-spread, spread)

    @classmethod
    def of(cls, delays_ms: Sequence[int], jitter_permille: int = 100) -> RetrySchedule:
        return cls(tuple(delays_ms), jitter_permille)


__all__ = ["HOUR", "MINUTE", "SECOND", "RetrySchedule"]
