"""Per-key rate limiting: a token bucket per API key, in this process's memory.

Each replica limits on its own, so N replicas allow up to N times the rate; that is the
documented trade-off for a limiter with no shared state on the hot path.
"""

from __future__ import annotations

import math
import threading
import time

from spendgate.errors import RateLimited


class TokenBuckets:
    def __init__(self, rate_per_s: int, burst: int) -> None:
        self.rate = rate_per_s
        self.burst = max(burst, 1)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited with the wait in seconds."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1.0 - tokens) / self.rate)))
            self._buckets[key] = (tokens - 1.0, now)
