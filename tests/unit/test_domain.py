"""Pure domain rules: exact money, UTC windows, grant burn order, node paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spendgate.domain.hierarchy import NodePath
from spendgate.domain.limits import window_start
from spendgate.domain.money import format_credits, parse_credits, parse_quantity
from spendgate.domain.wallet import Grant, balance_of, plan_burn
from spendgate.errors import InvalidAmount

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(t: datetime) -> int:
    return (t - EPOCH) // timedelta(milliseconds=1)


def test_credits_round_trip_exactly_to_the_nano() -> None:
    assert parse_credits("0.000000150") == 150
    assert parse_credits("12.5") == 12_500_000_000
    assert format_credits(parse_credits("1000000000")) == "1000000000.000000000"
    assert format_credits(-1) == "-0.000000001"


@pytest.mark.parametrize("bad", ["1e3", "NaN", "", "-1", "0.0000000001", "1000000000.1",
                                 "0", " 1", "1.", ".5", "+1", "0x10", "١"])
def test_inexact_or_out_of_range_amounts_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidAmount) as err:
        parse_credits(bad, field="items[0].amount")
    assert err.value.param == "items[0].amount"


@pytest.mark.parametrize("bad", [1.5, float("nan"), True, "abc", -1, 10**10])
def test_quantities_refuse_floats_booleans_negatives_and_absurd_values(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_quantity(bad, field="seconds")


def test_windows_start_at_utc_midnight_monday_and_the_first_for_three_years() -> None:
    for hour in range(0, 3 * 366 * 24, 7):
        t = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=hour, minutes=hour % 60)
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        assert window_start("day", ms(t)) == ms(day)
        assert window_start("week", ms(t)) == ms(day - timedelta(days=day.weekday()))
        assert window_start("month", ms(t)) == ms(day.replace(day=1))
        assert window_start("lifetime", ms(t)) == 0


def test_grants_burn_by_priority_then_earliest_expiry_then_largest() -> None:
    grants = [Grant("never", 100, priority=10), Grant("late", 100, priority=10, expires_ms=900),
              Grant("soon", 100, priority=10, expires_ms=500), Grant("first", 50, priority=1),
              Grant("big-soon", 300, priority=10, expires_ms=500)]
    burns, unpaid = plan_burn(grants, 600, now_ms=0)
    assert [(b.grant_id, b.amount) for b in burns] == [
        ("first", 50), ("big-soon", 300), ("soon", 100), ("late", 100), ("never", 50)]
    assert unpaid == 0


def test_expired_and_future_grants_pay_nothing() -> None:
    grants = [Grant("old", 100, expires_ms=10), Grant("future", 100, effective_ms=1000)]
    burns, unpaid = plan_burn(grants, 30, now_ms=500)
    assert burns == [] and unpaid == 30
    assert balance_of(grants, held=0, debt=0, overdraft_limit=5, now_ms=500).available == 5


def test_a_path_lists_its_ancestors_top_down() -> None:
    assert NodePath("o", "p", "u").ancestors() == (NodePath("o"), NodePath("o", "p"),
                                                   NodePath("o", "p", "u"))
    assert str(NodePath("o", "p")) == "o/p"
