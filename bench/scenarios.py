"""The work a benchmark puts through a mode, the same for every mode: jobs go in
through the HTTP API (`POST /jobs/batch` for a backlog, `POST /jobs` one by one
on an open-loop schedule for arrivals), and the run ends when every accepted
job is terminal or the scenario's timeout passes (what is left counts as lost).
"""

import json
import random
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.figures import TERMINAL, Load
from bench.modes import Endpoint
from bench.open_loop import open_loop
from core.client import Client

__all__ = ["Backlog", "Burst", "FailureMix", "Scenario", "Steady", "settle"]

NOOP = {"payload": {"type": "noop"}}


class Scenario(ABC):
    name: str
    timeout: float = 300
    # Settings for the processors (environment variables).
    settings: dict[str, str] = {}  # noqa: RUF012 - overridden per scenario, never mutated

    @property
    @abstractmethod
    def description(self) -> str: ...

    @abstractmethod
    def run(self, endpoint: Endpoint) -> Load: ...


def _submit_backlog(url: str, items: list[tuple[dict[str, Any], str, int]], batch: int) -> Load:
    """`items`: (job body, expected status, expected attempts); batches of `batch`."""
    load = Load()
    client = Client(url, timeout=120)
    started = time.perf_counter()
    for first in range(0, len(items), batch):
        chunk = items[first : first + batch]
        sent = time.perf_counter()
        jobs = client.submit_batch([body for body, _, _ in chunk])
        load.submit_ms.append((time.perf_counter() - sent) * 1000)
        for job, (_, status, attempts) in zip(jobs, chunk, strict=True):
            load.add(job["id"], status, attempts)
    load.submit_seconds = time.perf_counter() - started
    client.close()
    return load


