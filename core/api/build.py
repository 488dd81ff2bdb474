"""The Api wired to PostgreSQL, Redis and the metrics registry, for every adapter
(the granian server, the Lambda functions, the Chalice app).

Nothing here imports an HTTP server, so a Lambda cold start pays only for what
a request needs.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from core.api.app import Api
from core.api.openapi import openapi_document
from core.config import Settings, require_urls
from core.dispatch import Dispatch
from core.health import readiness
from core.metrics import QueueDepthCollector
from core.pgstore import ThreadLocalPgStore
from core.service import JobService

__all__ = ["build_api"]


def build_api(settings: Settings, group_commit: bool = True) -> Api:
    """``group_commit``: concurrent single submits share one commit; pointless where
    a process serves one request at a time (Lambda), so the adapters there turn it off."""
    database_url, redis_url = require_urls(settings)
    dispatch = Dispatch(redis_url, settings.redis_prefix)
    store = ThreadLocalPgStore(database_url, "taskengine-api")
    service = JobService(store, dispatch, settings)
    counters = _counters()
    depths = CollectorRegistry()
    depths.register(QueueDepthCollector(lambda: dispatch.depths(dispatch.queues())))
    document = openapi_document(settings)
    return Api(
        service,
        settings,
        ready=lambda: readiness(database_url, redis_url),
        render_metrics=lambda: (
            generate_latest(counters) + generate_latest(depths),
            CONTENT_TYPE_LATEST,
        ),
        openapi=lambda: document,
        group_commit=group_commit,
    )


def _counters() -> CollectorRegistry:
    """Several server processes: the sum of their files. One process: its own
    counters (a Lambda environment's /metrics shows that environment only)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
