"""`taskengine api`: the Api behind gunicorn (pre-fork workers, threads, keep-alive).

PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is first imported
(core.cli does it), so that /metrics sums every worker process.
"""

import os
import shutil
from typing import Any

from gunicorn.app.base import BaseApplication
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from core.api.app import Api
from core.api.openapi import openapi_document
from core.api.wsgi import wsgi_app
from core.config import Settings
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


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return wsgi_app(build_api(self._settings))


def _child_exit(server: Any, worker: Any) -> None:
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def run_api(settings: Settings, host: str, port: int, workers: int, threads: int) -> int:
    require_urls(settings)
    try:
        _Gunicorn(
            settings,
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "keepalive": 75,  # longer than common load balancers' idle timeouts
                "timeout": 30,
                "graceful_timeout": 20,
                "accesslog": None,
                "child_exit": _child_exit,
            },
        ).run()
    finally:
        shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)
    return 0
