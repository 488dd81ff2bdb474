"""Runs jobs. Three kinds of event:

- a scheduled (EventBridge) event: reap expired leases, then drain every queue in
  batches until it is empty or the time left falls under the safety margin;
- ``{"job_ids": [...]}``: an explicit batch, run if due;
- ``{"source": "taskengine.submit", "job_ids": [...]}``: the asynchronous nudge
  ``submit`` sends for the jobs it created (the same path as an explicit batch).

Returns a summary: processed, succeeded, retried, dead-lettered.
"""

from typing import Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from core.drain import DrainSummary
from functions.environment import drainer, logger, metrics, settings

__all__ = ["handler"]


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "job_ids" in event:
        summary = drainer().run_ids(_job_ids(event["job_ids"]))
    elif event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        summary = _drain(event, context)
    else:
        raise ValueError('unrecognised event: expected a scheduled event or {"job_ids": [...]}')
    _count(summary)
    logger.info("process finished", extra=summary.to_dict())
    return summary.to_dict()


def _drain(event: dict[str, Any], context: LambdaContext) -> DrainSummary:
    runner = drainer()
    reaped = runner.maintain()
    queues = runner.processor.dispatch.queues()
    summary = runner.drain(
        queues,
        lambda: context.get_remaining_time_in_millis() / 1000,
        settings().drain_margin_seconds,
    )
    summary.reaped = reaped
    return summary


def _job_ids(raw: Any) -> list[UUID]:
    limit = settings().max_batch
    if not isinstance(raw, list) or not raw or len(raw) > limit:
        raise ValueError(f"job_ids must be a list of 1 to {limit} job ids")
    try:
        return [UUID(str(value)) for value in raw]
    except ValueError:
        raise ValueError("job_ids must hold job ids (UUIDs)") from None


def _count(summary: DrainSummary) -> None:
    for name, value in (
        ("JobsProcessed", summary.processed),
        ("JobsSucceeded", summary.succeeded),
        ("JobsRetried", summary.retried),
        ("JobsDeadLettered", summary.dead_lettered),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
