"""Strict RFC 3339 for the stubs (Go's time.RFC3339 and Metronome's rule: 4-digit year)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339_ms(text: object) -> int | None:
    """Milliseconds since the epoch, or None when `text` is not strict RFC 3339."""
    if not isinstance(text, str):
        return None
    match = _RFC3339.match(text)
    if match is None:
        return None
    fraction = (match.group(7) or "")[:7]  # fromisoformat takes at most 6 digits
    zone = match.group(8).upper().replace("Z", "+00:00")
    base = text[: match.start(7)] if match.group(7) else text[: match.start(8)]
    try:
        parsed = datetime.fromisoformat(base.replace("t", "T") + fraction + zone)
    except ValueError:
        return None
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


__all__ = ["rfc3339_ms"]
