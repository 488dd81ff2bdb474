"""Running jobs in batches until a deadline: the Lambda ``process`` function's loop.

Unlike the long-running worker, which stops on a signal, a drain stops on its
own: when the queues are empty, or when the time it has left falls under a
safety margin (a Lambda function is frozen or killed at its timeout). Each batch
is claimed, run on a thread pool, and recorded in one transaction before the
next is claimed. A batch cut off by the timeout is not lost: its leases expire
and the reaper gives its jobs back (``maintain``, which a scheduled drain runs
first).
"""

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from uuid import UUID

from core.model import Job
from core.processor import Batch, Processor
from core.reconcile import Reconciler
from core.store import Outcome, OutcomeKind, Placed

__all__ = ["DrainSummary", "Drainer"]


@dataclass
class DrainSummary:
    processed: int = 0
    succeeded: int = 0
    retried: int = 0
    dead_lettered: int = 0
    batches: int = 0
    reaped: int = 0  # expired leases given back before a scheduled drain
    stopped_by: str = "empty"  # or "deadline", or "ids" for an explicit batch

    def count(self, placed: Sequence[Placed]) -> None:
        self.batches += 1
        for p in placed:
            kind = p.outcome.kind
            self.processed += kind is not OutcomeKind.RELEASE
            self.succeeded += kind is OutcomeKind.COMPLETE
            self.retried += kind is OutcomeKind.RETRY
            self.dead_lettered += kind is OutcomeKind.DEAD_LETTER

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class Drainer:
    def __init__(self, processor: Processor, reconciler: Reconciler, concurrency: int) -> None:
        self.processor = processor
        self.reconciler = reconciler
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="job")

    def maintain(self) -> int:
        """Give back jobs whose holder died (a timed-out invocation, a killed worker)
        and re-dispatch what Redis lost: serverless mode has no worker to do it."""
        reaped = self.reconciler.reap()
        self.reconciler.run()
        return reaped

    def drain(
        self, queues: Sequence[str], seconds_left: Callable[[], float], margin: float
    ) -> DrainSummary:
        """Claim and run batches until the queues are empty or time runs short."""
        summary = DrainSummary()
        capacity = min(self.concurrency, self.processor.settings.claim_batch)
        while True:
            if seconds_left() < margin:
                summary.stopped_by = "deadline"
                return summary
            batch = self.processor.claim(queues, capacity)
            if not batch.jobs and not batch.exhausted:
                return summary
            summary.count(self._run(batch))

    def run_ids(self, ids: Sequence[UUID]) -> DrainSummary:
        """Run these jobs if they are due (the rest are left where they are)."""
        summary = DrainSummary(stopped_by="ids")
        for start in range(0, len(ids), self.concurrency):
            batch = self.processor.claim_ids(ids[start : start + self.concurrency])
            if batch.jobs or batch.exhausted:
                summary.count(self._run(batch))
        return summary

    def _run(self, batch: Batch) -> list[Placed]:
        """Run a batch, renewing its leases while it runs; record it in one go."""
        processor = self.processor
        running: dict[Future[Outcome], Job] = {
            self._pool.submit(processor.execute, job): job for job in batch.jobs
        }
        outcomes = list(batch.exhausted)
        every = processor.settings.heartbeat_seconds
        beat_at = time.monotonic() + every
        while running:
            done, _ = wait(running, max(0.0, beat_at - time.monotonic()), FIRST_COMPLETED)
            for future in done:
                outcomes.append((future.result(), running.pop(future)))  # execute never raises
            if running and time.monotonic() >= beat_at:
                processor.heartbeat(list(running.values()))
                beat_at = time.monotonic() + every
        return processor.settle([o for o, _ in outcomes], {job.id: job for _, job in outcomes})
