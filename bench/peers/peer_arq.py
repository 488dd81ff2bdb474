"""arq: one asyncio worker process running up to `concurrency` jobs at once
(max_jobs), as its docs run it. Its per-job INFO log lines are turned down to
warnings, as for every peer that logs each job by default.
"""

import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any, ClassVar

import arq  # type: ignore[import-not-found]
from arq.connections import RedisSettings  # type: ignore[import-not-found]

from bench.peers.adapter import AsyncClient, Peer, WorkerPlan, cli
from bench.peers.naming import Run
from bench.peers.sink import record_async

_RUN = Run.from_env()


async def noop(ctx: dict[str, Any], ref: str, enqueued: float) -> None:
    await record_async(ref, enqueued, time.time())


class WorkerSettings:
    functions: ClassVar[list[Any]] = [arq.func(noop, name="noop")]
    redis_settings = RedisSettings.from_dsn(_RUN.redis_url)
    queue_name = _RUN.queue
    health_check_key = f"{_RUN.queue}:health-check"
    max_jobs = _RUN.concurrency


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"level": "WARNING", "class": "logging.StreamHandler"}},
    "loggers": {"arq": {"handlers": ["stderr"], "level": "WARNING"}},
}


class _Client:
    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None:
        # arq has no bulk enqueue: each job is its own transaction.
        for ref in refs:
            await self.submit(ref, enqueued)

    async def submit(self, ref: str, enqueued: float) -> None:
        await self._pool.enqueue_job("noop", ref, enqueued, _job_id=_RUN.job_id(ref))

    async def close(self) -> None:
        await self._pool.aclose()


async def _client() -> AsyncClient:
    pool = await arq.create_pool(WorkerSettings.redis_settings, default_queue_name=_RUN.queue)
    return _Client(pool)


def _workers(run: Run) -> WorkerPlan:
    command = [cli("arq"), f"{__name__}.WorkerSettings"]
    command += ["--custom-log-dict", f"{__name__}.LOG_CONFIG"]
    return WorkerPlan([command], f"1 asyncio process, max_jobs {run.concurrency}")


PEER = Peer(
    name="arq",
    version=version("arq"),
    persists="Redis only: a job key while queued, then a result key kept 1 h (keep_result)",
    workers=_workers,
    async_client=_client,
)
