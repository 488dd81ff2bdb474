"""RQ: a pool of SimpleWorkers, one per core. RQ's default Worker forks a work-horse
process per job, which its docs note costs more than a no-op job; SimpleWorker runs
the job in the worker process, and `rq worker-pool` runs several of them.
"""

import os
import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import rq  # type: ignore[import-not-found]
from redis import Redis

from bench.peers.adapter import Peer, WorkerPlan, cli
from bench.peers.load import chunks
from bench.peers.naming import Run
from bench.peers.sink import Sink, record

_RUN = Run.from_env()
_PROCESSES = os.cpu_count() or 2


def noop(ref: str, enqueued: float) -> None:
    record(ref, enqueued, time.time())


class _Client:
    def __init__(self) -> None:
        self._redis = Redis.from_url(_RUN.redis_url)
        self._queue: Any = rq.Queue(_RUN.queue, connection=self._redis)

    def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None:
        for batch in chunks(refs, 1000):
            jobs = [
                rq.Queue.prepare_data(noop, (ref, enqueued), job_id=_RUN.job_id(ref))
                for ref in batch
            ]
            with self._redis.pipeline() as pipe:
                self._queue.enqueue_many(jobs, pipeline=pipe)
                pipe.execute()

    def submit(self, ref: str, enqueued: float) -> None:
        self._queue.enqueue(noop, ref, enqueued, job_id=_RUN.job_id(ref))

    def close(self) -> None:
        self._redis.close()


def _workers(run: Run) -> WorkerPlan:
    command = [cli("rq"), "worker-pool", run.queue]
    command += ["--num-workers", str(_PROCESSES), "--worker-class", "rq.worker.SimpleWorker"]
    command += ["--url", run.redis_url, "--logging-level", "WARNING"]
    config = f"rq worker-pool of {_PROCESSES} SimpleWorker processes (no fork per job)"
    return WorkerPlan([command], config)


def _cleanup(run: Run, sink: Sink) -> None:
    # rq:queues lists every queue of the server; only our entry goes.
    sink.srem("rq:queues", f"rq:queue:{run.queue}")


PEER = Peer(
    name="rq",
    version=version("rq"),
    persists="Redis only: a hash per job, kept result_ttl (500 s) after it finished",
    workers=_workers,
    sync_client=_Client,
    cleanup=_cleanup,
)
