"""The job service: the use cases every interface (CLI, HTTP, Lambda) calls.

Submit writes PostgreSQL first and Redis second. A job whose Redis push is
lost (crash, Redis down) is still durable and the reconciler dispatches it,
so a Redis failure after the commit does not fail the submit.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core import metrics
from core.config import Settings
from core.dispatch import Dispatch, Mode, Placement, QueueDepth, ms, now_ms
from core.errors import NotFoundError, ValidationError
from core.logs import get_logger
from core.model import Job, JobPage, NewJob
from core.status import JobStatus
from core.store import JobState, ListFilter, RedriveFilter, Store
from core.validation import encode_cursor

__all__ = ["JobService", "RedriveResult"]

log = get_logger()


@dataclass(frozen=True)
class RedriveResult:
    ids: list[UUID]
    dry_run: bool

    @property
    def count(self) -> int:
        return len(self.ids)

    def to_dict(self) -> dict[str, Any]:
        return {"redriven": self.count, "ids": [str(i) for i in self.ids], "dry_run": self.dry_run}


class JobService:
    def __init__(self, store: Store, dispatch: Dispatch, settings: Settings) -> None:
        self.store = store
        self.dispatch = dispatch
        self.settings = settings

    def submit(self, job: NewJob) -> Job:
        return self.submit_batch([job])[0]

    def submit_batch(self, jobs: Sequence[NewJob]) -> list[Job]:
        if len(jobs) > self.settings.max_batch:
            raise ValidationError(
                f"a batch may hold at most {self.settings.max_batch} jobs, got {len(jobs)}"
            )
        stored = self.store.insert(jobs)
        created = [job for job in stored if job.created]
        self._dispatch(
            [JobState(j.id, j.queue, JobStatus.QUEUED, j.run_at) for j in created], "new"
        )
        for queue, count in Counter(job.queue for job in created).items():
            metrics.JOBS_SUBMITTED.labels(queue).inc(count)
        return stored

    def get(self, job_id: UUID) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise NotFoundError(f"job {job_id} not found")
        return job

    def list_jobs(self, where: ListFilter) -> JobPage:
        # One row more than asked says whether another page exists.
        rows = self.store.list_jobs(
            ListFilter(where.status, where.queue, where.type, where.after, where.limit + 1)
        )
        page = rows[: where.limit]
        more = len(rows) > where.limit
        cursor = encode_cursor(page[-1].created_at, page[-1].id) if more and page else None
        return JobPage(page, cursor)

    def redrive(self, where: RedriveFilter, dry_run: bool = False) -> RedriveResult:
        """Requeue failed jobs (a fresh retry budget each). Repeating it is harmless:
        a job already requeued is no longer failed, and running jobs are never touched."""
        states = self.store.redrive(where, dry_run)
        if not dry_run:
            self._dispatch(states, "move")
            counts = Counter(state.queue for state in states)
            for queue, count in counts.items():
                metrics.JOBS_REDRIVEN.labels(queue).inc(count)
            if states:
                log.info("jobs redriven", extra={"count": len(states), "queues": sorted(counts)})
        return RedriveResult([s.id for s in states], dry_run)

    def queue_depths(self) -> list[QueueDepth]:
        return self.dispatch.depths(self.dispatch.queues())

    def queue_report(self) -> dict[str, Any]:
        """Depths per queue and the oldest ready job's age, as every interface shows them."""
        now = now_ms()
        rows = [
            {
                "queue": d.queue,
                "ready": d.ready,
                "delayed": d.delayed,
                "running": d.running,
                "failed": d.failed,
                "oldest_ready_age_seconds": None
                if d.oldest_ready_ms is None
                else round(max(0, now - d.oldest_ready_ms) / 1000, 3),
            }
            for d in self.queue_depths()
        ]
        return {"queues": rows}

    def backlog(self) -> int:
        """Jobs waiting (ready or delayed) in every queue: what backpressure compares."""
        return self.dispatch.ready_total()

    def _dispatch(self, states: Sequence[JobState], mode: Mode) -> None:
        by_queue: dict[str, list[Placement]] = defaultdict(list)
        for s in states:
            by_queue[s.queue].append(Placement(s.id, "r", ms(s.run_at)))
        try:
            self.dispatch.place_many(by_queue, mode)
        except Exception as exc:  # the jobs are durable: the reconciler will dispatch them
            log.warning(
                "redis push after commit failed; the reconciler will dispatch",
                extra={"error": str(exc), "jobs": len(states), "at_ms": now_ms()},
            )
