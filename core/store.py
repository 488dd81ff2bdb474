"""The job store: the narrow interface the lifecycle needs from durable storage.

Two implementations: core.pgstore.PgStore (the real one) and
core.memstore.MemoryStore (unit tests). tests/contract runs one suite against both.
Implementations apply every status change as a guarded compare-and-set: a
transition names the attempt it belongs to and is skipped if the job moved on.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from core.model import Job, NewJob
from core.status import JobStatus

__all__ = [
    "LOST_LEASE_ERROR",
    "JobState",
    "Lease",
    "ListFilter",
    "Outcome",
    "OutcomeKind",
    "Placed",
    "RedriveFilter",
    "Store",
]

LOST_LEASE_ERROR = "lease expired: the processor holding the job stopped before finishing it"


class OutcomeKind(StrEnum):
    """The named transitions out of ``running``."""

    COMPLETE = "complete"  # -> completed, with a result
    RETRY = "retry"  # -> queued at now + delay, error recorded
    DEAD_LETTER = "dead_letter"  # -> failed, error recorded
    RELEASE = "release"  # -> queued now (shutdown), interruption recorded


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    id: UUID
    attempt: int
    queue: str
    result: Any = None
    error: str | None = None
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class Placed:
    """An outcome the store applied, and where the job now waits (if it does)."""

    outcome: Outcome
    at: datetime | None  # run_at of a retry or release, finished_at of a dead letter


@dataclass(frozen=True)
class Lease:
    id: UUID
    attempt: int


@dataclass(frozen=True)
class JobState:
    """Just enough of a job to put it in the right place in Redis."""

    id: UUID
    queue: str
    status: JobStatus
    run_at: datetime
    lease_expires_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ListFilter:
    status: JobStatus | None = None
    queue: str | None = None
    type: str | None = None
    after: tuple[datetime, UUID] | None = None
    limit: int = 100


@dataclass(frozen=True)
class RedriveFilter:
    ids: Sequence[UUID] | None = None
    queue: str | None = None
    type: str | None = None
    limit: int | None = None

    @property
    def selects_something(self) -> bool:
        return self.ids is not None or self.queue is not None or self.type is not None


class Store(Protocol):
    def insert(self, jobs: Sequence[NewJob]) -> list[Job]:
        """Create jobs atomically. A job whose idempotency key exists comes back as the
        existing job with created=False; if that job answers another request, nothing
        is written and ConflictError is raised."""

    def get(self, job_id: UUID) -> Job | None: ...

    def list_jobs(self, where: ListFilter) -> list[Job]:
        """Newest first (created_at, id descending), after the cursor position."""

    def claim(self, ids: Sequence[UUID], lease_seconds: float) -> list[Job]:
        """Start an attempt of each job that is due or whose lease expired."""

    def states(self, ids: Sequence[UUID]) -> list[JobState]: ...

    def record(self, outcomes: Sequence[Outcome]) -> list[Placed]:
        """Apply outcomes in one transaction; those whose attempt is stale are skipped."""

    def extend_leases(self, leases: Sequence[Lease], lease_seconds: float) -> list[UUID]:
        """Renew leases still held; returns the ids whose lease was renewed."""

    def redrive(self, where: RedriveFilter, dry_run: bool) -> list[JobState]:
        """Requeue failed jobs with a fresh retry budget (or, dry, say which would be)."""

    def queued_since(self, after: tuple[datetime, UUID], limit: int) -> list[JobState]:
        """Queued jobs changed after ``after`` ((updated_at, id) order); for the reconciler."""

    def expired_leases(self, limit: int) -> list[JobState]: ...

    def active_page(self, after_id: UUID, limit: int) -> list[JobState]:
        """Queued, running and failed jobs by id: the full resync after Redis lost data."""

    def now(self) -> datetime: ...

    def close(self) -> None: ...
