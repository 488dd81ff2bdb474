"""The closed set of job states. This docstring is their one definition.

- ``queued``: waiting to run, now or at ``run_at``. A retry waiting out its
  backoff is ``queued`` with a future ``run_at``.
- ``running``: claimed by a processor that holds a lease until
  ``lease_expires_at``; ``attempts`` is that holder's fencing token.
- ``completed``: finished successfully. Terminal.
- ``failed``: attempts exhausted or a permanent error. The job is in the
  dead-letter queue until an operator redrives it.
"""

from enum import StrEnum

__all__ = ["JobStatus"]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)
