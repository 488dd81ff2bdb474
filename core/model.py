"""The job record and the requests that create it."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from core.status import JobStatus

__all__ = ["COLUMNS", "Job", "JobPage", "NewJob", "iso"]

# Column order of every SELECT/RETURNING that builds a Job (see Job.from_row).
COLUMNS = (
    "id",
    "queue",
    "type",
    "payload",
    "status",
    "attempts",
    "max_attempts",
    "budget_start",
    "redrives",
    "run_at",
    "lease_expires_at",
    "last_error",
    "errors",
    "result",
    "idempotency_key",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "request_id",
)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, the one timestamp format of every output."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class NewJob:
    """A validated submit request (see core.validation)."""

    id: UUID
    queue: str
    type: str
    payload: dict[str, Any]
    max_attempts: int
    delay_seconds: float = 0.0
    idempotency_key: str | None = None
    request_id: str | None = None  # of the HTTP request that submitted it, for tracing

    def to_job(self, run_at: datetime, created_at: datetime) -> "Job":
        """The queued job this request creates."""
        return Job(
            id=self.id,
            queue=self.queue,
            type=self.type,
            payload=self.payload,
            status=JobStatus.QUEUED,
            attempts=0,
            max_attempts=self.max_attempts,
            budget_start=0,
            redrives=0,
            run_at=run_at,
            lease_expires_at=None,
            last_error=None,
            errors=[],
            result=None,
            idempotency_key=self.idempotency_key,
            created_at=created_at,
            updated_at=created_at,
            started_at=None,
            finished_at=None,
            request_id=self.request_id,
        )

    def same_request(self, job: "Job") -> bool:
        """Whether an existing job answers this request (an idempotent replay)."""
        return (
            job.payload == self.payload
            and job.queue == self.queue
            and job.max_attempts == self.max_attempts
        )


@dataclass(frozen=True)
class Job:
    id: UUID
    queue: str
    type: str
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    budget_start: int
    redrives: int
    run_at: datetime
    lease_expires_at: datetime | None
    last_error: str | None
    errors: list[dict[str, Any]]
    result: Any
    idempotency_key: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    request_id: str | None = None  # the submitting request's id, in the job's logs
    # False when a submit returned an existing job (idempotent replay).
    created: bool = field(default=True, compare=False)

    @classmethod
    def from_row(cls, row: list[Any] | tuple[Any, ...]) -> "Job":
        values = dict(zip(COLUMNS, row, strict=True))
        values["status"] = JobStatus(values["status"])
        return cls(**values)

    @property
    def attempts_left(self) -> int:
        """Attempts remaining in the current retry budget (a redrive grants a new one)."""
        return self.budget_start + self.max_attempts - self.attempts

    def to_dict(self) -> dict[str, Any]:
        """The job as every interface shows it: JSON-ready, timestamps in UTC."""
        return {
            "id": str(self.id),
            "queue": self.queue,
            "type": self.type,
            "status": self.status.value,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "attempts_left": self.attempts_left,
            "redrives": self.redrives,
            "payload": self.payload,
            "result": self.result,
            "last_error": self.last_error,
            "errors": self.errors,
            "idempotency_key": self.idempotency_key,
            "run_at": iso(self.run_at),
            "lease_expires_at": iso(self.lease_expires_at),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
        }


@dataclass(frozen=True)
class JobPage:
    jobs: list[Job]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"jobs": [job.to_dict() for job in self.jobs], "next_cursor": self.next_cursor}
