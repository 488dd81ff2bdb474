"""Procrastinate on PostgreSQL (psycopg 3): one worker process running up to
`concurrency` async jobs at once, woken by LISTEN/NOTIFY. It gets a database of its
own per run, so its schema and rows never meet task-engine's.
"""

import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import procrastinate  # type: ignore[import-not-found]
import psycopg  # type: ignore[import-not-found]

from bench.peers.adapter import AsyncClient, Peer, WorkerPlan, cli
from bench.peers.load import chunks
from bench.peers.naming import Run
from bench.peers.sink import Sink, record_async

_RUN = Run.from_env()

app: Any = procrastinate.App(
    connector=procrastinate.PsycopgConnector(conninfo=_RUN.run_database_url)
)


async def noop(ref: str, enqueued: float) -> None:
    await record_async(ref, enqueued, time.time())


task: Any = app.task(name="noop")(noop)


class _Client:
    async def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None:
        for batch in chunks(refs, 1000):
            await task.batch_defer_async(*({"ref": ref, "enqueued": enqueued} for ref in batch))

    async def submit(self, ref: str, enqueued: float) -> None:
        await task.defer_async(ref=ref, enqueued=enqueued)

    async def close(self) -> None:
        await app.close_async()


async def _client() -> AsyncClient:
    await app.open_async()
    return _Client()


def _prepare(run: Run) -> None:
    with psycopg.connect(run.database_url, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{run.database}"')
    with psycopg.connect(run.run_database_url, autocommit=True) as database:
        database.execute(app.schema_manager.get_schema())


def _cleanup(run: Run, sink: Sink) -> None:
    with psycopg.connect(run.database_url, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{run.database}" WITH (FORCE)')


def _workers(run: Run) -> WorkerPlan:
    command = [cli("procrastinate"), "--log-level", "warning"]
    command += ["--app", f"{__name__}.app", "worker", "--concurrency", str(run.concurrency)]
    return WorkerPlan([command], f"1 worker process, concurrency {run.concurrency} (asyncio)")


PEER = Peer(
    name="procrastinate",
    version=version("procrastinate"),
    persists="PostgreSQL: a row per job, kept after it succeeded, plus its status events",
    workers=_workers,
    async_client=_client,
    prepare=_prepare,
    cleanup=_cleanup,
)
