"""POST /jobs and POST /jobs/batch (API Gateway REST proxy events). With
TASKENGINE_PROCESS_FUNCTION set, the ids it created are handed to ``process`` by an
asynchronous invocation, so a job starts without waiting for the schedule."""

import functools
import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.environment import created_ids, logger, metrics, serve_http, settings

__all__ = ["handler"]


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = serve_http(event)
    if settings().process_function and (ids := created_ids(response)):
        _nudge(ids)
    return response


def _nudge(ids: list[str]) -> None:
    """The jobs are durable and dispatched already: a failed nudge only delays them
    until the scheduled drain, so it is logged, not raised."""
    try:
        _lambda_client().invoke(
            FunctionName=settings().process_function,
            InvocationType="Event",
            Payload=json.dumps({"source": "taskengine.submit", "job_ids": ids}).encode(),
        )
        metrics.add_metric(name="Nudges", unit=MetricUnit.Count, value=1)
    except Exception as exc:
        logger.warning("nudging process failed", extra={"error": repr(exc), "jobs": len(ids)})


@functools.cache
def _lambda_client() -> Any:
    import boto3  # only this path needs it: a submit without nudges never imports it

    return boto3.client("lambda", endpoint_url=settings().lambda_endpoint_url)