def _arrivals(url: str, rate: float, count: int, load: Load, offset: float | None = None) -> None:
    """`count` single POST /jobs at `rate` per second, open loop; into `load`. With
    `offset` (seconds since the scenario began), each job's submission time is kept
    for the timeline plot."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = open_loop(
        host,
        port,
        f"{parts.path.rstrip('/')}/jobs",
        json.dumps(NOOP).encode(),
        rate,
        count / rate,
        senders=min(64, count),
        keep=True,
        give_up_after=count / rate * 1.5 + 5,
    )
    for body, latency, due in zip(
        result["bodies"], result["latencies_ms"], result["sent_at"], strict=True
    ):
        job_id = json.loads(body)["id"]
        load.add(job_id)
        load.submit_ms.append(latency)
        if offset is not None:
            load.submitted_at[job_id] = offset + due
    load.refused += result["failures"]
    load.unsent += result["unsent"]


@dataclass
class Backlog(Scenario):
    """A backlog submitted in batches before the processors start: `noop` jobs
    (a drain), or `demo` jobs sleeping `duration_ms` (I/O-bound work)."""

    name: str
    jobs: int
    duration_ms: int = 0

    @property
    def description(self) -> str:
        what = (
            f"`demo` jobs sleeping {self.duration_ms} ms each (I/O-bound)"
            if self.duration_ms
            else "`noop` jobs"
        )
        return f"a backlog of {self.jobs:,} {what}, submitted in batches, then the processors start"

    def run(self, endpoint: Endpoint) -> Load:
        body = (
            {"payload": {"type": "demo", "duration_ms": self.duration_ms}}
            if self.duration_ms
            else NOOP
        )
        load = _submit_backlog(endpoint.url, [(body, "completed", 1)] * self.jobs, 1000)
        load.processing_started = endpoint.start_processing()
        return load


@dataclass
class Steady(Scenario):
    rate: float
    seconds: float
    name: str = "steady"

    @property
    def description(self) -> str:
        return (
            f"`noop` jobs arriving at {self.rate:,.0f}/s for {self.seconds:g} s, one "
            "`POST /jobs` each on an open-loop schedule (no coordinated omission), after "
            "25 unmeasured warm-up jobs"
        )

    def run(self, endpoint: Endpoint) -> Load:
        load = Load()
        endpoint.start_processing()
        # Warm-up, not measured: processors started, connections open, code paths run.
        warm = Load()
        _arrivals(endpoint.url, min(self.rate, 50), 25, warm)
        settle(endpoint.url, warm, 60)
        started = time.perf_counter()
        _arrivals(endpoint.url, self.rate, int(self.rate * self.seconds), load)
        load.submit_seconds = time.perf_counter() - started
        return load


@dataclass
class Burst(Scenario):
    bursts: int
    size: int
    idle_seconds: float
    name: str = "burst"

    def __post_init__(self) -> None:
        # Local Lambda environments idle half the gap are stopped: every burst
        # after the first meets cold starts, as on Lambda after a quiet spell.
        self.settings = {"BENCH_IDLE_SECONDS": str(self.idle_seconds / 2)}

    @property
    def description(self) -> str:
        return (
            f"{self.bursts} bursts of {self.size} `POST /jobs` (at 2,000/s), each after "
            f"{self.idle_seconds:g} s idle"
        )

    def run(self, endpoint: Endpoint) -> Load:
        load = Load()
        endpoint.start_processing()
        started = time.perf_counter()
        for _ in range(self.bursts):
            time.sleep(self.idle_seconds)
            _arrivals(endpoint.url, 2000, self.size, load, time.perf_counter() - started)
        load.submit_seconds = time.perf_counter() - started
        return load


@dataclass
class FailureMix(Scenario):
    jobs: int
    retry_share: float  # fail until attempt `until`, then complete
    until: int
    dlq_share: float  # fail every attempt of 2: dead-lettered
    name: str = "failures"

    def __post_init__(self) -> None:
        # Short backoff: the run measures the machinery, not the waiting.
        self.settings = {
            "TASKENGINE_BACKOFF_BASE_SECONDS": "0.05",
            "TASKENGINE_BACKOFF_MAX_SECONDS": "0.5",
        }

    @property
    def description(self) -> str:
        return (
            f"{self.jobs:,} jobs: {self.retry_share:.0%} fail until attempt {self.until} then "
            f"complete, {self.dlq_share:.0%} fail both of 2 attempts (DLQ), the rest `noop`; "
            "backoff base 0.05 s"
        )

    def run(self, endpoint: Endpoint) -> Load:
        retry = int(self.jobs * self.retry_share)
        dead = int(self.jobs * self.dlq_share)
        items: list[tuple[dict[str, Any], str, int]] = (
            [
                (
                    {
                        "payload": {"type": "demo", "fail_until_attempt": self.until},
                        "max_attempts": self.until + 1,
                    },
                    "completed",
                    self.until + 1,
                )
            ]
            * retry
            + [({"payload": {"type": "demo", "fail": True}, "max_attempts": 2}, "failed", 2)] * dead
            + [(NOOP, "completed", 1)] * (self.jobs - retry - dead)
        )
        random.Random(7).shuffle(items)
        load = _submit_backlog(endpoint.url, items, 1000)
        load.processing_started = endpoint.start_processing()
        return load


def settle(url: str, load: Load, timeout: float) -> dict[str, dict[str, Any]]:
    """Every job the API knows once all of `load` is terminal, or at the timeout."""
    client = Client(url, timeout=120)
    wanted = set(load.ids)
    deadline = time.monotonic() + timeout
    try:
        while True:
            depths = client.queues()["queues"]
            busy = sum(q["ready"] + q["delayed"] + q["running"] for q in depths)
            if busy == 0 or time.monotonic() > deadline:
                jobs = {j["id"]: j for j in client.iter_jobs() if j["id"] in wanted}
                done = sum(1 for j in jobs.values() if j["status"] in TERMINAL)
                if done == len(wanted) or time.monotonic() > deadline:
                    return jobs
            time.sleep(0.5)
    finally:
        client.close()
