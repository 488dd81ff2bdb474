"""AWS Lambda handlers (submit, get, process, dlq_redrive) over core."""
