from __future__ import annotations

import random

from spendgate.webhooks.outbound import RetrySchedule
from spendgate.webhooks.outbound.schedule import HOUR


def test_the_default_schedule_keeps_trying_for_more_than_24_hours_even_with_jitter() -> None:
    schedule = RetrySchedule()
    assert schedule.min_span_ms() >= 24 * HOUR
    for seed in range(50):
        rng, now, attempts = random.Random(seed), 0, 1
        while (nxt := schedule.next_attempt_ms(attempts, now, rng)) is not None:
            now, attempts = nxt, attempts + 1
        assert now >= 24 * HOUR
        assert attempts == schedule.max_attempts == 8


def test_delays_grow_and_jitter_stays_within_ten_percent() -> None:
    schedule, rng = RetrySchedule(), random.Random(7)
    for n, base in enumerate(schedule.delays_ms, start=1):
        delay = schedule.next_attempt_ms(n, 0, rng)
        assert delay is not None and abs(delay - base) <= base // 10
    assert list(schedule.delays_ms) == sorted(schedule.delays_ms)


def test_after_the_last_attempt_there_is_no_next() -> None:
    assert RetrySchedule().next_attempt_ms(8, 0, random.Random()) is None
