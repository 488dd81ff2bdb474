"""Dramatiq on its Redis broker with its default worker: 2 processes of 8 threads,
the layout its CLI picks and its docs recommend. Every key lives under a namespace
named after the run.
"""

import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import dramatiq  # type: ignore[import-not-found]
from dramatiq.brokers.redis import RedisBroker  # type: ignore[import-not-found]

from bench.peers.adapter import Peer, WorkerPlan, cli
from bench.peers.naming import Run
from bench.peers.sink import record

_RUN = Run.from_env()
_PROCESSES, _THREADS = 2, 8

broker: Any = RedisBroker(url=_RUN.redis_url, namespace=_RUN.queue)
dramatiq.set_broker(broker)


def noop(ref: str, enqueued: float) -> None:
    record(ref, enqueued, time.time())


actor: Any = dramatiq.actor(actor_name="noop", broker=broker)(noop)


class _Client:
    def enqueue_many(self, refs: Sequence[str], enqueued: float) -> None:
        # The Redis broker has no bulk enqueue (group() sends one by one too).
        for ref in refs:
            actor.send(ref, enqueued)

    def submit(self, ref: str, enqueued: float) -> None:
        actor.send(ref, enqueued)

    def close(self) -> None:
        broker.close()


def _workers(run: Run) -> WorkerPlan:
    command = [cli("dramatiq"), __name__]
    command += ["--processes", str(_PROCESSES), "--threads", str(_THREADS)]
    config = f"{_PROCESSES} processes x {_THREADS} threads (dramatiq's default)"
    return WorkerPlan([command], config)


PEER = Peer(
    name="dramatiq",
    version=version("dramatiq"),
    persists="Redis only: the message in a hash and a list (an ack set while it runs); "
    "nothing after it ran",
    workers=_workers,
    sync_client=_Client,
)
