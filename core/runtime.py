"""Wiring: building the service and the worker from settings."""

import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable

from prometheus_client import REGISTRY, CollectorRegistry

from core.config import Settings, load_settings, require_urls
from core.dispatch import Dispatch
from core.health import Check, readiness
from core.logs import get_logger
from core.metrics import QueueDepthCollector
from core.ops_server import OpsServer
from core.pgstore import PgStore
from core.registry import Registry, registry
from core.service import JobService
from core.supervisor import Supervisor
from core.worker import Worker, WorkerOptions

__all__ = ["build_registry", "open_dispatch", "open_service", "run_worker_command"]

log = get_logger()

_STALE_LOOP_SECONDS = 30.0


def build_registry(settings: Settings) -> Registry:
    import core.jobtypes  # noqa: F401  (registers the built-in types)

    registry.load_modules(settings.job_modules)
    return registry


def open_dispatch(settings: Settings) -> Dispatch:
    _, redis_url = require_urls(settings)
    return Dispatch(redis_url, settings.redis_prefix)


def open_service(settings: Settings) -> JobService:
    database_url, _ = require_urls(settings)
    return JobService(PgStore(database_url), open_dispatch(settings), settings)


def _make_worker(settings: Settings, options: WorkerOptions) -> Worker:
    database_url, _ = require_urls(settings)
    return Worker(
        settings,
        options,
        build_registry(settings),
        lambda: PgStore(database_url, f"taskengine-{options.name}"),
        open_dispatch(settings),
    )


def _ready(settings: Settings) -> Check:
    database_url, redis_url = require_urls(settings)
    return readiness(database_url, redis_url)


def _serve_ops(
    settings: Settings, host: str, port: int, metrics: CollectorRegistry, live: "LiveCheck"
) -> OpsServer | None:
    if port == 0:
        return None
    dispatch = open_dispatch(settings)
    metrics.register(QueueDepthCollector(lambda: dispatch.depths(dispatch.queues())))
    server = OpsServer(host, port, metrics, live, lambda: _ready(settings))
    log.info("metrics and health on port", extra={"port": server.port})
    return server


class LiveCheck:
    def __init__(self, alive: Callable[[], bool]) -> None:
        self._alive = alive

    def __call__(self) -> Check:
        ok = bool(self._alive())
        return Check(ok, {"worker": "ok" if ok else "stalled"})


def run_worker_command(
    settings: Settings, options: WorkerOptions, processes: int, host: str, port: int
) -> int:
    """``taskengine worker``: one process, or a supervisor over ``processes`` of them."""
    require_urls(settings)
    build_registry(settings)  # a bad TASKENGINE_JOB_MODULES fails here, before any fork
    if processes == 1:
        worker = _make_worker(settings, options)
        worker.install_signal_handlers()
        live = LiveCheck(lambda: time.monotonic() - worker.last_loop < _STALE_LOOP_SECONDS)
        server = _serve_ops(settings, host, port, REGISTRY, live)
        try:
            return worker.run()
        finally:
            if server:
                server.close()
    supervisor = Supervisor(processes, functools.partial(_worker_child, options))
    supervisor.install_signal_handlers()
    from prometheus_client import multiprocess

    metrics = CollectorRegistry()
    multiprocess.MultiProcessCollector(metrics, path=supervisor.metrics_dir)  # type: ignore[no-untyped-call]
    server = _serve_ops(settings, host, port, metrics, LiveCheck(supervisor.alive))
    try:
        return supervisor.run()
    finally:
        if server:
            server.close()


def _worker_child(options: WorkerOptions, index: int) -> None:
    """A supervised worker process (spawned: it starts with a fresh interpreter)."""
    os.setpgrp()
    settings = load_settings()
    named = dataclasses.replace(options, name=f"{options.name}-{index}")
    worker = _make_worker(settings, named)
    worker.install_signal_handlers()
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.warning("supervisor gone: draining")
        worker.stop()

    threading.Thread(target=watch_parent, daemon=True).start()
    raise SystemExit(worker.run())
