"""GET /dlq and POST /dlq/redrive (API Gateway REST proxy events), and a direct
invocation whose event is the redrive body itself, e.g. {"queue": "emails"}."""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from core.api.http import HttpRequest
from core.api.wsgi import request_id_from
from functions.environment import api, logger, metrics, serve_http

__all__ = ["RedriveRejected", "handler"]


class RedriveRejected(Exception):
    """A direct invocation the API would have answered with a 4xx."""


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if "httpMethod" in event:
        return serve_http(event)
    response = api().handle(
        HttpRequest(
            "POST",
            "/dlq/redrive",
            headers={"content-type": "application/json"},
            body=json.dumps(event).encode(),
            request_id=request_id_from(context.aws_request_id),
        )
    )
    answer = json.loads(response.body)
    if response.status != 200:
        raise RedriveRejected(f"{answer['error']['code']}: {answer['error']['message']}")
    return answer
