"""Celery on its Redis transport, results off, worker in the prefork pool with one
process per core: Celery's default pool and size, which its docs recommend over
threads for work that holds the GIL. The prefetch multiplier is raised as the
"Optimizing" guide advises for many short tasks, and gossip, mingle and heartbeat,
which only serve clusters, are off.
"""

import os
import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import celery  # type: ignore[import-not-found]

from bench.peers.adapter import Peer, WorkerPlan, cli
from bench.peers.naming import Run
from bench.peers.sink import record

_RUN = Run.from_env()
_PROCESSES = os.cpu_count() or 2
_PREFETCH = 64

# kombu spells a Redis Unix socket (the embedded servers') redis+socket://.
_BROKER = _RUN.redis_url.replace("unix://", "redis+socket://", 1)

app: Any = celery.Celery("te_peer", broker=_BROKER, set_as_current=False)
app.conf.update(
    # Every key kombu writes (queue, unacked hash, bindings) carries the run id.
    broker_transport_options={"global_keyprefix": _RUN.key_prefix},
    broker_connection_retry_on_startup=True,
    task_default_queue=_RUN.queue,
    task_ignore_result=True,
    worker_prefetch_multiplier=_PREFETCH,
    worker_enable_remote_control=False,
)


def noop(ref: str, enqueued: float) -> None:
    record(ref, enqueued, time.time())


task: Any = app.task(name="noop")(noop)


class _Client:
    def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None:
        # Celery has no bulk send on Redis; one producer for the loop is its fast path.
        with app.producer_or_acquire() as producer:
            for ref in refs:
                task.apply_async((ref, enqueued), producer=producer)

    def submit(self, ref: str, enqueued: float) -> None:
        task.apply_async((ref, enqueued))

    def close(self) -> None:
        app.close()


def _workers(run: Run) -> WorkerPlan:
    command = [cli("celery"), "-A", __name__, "worker"]
    command += ["--pool", "prefork", "--concurrency", str(_PROCESSES), "-Q", run.queue]
    command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    command += ["--without-heartbeat"]
    config = (
        f"1 worker, prefork pool of {_PROCESSES} processes, prefetch multiplier {_PREFETCH}, "
        "acks on receipt (default), results off, per-task logging off"
    )
    return WorkerPlan([command], config)


PEER = Peer(
    name="celery",
    version=version("celery"),
    persists="Redis only: the message, in a list then the unacked hash until acknowledged; "
    "no per-job state after it ran (results off)",
    workers=_workers,
    sync_client=_Client,
)
