"""The load a peer's client puts on its queue: all jobs up front (drain), or one at
a time on an open-loop schedule (steady), where job k falls due at start + k / rate
whatever happened to earlier ones. A slow enqueue call therefore delays no later
job's start; it shows up in the submit latency and in how far behind schedule the
client fell.
"""

import asyncio
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

__all__ = ["Submission", "chunks", "open_loop_async", "open_loop_threads"]


@dataclass(frozen=True)
class Submission:
    ref: str
    enqueued: float  # when the enqueue call began, unix seconds
    submit_ms: float  # how long the call took
    behind_ms: float  # how long after its due time the call began
    failed: bool = False  # the call raised: counted apart, not as submitted


def _failed(ref: str, error: Exception) -> None:
    print(f"peers: enqueue of {ref} failed: {error!r}", file=sys.stderr, flush=True)


def _due(start: float, k: int, rate: float) -> float:
    return start + k / rate


def open_loop_threads(
    submit: Callable[[str, float], None], rate: float, total: int, threads: int = 8
) -> list[Submission]:
    """Submit `total` jobs at `rate` from a pool of threads (a sync client's calls block)."""
    done: list[Submission] = []
    lock = threading.Lock()
    start = time.time()

    def one(k: int) -> None:
        enqueued, failed = time.time(), False
        try:
            submit(str(k), enqueued)
        except Exception as error:  # a peer's client giving up is a result, not a crash
            _failed(str(k), error)
            failed = True
        ended = time.time()
        late = (enqueued - _due(start, k, rate)) * 1000
        outcome = Submission(str(k), enqueued, (ended - enqueued) * 1000, late, failed)
        with lock:
            done.append(outcome)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = []
        for k in range(total):
            wait = _due(start, k, rate) - time.time()
            if wait > 0:
                time.sleep(wait)
            futures.append(pool.submit(one, k))
        for future in futures:
            future.result()  # re-raises the first failed enqueue
    return done


async def open_loop_async(
    submit: Callable[[str, float], Awaitable[None]], rate: float, total: int
) -> list[Submission]:
    """Submit `total` jobs at `rate` as concurrent tasks on the running event loop."""
    start = time.time()

    async def one(k: int) -> Submission:
        enqueued, failed = time.time(), False
        try:
            await submit(str(k), enqueued)
        except Exception as error:  # a peer's client giving up is a result, not a crash
            _failed(str(k), error)
            failed = True
        ended = time.time()
        late = (enqueued - _due(start, k, rate)) * 1000
        return Submission(str(k), enqueued, (ended - enqueued) * 1000, late, failed)

    tasks = []
    for k in range(total):
        wait = _due(start, k, rate) - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(k)))
    return list(await asyncio.gather(*tasks))


def chunks(refs: Sequence[str], size: int) -> list[Sequence[str]]:
    """Bulk enqueue APIs get bounded batches, so one call never builds a giant command."""
    return [refs[i : i + size] for i in range(0, len(refs), size)]
