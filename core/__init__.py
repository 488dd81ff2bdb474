"""task-engine core: the job lifecycle on PostgreSQL (state) and Redis (dispatch)."""

from core.errors import ConflictError, NotFoundError, PermanentError, ValidationError
from core.registry import JobContext, job
from core.status import JobStatus

__all__ = [
    "ConflictError",
    "JobContext",
    "JobStatus",
    "NotFoundError",
    "PermanentError",
    "ValidationError",
    "job",
]
