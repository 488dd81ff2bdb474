"""The one measurement every peer's task makes: an RPUSH of
"key enqueued started finished" (unix seconds) to the run's Redis list.

Each peer's no-op task calls `record` or `record_async` and does nothing else, so
the figures differ only by what the queue does around the task. The clients are
built lazily once per process, after a prefork pool has forked.
"""

import time
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio

from bench.peers.naming import Run

__all__ = ["Record", "Sink", "record", "record_async"]

_RUN: Run | None = None
_client: Any = None
_async_client: Any = None


def _run() -> Run:
    global _RUN
    if _RUN is None:
        _RUN = Run.from_env()
    return _RUN


def _line(key: str, enqueued: float, started: float) -> str:
    return f"{key} {enqueued:.6f} {started:.6f} {time.time():.6f}"


def record(key: str, enqueued: float, started: float) -> None:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(_run().redis_url)
    _client.rpush(_run().sink, _line(key, enqueued, started))


async def record_async(key: str, enqueued: float, started: float) -> None:
    global _async_client
    if _async_client is None:
        _async_client = redis.asyncio.Redis.from_url(_run().redis_url)
    await _async_client.rpush(_run().sink, _line(key, enqueued, started))


@dataclass(frozen=True)
class Record:
    key: str
    enqueued: float
    started: float
    finished: float


class Sink:
    """The runner's side: counts and reads the records, and deletes the run's keys."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self._redis = redis.Redis.from_url(run.redis_url)

    def count(self) -> int:
        return int(self._redis.llen(self._run.sink))

    def clear(self) -> None:
        self._redis.delete(self._run.sink)

    def records(self, chunk: int = 10_000) -> list[Record]:
        lines: list[bytes | str] = []
        while batch := self._redis.lrange(self._run.sink, len(lines), len(lines) + chunk - 1):
            lines.extend(batch)
        return [_parse(line) for line in lines]

    def delete_run_keys(self) -> int:
        """Delete every key named after this run (SCAN, never FLUSHDB: the server is shared)."""
        deleted = 0
        batch: list[bytes] = []
        for key in self._redis.scan_iter(match=self._run.key_pattern, count=1000):
            batch.append(key)
            if len(batch) == 500:
                deleted += int(self._redis.delete(*batch))
                batch = []
        if batch:
            deleted += int(self._redis.delete(*batch))
        return deleted

    def srem(self, key: str, member: str) -> None:
        """Take this run's entry out of a set that a peer shares between runs."""
        self._redis.srem(key, member)

    def close(self) -> None:
        self._redis.close()


def _parse(line: bytes | str) -> Record:
    text = line.decode() if isinstance(line, bytes) else line
    key, enqueued, started, finished = text.split()
    return Record(key, float(enqueued), float(started), float(finished))
