"""`taskengine api`: the Api behind granian (worker processes and threads, keep-alive).

Granian parses HTTP in Rust: on this project's 2-core benchmark machine it answers
8 times more bare requests per second than gunicorn's gthread workers, which leaves
the CPU to the job code (see the README's performance section).

PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is first imported
(core.cli does it), so that /metrics sums every worker process.
"""

import os
import shutil
from typing import Any

from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from core.api.app import Api
from core.api.openapi import openapi_document
from core.api.wsgi import wsgi_app
from core.config import Settings, load_settings
from core.dispatch import Dispatch
from core.health import readiness
from core.metrics import QueueDepthCollector
from core.pgstore import ThreadLocalPgStore
from core.runtime import require_urls
from core.service import JobService

__all__ = ["build_api", "run_api"]


def build_api(settings: Settings) -> Api:
    database_url, redis_url = require_urls(settings)
    dispatch = Dispatch(redis_url, settings.redis_prefix)
    store = ThreadLocalPgStore(database_url, "taskengine-api")
    service = JobService(store, dispatch, settings)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(QueueDepthCollector(lambda: dispatch.depths(dispatch.queues())))
    document = openapi_document(settings)
    return Api(
        service,
        settings,
        ready=lambda: readiness(database_url, redis_url),
        render_metrics=lambda: (generate_latest(registry), CONTENT_TYPE_LATEST),
        openapi=lambda: document,
    )


def wsgi_from_environment() -> Any:
    """Granian's factory, called in each server process: settings come from the
    environment that `taskengine api` was started with."""
    return wsgi_app(build_api(load_settings()))


def run_api(settings: Settings, host: str, port: int, workers: int, threads: int) -> int:
    require_urls(settings)
    try:
        Granian(
            "core.api.server:wsgi_from_environment",
            factory=True,
            interface=Interfaces.WSGI,
            address=host,
            port=port,
            workers=workers,
            blocking_threads=threads,
            # A client has 30 s to send its headers; idle keep-alive connections stay open.
            http1_settings=HTTP1Settings(header_read_timeout=30_000, keep_alive=True),
            respawn_failed_workers=True,
            workers_kill_timeout=20,  # graceful stop: in-flight requests get 20 s
            log_access=False,  # the Api writes its own JSON access line per request
        ).serve()
    finally:
        shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)
    return 0
