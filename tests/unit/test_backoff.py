"""Backoff is a pure function: exponential ceiling, full jitter, capped."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from core.backoff import backoff_delay, next_run_at


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "draw", "expected"),
    [
        (1, 1.0, 300.0, 0.0, 0.0),  # the lowest draw retries at once
        (1, 1.0, 300.0, 0.5, 0.5),  # ceiling after attempt 1 is the base
        (2, 1.0, 300.0, 0.5, 1.0),  # then it doubles...
        (3, 1.0, 300.0, 0.5, 2.0),
        (4, 1.0, 300.0, 0.999, 7.992),
        (5, 0.5, 300.0, 1.0, 8.0),
        (9, 1.0, 300.0, 1.0, 256.0),
        (10, 1.0, 300.0, 1.0, 300.0),  # ...until the cap
        (50, 1.0, 300.0, 0.5, 150.0),
        (10_000, 1.0, 300.0, 0.25, 75.0),  # huge attempts neither overflow nor pass the cap
        (3, 2.0, 5.0, 1.0, 5.0),
    ],
)
def test_table(attempt: int, base: float, cap: float, draw: float, expected: float) -> None:
    assert backoff_delay(attempt, base, cap, lambda: draw) == pytest.approx(expected)


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_start_at_one(attempt: int) -> None:
    with pytest.raises(ValueError):
        backoff_delay(attempt, 1.0, 10.0, lambda: 0.5)


def test_full_jitter_spreads_over_the_whole_range() -> None:
    source = random.Random(7)
    delays = [backoff_delay(6, 1.0, 300.0, source.random) for _ in range(2000)]
    assert all(0 <= d < 32.0 for d in delays)
    # Full jitter: the draws cover the range evenly, not a band near the ceiling.
    assert min(delays) < 1.0
    assert max(delays) > 31.0
    quarters = [sum(q * 8 <= d < (q + 1) * 8 for d in delays) for q in range(4)]
    assert all(400 < n < 600 for n in quarters), quarters


def test_next_run_at_adds_the_delay_to_the_injected_clock() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_run_at(3, now, 1.0, 300.0, lambda: 0.5) == now + timedelta(seconds=2)
