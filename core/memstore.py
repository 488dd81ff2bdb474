"""An in-memory Store for unit tests. tests/contract keeps it faithful to PgStore."""

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from core.errors import ConflictError
from core.model import Job, NewJob
from core.status import JobStatus
from core.store import (
    LOST_LEASE_ERROR,
    JobState,
    Lease,
    ListFilter,
    Outcome,
    OutcomeKind,
    Placed,
    RedriveFilter,
)

__all__ = ["MemoryStore"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MemoryStore:
    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self._jobs: dict[UUID, Job] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing to release."""

    def now(self) -> datetime:
        return self._clock()

    def insert(self, jobs: Sequence[NewJob]) -> list[Job]:
        with self._lock:
            now = self._clock()
            staged: dict[UUID, Job] = {}
            by_key = {j.idempotency_key: j for j in self._jobs.values() if j.idempotency_key}
            result = []
            for new in jobs:
                existing = by_key.get(new.idempotency_key) if new.idempotency_key else None
                if existing is None:
                    job = copy.deepcopy(new.to_job(now + timedelta(seconds=new.delay_seconds), now))
                    staged[job.id] = job
                    if new.idempotency_key:
                        by_key[new.idempotency_key] = job
                    result.append(job)
                elif new.same_request(existing):
                    result.append(replace(existing, created=False))
                else:
                    raise ConflictError(
                        f"idempotency key {new.idempotency_key!r} is already used by job "
                        f"{existing.id} with a different request"
                    )
            self._jobs.update(staged)
            return [copy.deepcopy(job) for job in result]

    def get(self, job_id: UUID) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return copy.deepcopy(job) if job else None

    def list_jobs(self, where: ListFilter) -> list[Job]:
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)
            found = [
                copy.deepcopy(j)
                for j in jobs
                if (where.status is None or j.status is where.status)
                and (where.queue is None or j.queue == where.queue)
                and (where.type is None or j.type == where.type)
                and (where.after is None or (j.created_at, j.id) < where.after)
            ]
            return found[: where.limit]

    def claim(self, ids: Sequence[UUID], lease_seconds: float) -> list[Job]:
        with self._lock:
            now = self._clock()
            claimed = []
            for job_id in sorted(set(ids)):
                job = self._jobs.get(job_id)
                if job is None or not _claimable(job, now):
                    continue
                errors, last_error = job.errors, job.last_error
                if job.status is JobStatus.RUNNING:
                    errors = [*errors, _entry(job.attempts, LOST_LEASE_ERROR, now)]
                    last_error = LOST_LEASE_ERROR
                job = replace(
                    job,
                    status=JobStatus.RUNNING,
                    attempts=job.attempts + 1,
                    started_at=now,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    updated_at=now,
                    errors=errors,
                    last_error=last_error,
                )
                self._jobs[job_id] = job
                claimed.append(copy.deepcopy(job))
            return claimed

    def states(self, ids: Sequence[UUID]) -> list[JobState]:
        with self._lock:
            return [
                JobState(j.id, j.queue, j.status, j.run_at, j.lease_expires_at)
                for j in (self._jobs.get(i) for i in ids)
                if j is not None
            ]

    def record(self, outcomes: Sequence[Outcome]) -> list[Placed]:
        with self._lock:
            now = self._clock()
            placed = []
            for o in outcomes:
                job = self._jobs.get(o.id)
                if job is None or job.status is not JobStatus.RUNNING or job.attempts != o.attempt:
                    continue
                job = _apply(job, o, now)
                self._jobs[o.id] = job
                at = job.finished_at if o.kind is OutcomeKind.DEAD_LETTER else job.run_at
                placed.append(Placed(o, None if o.kind is OutcomeKind.COMPLETE else at))
            return placed

    def extend_leases(self, leases: Sequence[Lease], lease_seconds: float) -> list[UUID]:
        with self._lock:
            now = self._clock()
            renewed = []
            for lease in leases:
                job = self._jobs.get(lease.id)
                if job and job.status is JobStatus.RUNNING and job.attempts == lease.attempt:
                    expires = now + timedelta(seconds=lease_seconds)
                    self._jobs[lease.id] = replace(job, lease_expires_at=expires)
                    renewed.append(lease.id)
            return renewed

    def redrive(self, where: RedriveFilter, dry_run: bool) -> list[JobState]:
        with self._lock:
            now = self._clock()
            failed = sorted(
                (j for j in self._jobs.values() if _redrivable(j, where)),
                key=lambda j: (j.finished_at or now, j.id),
            )[: where.limit]
            if dry_run:
                return [JobState(j.id, j.queue, j.status, j.run_at) for j in failed]
            for j in failed:
                self._jobs[j.id] = replace(
                    j,
                    status=JobStatus.QUEUED,
                    run_at=now,
                    budget_start=j.attempts,
                    redrives=j.redrives + 1,
                    finished_at=None,
                    result=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
            return [JobState(j.id, j.queue, JobStatus.QUEUED, now) for j in failed]

    def queued_since(self, after: tuple[datetime, UUID], limit: int) -> list[JobState]:
        with self._lock:
            rows = sorted(
                (
                    j
                    for j in self._jobs.values()
                    if j.status is JobStatus.QUEUED and (j.updated_at, j.id) > after
                ),
                key=lambda j: (j.updated_at, j.id),
            )[:limit]
            return [
                JobState(j.id, j.queue, j.status, j.run_at, updated_at=j.updated_at) for j in rows
            ]

    def expired_leases(self, limit: int) -> list[JobState]:
        with self._lock:
            now = self._clock()
            rows = sorted(
                (
                    j
                    for j in self._jobs.values()
                    if j.status is JobStatus.RUNNING
                    and j.lease_expires_at
                    and j.lease_expires_at < now
                ),
                key=lambda j: j.lease_expires_at or now,
            )[:limit]
            return [
                JobState(j.id, j.queue, j.status, j.lease_expires_at or now, j.lease_expires_at)
                for j in rows
            ]

    def active_page(self, after_id: UUID, limit: int) -> list[JobState]:
        with self._lock:
            rows = sorted(
                (
                    j
                    for j in self._jobs.values()
                    if j.status is not JobStatus.COMPLETED and j.id > after_id
                ),
                key=lambda j: j.id,
            )[:limit]
            return [
                JobState(
                    j.id,
                    j.queue,
                    j.status,
                    (j.finished_at or j.run_at) if j.status is JobStatus.FAILED else j.run_at,
                    j.lease_expires_at,
                )
                for j in rows
            ]


def _claimable(job: Job, now: datetime) -> bool:
    if job.status is JobStatus.QUEUED:
        return job.run_at <= now
    return (
        job.status is JobStatus.RUNNING
        and job.lease_expires_at is not None
        and (job.lease_expires_at < now)
    )


def _entry(attempt: int, error: str, now: datetime) -> dict[str, Any]:
    return {"attempt": attempt, "error": error, "at": now.isoformat()}


def _apply(job: Job, o: Outcome, now: datetime) -> Job:
    """The named transition out of running, as the SQL of sql/queries.sql applies it."""
    if o.kind is OutcomeKind.COMPLETE:
        return replace(
            job,
            status=JobStatus.COMPLETED,
            result=copy.deepcopy(o.result),
            finished_at=now,
            updated_at=now,
            lease_expires_at=None,
        )
    error = o.error or ""
    failed: dict[str, Any] = {
        "last_error": error,
        "errors": [*job.errors, _entry(job.attempts, error, now)],
        "lease_expires_at": None,
        "updated_at": now,
    }
    if o.kind is OutcomeKind.DEAD_LETTER:
        return replace(job, status=JobStatus.FAILED, finished_at=now, **failed)
    delay = o.delay_seconds if o.kind is OutcomeKind.RETRY else 0.0
    return replace(job, status=JobStatus.QUEUED, run_at=now + timedelta(seconds=delay), **failed)


def _redrivable(job: Job, where: RedriveFilter) -> bool:
    return (
        job.status is JobStatus.FAILED
        and (where.ids is None or job.id in set(where.ids))
        and (where.queue is None or job.queue == where.queue)
        and (where.type is None or job.type == where.type)
    )
