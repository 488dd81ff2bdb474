"""Where a benchmark run works: a fresh database and Redis prefix on the configured
servers (DATABASE_URL and REDIS_URL), or on embedded ones when they are unset;
and the machine it ran on, for the report."""

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.config import Settings, load_settings
from core.db import connect
from core.dispatch import Dispatch
from core.embedded import EmbeddedServers
from core.migrate import apply_migrations

TASKENGINE = str(Path(sys.executable).parent / "taskengine")


@dataclass
class Target:
    database_url: str
    redis_url: str
    prefix: str

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "TASKENGINE_REDIS_PREFIX": self.prefix,
            "TASKENGINE_METRICS_PORT": "0",
            "TASKENGINE_LOG_LEVEL": "WARNING",
            **extra,
        }

    def settings(self) -> Settings:
        return load_settings(
            {}, database_url=self.database_url, redis_url=self.redis_url, redis_prefix=self.prefix
        )


@contextmanager
def fresh_target() -> Iterator[Target]:
    """A new database and Redis prefix on the configured (or embedded) servers."""
    base_db, base_redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    servers = None
    if not base_db or not base_redis:
        servers = EmbeddedServers(tempfile.mkdtemp(prefix="te-bench-"), persistent=False)
        base_db, base_redis = servers.start()
    name = f"te_bench_{uuid.uuid4().hex[:10]}"
    admin = connect(base_db, "taskengine-bench")
    admin.run(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(base_db)._replace(path=f"/{name}"))
    conn = connect(url)
    apply_migrations(conn)
    conn.close()
    target = Target(url, base_redis, f"bench{uuid.uuid4().hex[:8]}")
    try:
        yield target
    finally:
        dispatch = Dispatch(base_redis, target.prefix)
        keys = list(dispatch.client.scan_iter(f"{target.prefix}:*", count=1000))
        if keys:
            dispatch.client.delete(*keys)
        dispatch.close()
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        if servers:
            servers.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def python_start_ms(runs: int = 5) -> float:
    """Median wall time of `python -c "import asyncio"`: how fast this machine starts
    a Python process right now, beside which cold starts can be judged."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import asyncio"], check=True)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
