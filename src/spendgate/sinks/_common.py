"""What the HTTP adapters share: status classification, pre-send mapping, bisection."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from spendgate.metering.events import UsageEvent
from spendgate.sinks.backoff import retry_after_from_headers
from spendgate.sinks.port import InvalidMapping, PermanentFailure, RetryLater

# Statuses that say "not now" rather than "never": the request may succeed later unchanged.
# 401/403/404 mean the sink is misconfigured (key, URL), not that an event is bad: the
# events wait (and eventually dead-letter) instead of being thrown away at once.
_TRANSIENT = frozenset({401, 403, 404, 405, 408, 409, 425, 429})


class Rejected(Exception):  # an internal signal, never leaves an adapter
    """The vendor refused the request as sent (a 4xx validation answer)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_transient(status: int) -> bool:
    return status in _TRANSIENT or status >= 500


def raise_for_status(status: int, headers: Mapping[str, str] | None, reason: str) -> NoReturn:
    if is_transient(status):
        raise RetryLater(reason, after_s=retry_after_from_headers(headers))
    raise Rejected(reason)


def unique_events(events: Sequence[UsageEvent]) -> list[UsageEvent]:
    """One copy of each event id (a replay can put the same event in a batch twice)."""
    seen: set[str] = set()
    out: list[UsageEvent] = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            out.append(event)
    return out


def map_all(
    events: Sequence[UsageEvent], to_vendor: Callable[[UsageEvent], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Map every event or refuse, before sending anything, naming the unmappable ones."""
    payloads: list[dict[str, Any]] = []
    bad: list[str] = []
    reasons: list[str] = []
    for event in events:
        try:
            payloads.append(to_vendor(event))
        except InvalidMapping as exc:
            bad.append(event.id)
            reasons.append(exc.message)
    if bad:
        raise PermanentFailure("invalid mapping: " + "; ".join(reasons[:3]), bad)
    return payloads


def deliver_bisecting(
    events: Sequence[UsageEvent],
    payloads: Sequence[dict[str, Any]],
    send: Callable[[Sequence[dict[str, Any]]], None],
) -> None:
    """Send all; when the vendor refuses a whole batch without saying which event is bad,
    halve it until the refused events stand alone, and name them."""
    bad: list[str] = []
    reasons: list[str] = []

    def attempt(lo: int, hi: int) -> None:
        try:
            send(payloads[lo:hi])
        except Rejected as exc:
            if hi - lo == 1:
                bad.append(events[lo].id)
                reasons.append(exc.reason)
                return
            mid = (lo + hi) // 2
            attempt(lo, mid)
            attempt(mid, hi)

    if payloads:
        attempt(0, len(payloads))
    if bad:
        raise PermanentFailure("rejected: " + "; ".join(reasons[:3]), bad, others_delivered=True)


__all__ = [
    "Rejected",
    "deliver_bisecting",
    "is_transient",
    "map_all",
    "raise_for_status",
    "unique_events",
]
