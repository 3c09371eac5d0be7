"""Which alert thresholds of a limit a change in usage reached (pure).

A threshold is a fraction of the limit's amount ("0.5", "0.8", "1"). Crossing is exact:
amounts are integers (nano-credits or billionths of a meter unit) and thresholds Decimal.
Firing each threshold once per window is the caller's, through stored "already fired" marks.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation

from spendgate.errors import InvalidRequest


def parse_thresholds(values: Iterable[object]) -> tuple[Decimal, ...]:
    """Thresholds as sorted, distinct, positive Decimals (decimal strings or ints only)."""
    out: set[Decimal] = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise InvalidRequest("thresholds must be decimal strings such as \"0.8\"",
                                 param="thresholds")
        try:
            number = Decimal(value)
        except InvalidOperation as exc:
            raise InvalidRequest(f"threshold {value!r} is not a number",
                                 param="thresholds") from exc
        if not number.is_finite() or number <= 0:
            raise InvalidRequest(f"threshold {value!r} must be greater than zero",
                                 param="thresholds")
        out.add(number.normalize())
    return tuple(sorted(out))


def crossed(
    amount: int, thresholds: Iterable[object], used_before: int, used_after: int
) -> tuple[Decimal, ...]:
    """Thresholds this change crossed upward: used_before < t × amount <= used_after."""
    return tuple(
        t for t in parse_thresholds(thresholds) if used_before < t * amount <= used_after
    )


def to_fire(
    amount: int,
    thresholds: Iterable[object],
    used_after: int,
    already_fired: Collection[Decimal | str],
) -> tuple[Decimal, ...]:
    """Thresholds reached now and not yet fired in this window, lowest first.

    Using "reached" rather than "crossed by this change" also fires a threshold whose
    mark was lost or that was added mid-window, exactly once.
    """
    fired = set(parse_thresholds(already_fired)) if already_fired else set()
    return tuple(
        t for t in parse_thresholds(thresholds)
        if amount > 0 and t * amount <= used_after and t not in fired
    )


def new_thresholds(
    crossed_now: Iterable[Decimal], already_fired: Collection[Decimal | str]
) -> tuple[Decimal, ...]:
    """Of the thresholds just crossed, those not fired yet in this window."""
    fired = set(parse_thresholds(already_fired)) if already_fired else set()
    return tuple(t for t in parse_thresholds(crossed_now) if t not in fired)


def exceeded(amount: int, used_before: int, used_after: int) -> bool:
    """True when this change took usage above the limit (limit.exceeded fires once per window)."""
    return used_before <= amount < used_after


def threshold_key(threshold: Decimal) -> str:
    """The stored form of a fired mark: "0.8", "1"."""
    text = format(threshold.normalize(), "f")
    return text


__all__ = ["crossed", "exceeded", "new_thresholds", "parse_thresholds", "threshold_key",
           "to_fire"]
