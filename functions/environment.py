"""What one Lambda execution environment builds once and keeps: settings, the Api,
the drainer and their connections (built lazily on first use, so that importing a
handler costs only the imports), plus the Logger and the Metrics every function uses.

Connections live as long as the environment; a warm invocation reuses them.
"""

import functools
import json
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from core.api.apigateway import handle_proxy_event
from core.api.app import Api
from core.api.build import build_api
from core.config import Settings, load_settings
from core.drain import Drainer
from core.logs import get_logger

__all__ = ["api", "drainer", "logger", "metrics", "serve_http", "settings"]

logger = get_logger()
# Namespace and service come from POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_SERVICE_NAME
# when set (the SAM template sets them); these are the defaults.
metrics = Metrics(namespace="TaskEngine", service="taskengine")


@functools.cache
def settings() -> Settings:
    return load_settings()


@functools.cache
def api() -> Api:
    # One request at a time per environment: group commit would only add a thread hop.
    return build_api(settings(), group_commit=False)


@functools.cache
def drainer() -> Drainer:
    from core.config import require_urls
    from core.pgstore import PgStore
    from core.processor import Processor
    from core.reconcile import Reconciler
    from core.runtime import build_registry, open_dispatch

    config = settings()
    database_url, _ = require_urls(config)
    store, dispatch = PgStore(database_url, "taskengine-process"), open_dispatch(config)
    processor = Processor(store, dispatch, build_registry(config), config)
    return Drainer(processor, Reconciler(store, dispatch), config.process_concurrency)


def serve_http(event: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway REST proxy event through the shared Api, counted in EMF."""
    response = handle_proxy_event(api(), event)
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if response["statusCode"] >= 500:
        metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
    return response


def created_ids(response: dict[str, Any]) -> list[str]:
    """The jobs a successful submit created (none for a replay or an error)."""
    if response["statusCode"] != 201:
        return []
    body = json.loads(response["body"])
    jobs = body.get("jobs", [body])
    return [job["id"] for job in jobs if job.get("status") == "queued"]
