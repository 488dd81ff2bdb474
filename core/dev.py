"""``taskengine dev``: a working system in one command on a fresh machine."""

import contextlib
import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator

from core.config import ConfigError, Settings
from core.db import connect
from core.embedded import EmbeddedServers
from core.migrate import apply_migrations
from core.runtime import run_worker_command
from core.worker import WorkerOptions

__all__ = ["local_services", "run_dev"]


@contextlib.contextmanager
def local_services(settings: Settings) -> Iterator[Settings]:
    """PostgreSQL and Redis for a local run: the configured ones, or embedded ones
    when neither URL is set (their URLs go into os.environ for child processes);
    migrated either way. Yields the settings with both URLs."""
    servers: EmbeddedServers | None = None
    if not settings.database_url and not settings.redis_url:
        servers = EmbeddedServers(settings.data_dir)
        print(f"starting embedded PostgreSQL and Redis in {servers.data_dir} ...", file=sys.stderr)
        database_url, redis_url = servers.start()
        os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = database_url, redis_url
        settings = dataclasses.replace(settings, database_url=database_url, redis_url=redis_url)
    elif not settings.database_url or not settings.redis_url:
        raise ConfigError("set both DATABASE_URL and REDIS_URL, or neither (embedded servers)")
    try:
        assert settings.database_url and settings.redis_url
        conn = connect(settings.database_url, "taskengine-dev")
        try:
            apply_migrations(conn)
        finally:
            conn.close()
        yield settings
    finally:
        if servers is not None:
            servers.stop()


def run_dev(
    settings: Settings, processes: int, concurrency: int, metrics_port: int, api_port: int
) -> int:
    with local_services(settings) as settings:
        api = _start_api(api_port) if api_port else None
        _banner(settings, metrics_port, api_port)
        options = WorkerOptions(queues=(settings.default_queue,), concurrency=concurrency)
        try:
            return run_worker_command(settings, options, processes, "127.0.0.1", metrics_port)
        finally:
            if api is not None:
                api.terminate()
                api.wait(30)


def _start_api(port: int) -> "subprocess.Popen[bytes]":
    """The API in a process of its own (gunicorn forks), on this machine only."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core.cli",
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdin=subprocess.DEVNULL,
    )


def _banner(settings: Settings, metrics_port: int, api_port: int) -> None:
    api = (
        f"""
  curl -s -X POST localhost:{api_port}/jobs -H 'Content-Type: application/json' \\
       -d '{{"payload": {{"type": "echo", "hello": "http"}}}}'
  curl -s localhost:{api_port}/queues
"""
        if api_port
        else ""
    )
    print(
        f"""
task-engine is running (Ctrl-C to stop). In another terminal:

  export DATABASE_URL='{settings.database_url}'
  export REDIS_URL='{settings.redis_url}'
  taskengine submit '{{"type": "echo", "hello": "world"}}'
  taskengine submit '{{"type": "demo", "fail_until_attempt": 2}}'   # retries, then completes
  taskengine submit --max-attempts 2 '{{"type": "demo", "fail": true}}'   # ends in the DLQ
  taskengine get <id>
  taskengine dlq list
  taskengine dlq redrive --all
  taskengine queues
  curl -s localhost:{metrics_port}/metrics | grep ^jobs_
{api}""",
        file=sys.stderr,
        flush=True,
    )
