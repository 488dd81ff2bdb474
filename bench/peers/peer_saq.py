"""saq on Redis: one worker process (its CLI's default) running up to `concurrency`
jobs at once on asyncio.
"""

import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from saq.queue.redis import RedisQueue  # type: ignore[import-not-found]

from bench.peers.adapter import AsyncClient, Peer, WorkerPlan, cli
from bench.peers.naming import Run
from bench.peers.sink import record_async

_RUN = Run.from_env()


# "ref", not "key": saq reads a `key` keyword as the job's own unique key.
async def noop(ctx: dict[str, Any], *, ref: str, enqueued: float) -> None:
    await record_async(ref, enqueued, time.time())


def _queue() -> Any:
    # RedisQueue.from_url takes whatever redis-py does (unix:// included, which the
    # embedded servers use); saq.Queue.from_url accepts only redis:// and rediss://.
    return RedisQueue.from_url(_RUN.redis_url, name=_RUN.queue)


settings = {
    "queue": _queue(),
    "functions": [noop],
    "concurrency": _RUN.concurrency,
}


class _Client:
    def __init__(self, queue: Any) -> None:
        self._queue = queue

    async def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None:
        # saq's only batch call, map(), also waits for the results; so a loop.
        for ref in refs:
            await self.submit(ref, enqueued)

    async def submit(self, ref: str, enqueued: float) -> None:
        await self._queue.enqueue("noop", key=_RUN.job_id(ref), ref=ref, enqueued=enqueued)

    async def close(self) -> None:
        await self._queue.disconnect()


async def _client() -> AsyncClient:
    queue = _queue()
    await queue.connect()
    return _Client(queue)


def _workers(run: Run) -> WorkerPlan:
    command = [cli("saq"), f"{__name__}.settings"]
    return WorkerPlan([command], f"1 asyncio process (--workers 1), concurrency {run.concurrency}")


PEER = Peer(
    name="saq",
    version=version("saq"),
    persists="Redis only: a job key per job, kept its ttl (600 s) after it finished",
    workers=_workers,
    async_client=_client,
)
