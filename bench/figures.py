"""The figures of one run, from the jobs as the API shows them (their timestamps
are PostgreSQL's), so that every mode is measured by the same rules."""

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Load", "job_figures", "spread"]

TERMINAL = ("completed", "failed")


def spread(values: list[float]) -> dict[str, float] | None:
    """p50, p95, p99 and max, rounded to 0.01; None for no values."""
    if not values:
        return None
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 2),
    }


@dataclass
class Load:
    """What a scenario submitted: the accepted ids with the outcome each should end
    in (status, attempts), each submit request's latency in ms, and when the
    processors were started (Unix time)."""

    ids: list[str] = field(default_factory=list)
    expected: dict[str, tuple[str, int]] = field(default_factory=dict)
    submit_ms: list[float] = field(default_factory=list)
    submit_seconds: float = 0.0
    refused: int = 0
    unsent: int = 0  # arrivals given up on: the mode fell too far behind the rate
    processing_started: float | None = None
    # per job id: seconds from the scenario's start when it was submitted (plots)
    submitted_at: dict[str, float] = field(default_factory=dict)

    def add(self, job_id: str, status: str = "completed", attempts: int = 1) -> None:
        self.ids.append(job_id)
        self.expected[job_id] = (status, attempts)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def job_figures(load: Load, jobs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Throughput, latencies, retries, the DLQ, and lost / unfinished / duplicated
    / misplaced jobs: lost = accepted but unknown to the API at the end;
    unfinished = known but not terminal when the run ended; duplicated = attempts
    beyond what the job's plan needs (a re-run after a lost lease); unexpected =
    terminal in another state than planned."""
    settled = [jobs[i] for i in load.ids if jobs.get(i, {}).get("status") in TERMINAL]
    lost = sum(1 for i in load.ids if i not in jobs)
    duplicated = sum(max(0, j["attempts"] - load.expected[j["id"]][1]) for j in settled)
    unexpected = sum(1 for j in settled if j["status"] != load.expected[j["id"]][0])
    created = {j["id"]: _epoch(j["created_at"]) for j in settled}
    started = {j["id"]: _epoch(j["started_at"]) for j in settled if j["started_at"]}
    finished = {j["id"]: _epoch(j["finished_at"]) for j in settled if j["finished_at"]}
    span = (max(finished.values()) - min(started.values())) if finished and started else 0.0
    first_attempts = [j["id"] for j in settled if j["attempts"] == 1 and j["id"] in started]
    figures: dict[str, Any] = {
        "submitted": len(load.ids),
        "refused": load.refused,
        "processed": len(settled),
        "lost": lost,
        "unfinished": len(load.ids) - len(settled) - lost,
        "unsent": load.unsent,
        "duplicated": duplicated,
        "unexpected": unexpected,
        "submitted_per_s": round(len(load.ids) / load.submit_seconds, 1)
        if load.submit_seconds
        else None,
        "processed_per_s": round(len(settled) / span, 1) if span else None,
        "submit_ms": spread(load.submit_ms),
        "enqueue_to_start_ms": spread([(started[i] - created[i]) * 1000 for i in first_attempts]),
        "submit_to_finish_ms": spread([(finished[i] - created[i]) * 1000 for i in finished]),
        "retries": sum(j["attempts"] - 1 for j in settled),
        "dead_lettered": sum(1 for j in settled if j["status"] == "failed"),
    }
    if load.processing_started is not None and finished:
        figures["start_to_first_job_s"] = round(min(finished.values()) - load.processing_started, 3)
    return figures


def finish_timeline(load: Load, jobs: dict[str, dict[str, Any]]) -> list[tuple[float, float]]:
    """(submitted at, submit-to-finish ms) per settled job, for the burst plot."""
    points = []
    for job_id, at in load.submitted_at.items():
        job = jobs.get(job_id)
        if job and job.get("finished_at"):
            points.append((at, (_epoch(job["finished_at"]) - _epoch(job["created_at"])) * 1000))
    return sorted(points)
