"""When to try again: exponential backoff with full jitter, capped, honouring Retry-After."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

# A reset header larger than this is an absolute Unix time, not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Backoff:
    """delay = uniform(0, min(cap, base·2^attempt)), but never sooner than Retry-After.

    `uniform` is injectable (a function returning [0, 1)) so tests are deterministic.
    """

    base_s: float = 1.0
    cap_s: float = 300.0
    max_retry_after_s: float = 3600.0
    uniform: Callable[[], float] = field(default=random.random)

    def delay_s(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before attempt number `attempt + 1` (attempt counts from 0)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 62)))
        jittered: float = ceiling * float(self.uniform())
        if retry_after_s is None:
            return jittered
        return max(min(retry_after_s, self.max_retry_after_s), jittered)

    def delay_ms(self, attempt: int, retry_after_s: float | None = None) -> int:
        return round(self.delay_s(attempt, retry_after_s) * 1000)


def parse_retry_after(value: str | None, *, now_s: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds ("120", "1.5") or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        now = time.time() if now_s is None else now_s
        return max(0.0, when.timestamp() - now)
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


def retry_after_from_headers(
    headers: Mapping[str, str] | None, *, now_s: float | None = None
) -> float | None:
    """The server's wish, from Retry-After, retry-after-ms or X-RateLimit-Reset."""
    if headers is None:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    found = parse_retry_after(lowered.get("retry-after"), now_s=now_s)
    if found is not None:
        return found
    millis = parse_retry_after(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    reset = parse_retry_after(lowered.get("x-ratelimit-reset"))
    if reset is not None and reset > _EPOCH_THRESHOLD:
        now = time.time() if now_s is None else now_s
        return max(0.0, reset - now)
    return reset


__all__ = ["Backoff", "parse_retry_after", "retry_after_from_headers"]
