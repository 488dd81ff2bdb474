"""The figures of one peer run, computed the same way for every peer from the
records the sink holds and the submissions the client made.
"""

import math
from collections.abc import Sequence
from typing import Any

from bench.peers.load import Submission
from bench.peers.sink import Record

__all__ = [
    "behind_ms_max",
    "counts",
    "cpu_per_1000",
    "describe",
    "enqueue_to_start_ms",
    "percentiles",
    "processed_per_s",
    "submit_ms",
]


def percentiles(values: Sequence[float]) -> dict[str, float] | None:
    """Nearest-rank p50/p95/p99 and max, in the values' unit, rounded to 0.01."""
    if not values:
        return None
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    figures = {"p50": rank(50), "p95": rank(95), "p99": rank(99), "max": ordered[-1]}
    return {name: round(value, 2) for name, value in figures.items()}


def counts(submitted: int, records: Sequence[Record]) -> dict[str, int]:
    distinct = len({record.key for record in records})
    return {
        "submitted": submitted,
        "processed": distinct,
        "lost": submitted - distinct,
        "duplicated": len(records) - distinct,
    }


def processed_per_s(records: Sequence[Record]) -> float:
    """Records over the span from the first start to the last finish, so that a
    worker's start-up and the wait for the first job do not count against it."""
    if len(records) < 2:
        return 0.0
    span = max(r.finished for r in records) - min(r.started for r in records)
    return round(len(records) / span, 1) if span > 0 else 0.0


def enqueue_to_start_ms(records: Sequence[Record]) -> dict[str, float] | None:
    return percentiles([(r.started - r.enqueued) * 1000 for r in records])


def submit_ms(submissions: Sequence[Submission]) -> dict[str, float] | None:
    return percentiles([s.submit_ms for s in submissions if not s.failed])


def behind_ms_max(submissions: Sequence[Submission]) -> float:
    return round(max((s.behind_ms for s in submissions), default=0.0), 2)


def cpu_per_1000(cpu_s: float, processed: int) -> float | None:
    return round(cpu_s / processed * 1000, 3) if processed else None


def describe(result: dict[str, Any]) -> str:
    """One line of progress for stderr."""
    return (
        f"{result['peer']} {result['scenario']}: {result['processed']}/{result['submitted']} "
        f"processed, {result['processed_per_s']}/s, lost {result['lost']}, "
        f"duplicated {result['duplicated']}"
    )
