"""Time is passed in, never read from the domain: a Clock gives integer UTC milliseconds."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:  # 2026-01-01T00:00:00Z
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance(self, ms: int) -> None:
        with self._lock:
            self._now += ms


def ms_to_rfc3339(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def rfc3339_to_ms(text: object, field: str) -> int:
    from spendgate.errors import InvalidRequest

    if not isinstance(text, str):
        raise InvalidRequest(f"{field} must be an RFC 3339 timestamp", param=field)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(f"{field} must be an RFC 3339 timestamp", param=field) from exc
    if parsed.tzinfo is None:
        raise InvalidRequest(f"{field} must carry a time zone (use Z for UTC)", param=field)
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
