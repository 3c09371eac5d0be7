from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from spendgate.sinks.backoff import Backoff, parse_retry_after, retry_after_from_headers


def test_full_jitter_draws_between_zero_and_the_exponential_ceiling() -> None:
    top = Backoff(base_s=1.0, cap_s=300.0, uniform=lambda: 0.999999)
    bottom = Backoff(base_s=1.0, cap_s=300.0, uniform=lambda: 0.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (3, 8.0), (8, 256.0)]:
        assert bottom.delay_s(attempt) == 0.0
        assert ceiling * 0.99 < top.delay_s(attempt) < ceiling


def test_the_ceiling_is_capped_even_for_huge_attempt_counts() -> None:
    backoff = Backoff(base_s=1.0, cap_s=30.0, uniform=lambda: 0.5)
    assert backoff.delay_s(10_000) == 15.0


def test_retry_after_is_a_floor_and_is_itself_capped() -> None:
    backoff = Backoff(base_s=1.0, cap_s=300.0, max_retry_after_s=60.0, uniform=lambda: 0.0)
    assert backoff.delay_s(0, retry_after_s=7.0) == 7.0
    assert backoff.delay_s(0, retry_after_s=10_000.0) == 60.0
    assert Backoff(base_s=100.0, uniform=lambda: 0.5).delay_s(0, retry_after_s=1.0) == 50.0


def test_delays_are_deterministic_with_a_seeded_source() -> None:
    import random

    a = Backoff(uniform=random.Random(7).random)
    b = Backoff(uniform=random.Random(7).random)
    assert [a.delay_ms(n) for n in range(6)] == [b.delay_ms(n) for n in range(6)]


@pytest.mark.parametrize(("text", "seconds"), [("120", 120.0), ("1.5", 1.5), ("0", 0.0)])
def test_retry_after_in_seconds_is_read(text: str, seconds: float) -> None:
    assert parse_retry_after(text) == seconds


def test_retry_after_as_an_http_date_is_read_relative_to_now() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert parse_retry_after(format_datetime(later, usegmt=True), now_s=now.timestamp()) == 30.0
    assert parse_retry_after(format_datetime(now, usegmt=True), now_s=later.timestamp()) == 0.0


@pytest.mark.parametrize("text", ["", "soon", "-5", "nan", None])
def test_unreadable_retry_after_is_ignored(text: str | None) -> None:
    assert parse_retry_after(text) is None


def test_headers_fall_back_from_retry_after_to_ms_to_rate_limit_reset() -> None:
    assert retry_after_from_headers({"Retry-After": "3"}) == 3.0
    assert retry_after_from_headers({"retry-after-ms": "250"}) == 0.25
    assert retry_after_from_headers({"X-RateLimit-Reset": "9"}) == 9.0
    assert retry_after_from_headers({"X-RateLimit-Reset": "2000000010"}, now_s=2e9) == 10.0
    assert retry_after_from_headers({}) is None
    assert retry_after_from_headers(None) is None
