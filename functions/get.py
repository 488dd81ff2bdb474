"""The read routes: GET /jobs/{id}, GET /jobs, GET /queues, the health checks,
/metrics and /openapi.json (API Gateway REST proxy events)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.environment import logger, metrics, serve_http

__all__ = ["handler"]


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve_http(event)
