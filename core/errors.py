"""Exceptions that cross module boundaries, each with the exit code the CLI gives it."""

__all__ = [
    "ConflictError",
    "NotFoundError",
    "PermanentError",
    "TaskEngineError",
    "ValidationError",
]


class TaskEngineError(Exception):
    """Base of the errors a caller is expected to handle."""

    exit_code = 1


class ValidationError(TaskEngineError):
    """Bad input: nothing was written."""

    exit_code = 2


class NotFoundError(TaskEngineError):
    exit_code = 3


class ConflictError(TaskEngineError):
    """The idempotency key is already used by a job with a different request."""

    exit_code = 4


class PermanentError(Exception):
    """Raised by a handler for a failure that retrying cannot fix: the job fails at once."""
