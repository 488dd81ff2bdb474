"""Running jobs: claim a batch, execute each attempt, record the outcomes in a batch.

The worker loop and the Lambda ``process`` function both drive this class. It
never writes SQL or Redis commands itself: it picks a named transition
(core.store.OutcomeKind) and hands it to the store, then mirrors the result
into Redis dispatch.
"""

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core import metrics
from core.backoff import backoff_delay
from core.config import Settings
from core.dispatch import Dispatch, Placement, ms, now_ms
from core.errors import PermanentError
from core.logs import get_logger
from core.model import Job
from core.registry import JobContext, Registry
from core.status import JobStatus
from core.store import LOST_LEASE_ERROR, JobState, Lease, Outcome, OutcomeKind, Placed, Store

__all__ = ["Batch", "Processor", "placement_for", "release_outcome"]

log = get_logger()


@dataclass(frozen=True)
class Batch:
    jobs: list[Job]
    # Jobs whose lost attempt was their last: dead-lettered without running.
    exhausted: list[tuple[Outcome, Job]]
    next_due_ms: int | None
    ready_left: int


class Processor:
    def __init__(
        self,
        store: Store,
        dispatch: Dispatch,
        registry: Registry,
        settings: Settings,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.dispatch = dispatch
        self.registry = registry
        self.settings = settings
        self._rand = rand

    # -- claiming -------------------------------------------------------------

    def claim(self, queues: Sequence[str], capacity: int) -> Batch:
        """Claim up to ``capacity`` jobs across ``queues`` (in order) without waiting."""
        lease_ms = int(self.settings.lease_seconds * 1000)
        offered: dict[UUID, str] = {}
        next_due: int | None = None
        left = 0
        for queue in queues:
            if len(offered) >= capacity:
                break
            claimed = self.dispatch.claim(queue, capacity - len(offered), lease_ms)
            offered.update((UUID(i), queue) for i in claimed.ids)
            left += claimed.ready_left
            if claimed.next_due_ms is not None:
                next_due = min(next_due or claimed.next_due_ms, claimed.next_due_ms)
        if not offered:
            return Batch([], [], next_due, left)
        jobs = self.store.claim(list(offered), self.settings.lease_seconds)
        if len(jobs) < len(offered):
            taken = {job.id for job in jobs}
            self._drop_stale({i: q for i, q in offered.items() if i not in taken})
        return self._batch(jobs, next_due, left)

    def claim_ids(self, ids: Sequence[UUID]) -> Batch:
        """Claim these jobs by id, wherever Redis holds them (an explicit batch, or the
        ids a submit nudged the Lambda ``process`` function with). Ids that are not
        due, already running or finished are left alone."""
        jobs = self.store.claim(list(dict.fromkeys(ids)), self.settings.lease_seconds)
        deadline = now_ms() + int(self.settings.lease_seconds * 1000)
        by_queue: dict[str, list[Placement]] = defaultdict(list)
        for job in jobs:
            by_queue[job.queue].append(Placement(job.id, "i", deadline))
        # Moved in flight, so no worker pops them; PostgreSQL already decided.
        self.dispatch.place_many(by_queue)
        return self._batch(jobs, None, 0)

    def _batch(self, jobs: list[Job], next_due: int | None, left: int) -> Batch:
        runnable = [job for job in jobs if job.attempts_left >= 0]
        exhausted = [(_lost_last_attempt(job), job) for job in jobs if job.attempts_left < 0]
        self._observe_starts(runnable)
        return Batch(runnable, exhausted, next_due, left)

    def _drop_stale(self, offered: dict[UUID, str]) -> None:
        """Ids Redis offered that PostgreSQL would not start: put each where its row says
        (an id with no row at all is taken out of flight)."""
        states = {s.id: s for s in self.store.states(list(offered))}
        by_queue: dict[str, list[Placement]] = defaultdict(list)
        for job_id, queue in offered.items():
            state = states.get(job_id)
            if state is None:
                by_queue[queue].append(Placement(job_id, "x", 0))
            else:
                by_queue[state.queue].append(placement_for(state))
        self.dispatch.place_many(by_queue)

    def _observe_starts(self, jobs: list[Job]) -> None:
        for job in jobs:
            if job.started_at is not None:
                waited = (job.started_at - job.run_at).total_seconds()
                metrics.ENQUEUE_TO_START.labels(job.queue).observe(max(waited, 0.0))

    # -- executing ------------------------------------------------------------

    def execute(self, job: Job, heartbeat: Callable[[], None] = lambda: None) -> Outcome:
        """Run one attempt and decide its transition. Never raises."""
        handler = self.registry.get(job.type)
        if handler is None:
            known = ", ".join(self.registry.types())
            return self._failed(job, f"unknown job type {job.type!r} (known: {known})", True)
        ctx = JobContext(job.id, job.queue, job.type, job.attempts, job.attempts_left, heartbeat)
        started = time.perf_counter()
        try:
            result = handler(job.payload, ctx)
        except PermanentError as exc:
            return self._failed(job, _describe(exc), True, started)
        except BaseException as exc:  # sys.exit() in a handler must not kill its thread
            return self._failed(job, _describe(exc), False, started)
        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            # A result that cannot be stored now never will be: retrying cannot help.
            return self._failed(job, f"result is not JSON: {exc}", True, started)
        self._observe_duration(job, started)
        return Outcome(OutcomeKind.COMPLETE, job.id, job.attempts, job.queue, result=result)

    def _failed(
        self, job: Job, error: str, permanent: bool, started: float | None = None
    ) -> Outcome:
        if started is not None:
            self._observe_duration(job, started)
        if permanent or job.attempts_left <= 0:
            return Outcome(OutcomeKind.DEAD_LETTER, job.id, job.attempts, job.queue, error=error)
        delay = backoff_delay(
            job.attempts - job.budget_start,
            self.settings.backoff_base_seconds,
            self.settings.backoff_max_seconds,
            self._rand,
        )
        return Outcome(
            OutcomeKind.RETRY, job.id, job.attempts, job.queue, error=error, delay_seconds=delay
        )

    def _observe_duration(self, job: Job, started: float) -> None:
        metrics.PROCESSING_DURATION.labels(job.queue, job.type).observe(
            time.perf_counter() - started
        )

    # -- recording ------------------------------------------------------------

    def settle(self, outcomes: Sequence[Outcome], jobs: dict[UUID, Job]) -> list[Placed]:
        """Record outcomes durably, then mirror them into Redis; returns what was applied.

        An outcome whose attempt was fenced off (lease lost, job claimed again)
        is skipped by the store and leaves Redis alone: the job is someone else's.
        """
        placed = self.store.record(outcomes)
        by_queue: dict[str, list[Placement]] = defaultdict(list)
        for p in placed:
            by_queue[p.outcome.queue].append(_placement_after(p))
        try:
            self.dispatch.place_many(by_queue)
        except Exception as exc:  # PostgreSQL has it: the reaper and reconciler repair Redis
            log.warning("redis update after commit failed", extra={"error": _describe(exc)})
        self._account(placed, jobs)
        skipped = len(outcomes) - len(placed)
        if skipped:
            log.warning("outcomes fenced off: lease lost", extra={"count": skipped})
        return placed

    def heartbeat(self, jobs: Sequence[Job]) -> list[UUID]:
        """Renew the leases of jobs still running; returns the ids whose lease was lost."""
        if not jobs:
            return []
        renewed = set(
            self.store.extend_leases(
                [Lease(job.id, job.attempts) for job in jobs], self.settings.lease_seconds
            )
        )
        deadline = now_ms() + int(self.settings.lease_seconds * 1000)
        by_queue: dict[str, list[str]] = defaultdict(list)
        for job in jobs:
            if job.id in renewed:
                by_queue[job.queue].append(str(job.id))
        for queue, ids in by_queue.items():
            self.dispatch.extend(queue, ids, deadline)
        return [job.id for job in jobs if job.id not in renewed]

    def _account(self, placed: Sequence[Placed], jobs: dict[UUID, Job]) -> None:
        finished_at = datetime.now(UTC)
        for p in placed:
            o = p.outcome
            job = jobs.get(o.id)
            job_type = job.type if job else "unknown"
            if o.kind is OutcomeKind.RELEASE:
                log.info("job released", extra=_fields(o, job))
                continue
            outcome = _OUTCOME_LABEL[o.kind]
            metrics.JOBS_PROCESSED.labels(o.queue, job_type, outcome).inc()
            if o.kind is OutcomeKind.COMPLETE:
                log.debug("job completed", extra=_fields(o, job))
            else:
                metrics.JOB_FAILURES.labels(o.queue, job_type).inc()
            if o.kind is OutcomeKind.RETRY:
                metrics.JOBS_RETRIED.labels(o.queue, job_type).inc()
                log.warning("job failed, will retry", extra=_fields(o, job, p.at))
            if o.kind is OutcomeKind.DEAD_LETTER:
                metrics.JOBS_DEAD_LETTERED.labels(o.queue, job_type).inc()
                log.error("job dead-lettered", extra=_fields(o, job))
            if o.kind in (OutcomeKind.COMPLETE, OutcomeKind.DEAD_LETTER) and job:
                metrics.SUBMIT_TO_FINISH.labels(o.queue, job_type).observe(
                    (finished_at - job.created_at).total_seconds()
                )


_OUTCOME_LABEL = {
    OutcomeKind.COMPLETE: "completed",
    OutcomeKind.RETRY: "retried",
    OutcomeKind.DEAD_LETTER: "dead_lettered",
}


def placement_for(state: JobState) -> Placement:
    """Where in Redis a job in this PostgreSQL state belongs."""
    if state.status is JobStatus.QUEUED:
        return Placement(state.id, "r", ms(state.run_at))
    if state.status is JobStatus.RUNNING:
        lease = state.lease_expires_at or state.run_at
        return Placement(state.id, "i", ms(lease))
    if state.status is JobStatus.FAILED:
        return Placement(state.id, "d", ms(state.run_at))
    return Placement(state.id, "x", 0)


def release_outcome(job: Job, reason: str) -> Outcome:
    """Give back a job a shutting-down processor could not finish."""
    return Outcome(OutcomeKind.RELEASE, job.id, job.attempts, job.queue, error=reason)


def _placement_after(p: Placed) -> Placement:
    o = p.outcome
    at = ms(p.at) if p.at else now_ms()
    if o.kind is OutcomeKind.COMPLETE:
        return Placement(o.id, "x", 0)
    if o.kind is OutcomeKind.DEAD_LETTER:
        return Placement(o.id, "d", at)
    return Placement(o.id, "r", at)


def _lost_last_attempt(job: Job) -> Outcome:
    """A job whose final attempt died with its processor is not run beyond its budget."""
    return Outcome(
        OutcomeKind.DEAD_LETTER,
        job.id,
        job.attempts,
        job.queue,
        error=f"{LOST_LEASE_ERROR}; no attempts left",
    )


def _fields(o: Outcome, job: Job | None, run_at: datetime | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "job_id": str(o.id),
        "queue": o.queue,
        "type": job.type if job else "unknown",
        "attempt": o.attempt,
    }
    if job and job.request_id:
        fields["request_id"] = job.request_id
    if o.error:
        fields["error"] = o.error
    if run_at is not None and o.kind is OutcomeKind.RETRY:
        fields["retry_at"] = run_at.isoformat()
    return fields


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
