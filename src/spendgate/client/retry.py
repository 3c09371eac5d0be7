"""When and how long to wait before trying a call again.

Only calls that are safe to repeat are retried: GETs, and state-changing calls that carry an
Idempotency-Key (the client sends the same key on every attempt, so the server applies the
call once and replays its first answer). A call without a key is retried only when it
certainly never reached the server: the connection was refused, or a 429 turned it away.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Failure(StrEnum):
    """What went wrong with one attempt, as far as retrying cares."""

    NOT_SENT = "not_sent"  # connect refused or timed out: the server never saw the request
    NO_ANSWER = "no_answer"  # sent, but the answer was lost (reset, read timeout)
    STATUS = "status"  # the server answered with an error status


# Statuses that say "try again later" rather than "this request is wrong".
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, honouring Retry-After on 429 and 503.

    Attempt n (n >= 1 retries so far) waits `initial_delay_s * multiplier**(n-1)`, capped
    at `max_delay_s`, of which the fraction `jitter` is drawn at random so that clients
    that failed together do not retry together.
    """

    max_attempts: int = 4
    initial_delay_s: float = 0.25
    multiplier: float = 2.0
    max_delay_s: float = 8.0
    jitter: float = 0.5
    max_retry_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def should_retry(self, attempt: int, failure: Failure, *, idempotent: bool,
                     status: int | None = None) -> bool:
        """Whether attempt number `attempt` (1-based) that failed so may be tried again."""
        if attempt >= self.max_attempts:
            return False
        if failure is Failure.NOT_SENT:
            return True
        if failure is Failure.NO_ANSWER:
            return idempotent
        if status == 429:
            return True  # turned away before any effect; the contract says retry after
        return idempotent and status in TRANSIENT_STATUSES

    def delay_s(self, attempt: int, retry_after_s: Decimal | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after_s is not None:
            # The server knows best; only refuse to sleep absurdly long.
            return min(float(retry_after_s), self.max_retry_after_s)
        base = min(self.initial_delay_s * self.multiplier ** (attempt - 1), self.max_delay_s)
        spread = base * self.jitter
        return base - spread + self.rng.random() * spread

    @classmethod
    def none(cls) -> RetryPolicy:
        """Never retry."""
        return cls(max_attempts=1)


__all__ = ["TRANSIENT_STATUSES", "Failure", "RetryPolicy"]
