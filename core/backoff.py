"""Retry delay: exponential backoff with full jitter, capped.

A pure function of the attempt number and an injected random source, so table
tests can pin it down.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

__all__ = ["backoff_delay", "next_run_at"]


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based).

    The ceiling doubles per attempt from ``base`` up to ``cap``; the delay is a
    uniform draw below it ("full jitter"), which spreads retries of jobs that
    failed together. ``rand`` returns a float in [0, 1).
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    # min() before the power would still overflow for huge attempts; cap the exponent.
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 1023))
    return ceiling * rand()


def next_run_at(
    attempt: int, now: datetime, base: float, cap: float, rand: Callable[[], float]
) -> datetime:
    return now + timedelta(seconds=backoff_delay(attempt, base, cap, rand))
