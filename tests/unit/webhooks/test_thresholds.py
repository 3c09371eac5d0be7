from __future__ import annotations

from decimal import Decimal

import pytest

from spendgate.errors import InvalidRequest
from spendgate.webhooks import crossed, exceeded, new_thresholds, to_fire
from spendgate.webhooks.thresholds import threshold_key

T = ["0.5", "0.8", "1"]
LIMIT = 100 * 10**9  # 100 credits in nano-credits


def test_a_change_that_passes_two_thresholds_crosses_both() -> None:
    assert crossed(LIMIT, T, 40 * 10**9, 85 * 10**9) == (Decimal("0.5"), Decimal("0.8"))


def test_reaching_a_threshold_exactly_crosses_it() -> None:
    assert crossed(LIMIT, T, 0, 50 * 10**9) == (Decimal("0.5"),)


def test_a_change_that_starts_on_a_threshold_does_not_cross_it_again() -> None:
    assert crossed(LIMIT, T, 50 * 10**9, 60 * 10**9) == ()


def test_a_decrease_crosses_nothing() -> None:
    assert crossed(LIMIT, T, 90 * 10**9, 10 * 10**9) == ()


def test_thresholds_are_compared_exactly_at_nano_precision() -> None:
    amount = 3  # nano: 0.5 of it is 1.5
    assert crossed(amount, ["0.5"], 1, 1) == ()
    assert crossed(amount, ["0.5"], 1, 2) == (Decimal("0.5"),)


def test_already_fired_thresholds_are_not_fired_again_in_the_window() -> None:
    now = crossed(LIMIT, T, 40 * 10**9, 85 * 10**9)
    assert new_thresholds(now, {"0.5"}) == (Decimal("0.8"),)


def test_to_fire_catches_up_on_thresholds_reached_but_never_fired() -> None:
    assert to_fire(LIMIT, T, 85 * 10**9, {Decimal("0.5")}) == (Decimal("0.8"),)
    assert to_fire(LIMIT, T, 85 * 10**9, {"0.5", "0.8"}) == ()


def test_a_zero_limit_fires_nothing() -> None:
    assert to_fire(0, T, 10, set()) == ()


def test_exceeding_the_limit_is_detected_once_on_the_crossing_change() -> None:
    assert exceeded(LIMIT, 99 * 10**9, 101 * 10**9)
    assert not exceeded(LIMIT, 99 * 10**9, LIMIT)
    assert not exceeded(LIMIT, 101 * 10**9, 102 * 10**9)


@pytest.mark.parametrize("bad", ["0", "-0.5", "abc", "NaN", 0.5, True])
def test_invalid_thresholds_are_refused(bad: object) -> None:
    with pytest.raises(InvalidRequest):
        crossed(LIMIT, [bad], 0, 1)


def test_fired_marks_have_one_stored_form() -> None:
    assert threshold_key(Decimal("1.00")) == "1"
    assert threshold_key(Decimal("0.80")) == "0.8"
    assert threshold_key(Decimal("100")) == "100"
