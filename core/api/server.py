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

from core.api.build import build_api
from core.api.wsgi import wsgi_app
from core.config import Settings, load_settings, require_urls

__all__ = ["run_api", "wsgi_from_environment"]


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
