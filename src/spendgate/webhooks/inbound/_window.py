"""Replay protection shared by the timestamped schemes."""

from __future__ import annotations

from spendgate.webhooks.errors import StaleTimestamp

DEFAULT_TOLERANCE_MS = 5 * 60 * 1000


def check_window(signed_ms: int, now_ms: int, tolerance_ms: int) -> None:
    """Refuse a signed time more than `tolerance_ms` before or after now."""
    skew = signed_ms - now_ms
    if abs(skew) > tolerance_ms:
        raise StaleTimestamp(skew, tolerance_ms)
