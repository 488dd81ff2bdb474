"""Run one scenario against one peer job queue and print its figures as one JSON
object on stdout (progress goes to stderr).

Run by the peer virtualenv's python, never the project's, and importing nothing of
task-engine: `python bench/peers/runner.py --peer celery --scenario drain --jobs 20000`.

drain: enqueue every job, then start the workers and time how fast they empty the
queue. steady: start the workers, let a warm-up job through, then enqueue at a fixed
rate on an open-loop schedule and time each job from enqueue to start. Either way
the workers' CPU includes their start-up and any idle polling, as an operator's
bill would; `wall_s` spans the first enqueue call to the last finished job.
An enqueue call that raises (a client pool timing out, say) is logged and counted in
`submit_errors`, and that job in neither `submitted` nor `lost`.
"""

import argparse
import asyncio
import importlib
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

if __package__ in (None, ""):
    # Run as a script, sys.path[0] is this directory, whose module names (sink,
    # workers...) must not shadow anything: import them as bench.peers.* instead.
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from bench.peers import PEERS
from bench.peers.adapter import AsyncClient, Peer
from bench.peers.load import Submission, open_loop_async, open_loop_threads
from bench.peers.naming import Run
from bench.peers.sink import Record, Sink
from bench.peers.summary import (
    behind_ms_max,
    counts,
    cpu_per_1000,
    describe,
    enqueue_to_start_ms,
    processed_per_s,
    submit_ms,
)
from bench.peers.workers import Workers

T = TypeVar("T")


def _log(message: str) -> None:
    print(f"peers: {message}", file=sys.stderr, flush=True)


async def _async_session(peer: Peer, use: Callable[[AsyncClient], Awaitable[T]]) -> T:
    assert peer.async_client is not None
    client = await peer.async_client()
    try:
        return await use(client)
    finally:
        await client.close()


def _enqueue_all(peer: Peer, refs: Sequence[str], enqueued: float) -> None:
    if peer.sync_client is None:
        asyncio.run(_async_session(peer, lambda client: client.enqueue_many(refs, enqueued)))
        return
    client = peer.sync_client()
    try:
        client.enqueue_many(refs, enqueued)
    finally:
        client.close()


def _open_loop(peer: Peer, rate: float, total: int) -> list[Submission]:
    if peer.sync_client is None:
        return asyncio.run(
            _async_session(peer, lambda client: open_loop_async(client.submit, rate, total))
        )
    client = peer.sync_client()
    try:
        return open_loop_threads(client.submit, rate, total)
    finally:
        client.close()


def _wait_for(sink: Sink, workers: Workers, expected: int, timeout: float, stall: float) -> None:
    """Until `expected` records, or `timeout`, or `stall` seconds without a new one."""
    start = last_change = last_report = time.monotonic()
    last = -1
    while (count := sink.count()) < expected:
        now = time.monotonic()
        if not workers.alive():
            raise RuntimeError(f"a worker exited with {count}/{expected} jobs recorded")
        if count != last:
            last, last_change = count, now
        if now - last_change > stall or now - start > timeout:
            _log(f"gave up waiting at {count}/{expected} records")
            return
        if now - last_report > 5:
            _log(f"{count}/{expected} recorded")
            last_report = now
        time.sleep(0.05)


def _warm_up(peer: Peer, sink: Sink, workers: Workers) -> None:
    """One job through before the clock starts, so steady timings exclude start-up."""
    _enqueue_all(peer, ["warm-up"], time.time())
    _wait_for(sink, workers, 1, timeout=120, stall=120)
    if sink.count() < 1:
        raise RuntimeError("the warm-up job never ran")
    sink.clear()


def _figures(
    submitted: int,
    records: list[Record],
    submitted_per_s: float,
    cpu_s: float,
    first_enqueue: float,
    submissions: list[Submission] | None,
) -> dict[str, Any]:
    last_finish = max((r.finished for r in records), default=time.time())
    failed = sum(s.failed for s in submissions or ())
    return {
        **counts(submitted - failed, records),
        "submitted_per_s": round(submitted_per_s, 1),
        "processed_per_s": processed_per_s(records),
        "enqueue_to_start_ms": enqueue_to_start_ms(records) if submissions else None,
        "submit_ms": submit_ms(submissions) if submissions else None,
        "cpu_s_per_1000_jobs": cpu_per_1000(cpu_s, len(records)),
        "wall_s": round(last_finish - first_enqueue, 3),
        "submit_errors": failed,
    }


def _drain(peer: Peer, run: Run, sink: Sink, args: argparse.Namespace) -> dict[str, Any]:
    refs = [str(k) for k in range(args.jobs)]
    _log(f"enqueueing {len(refs)} jobs")
    first = time.time()
    _enqueue_all(peer, refs, first)
    enqueue_s = time.time() - first
    _log(f"enqueued in {enqueue_s:.2f}s; starting workers")
    with Workers(peer.workers(run).commands, run.to_env()) as workers:
        _wait_for(sink, workers, len(refs), args.wait, args.stall)
        cpu_s = workers.stop()
    return _figures(len(refs), sink.records(), len(refs) / enqueue_s, cpu_s, first, None)


def _steady(peer: Peer, run: Run, sink: Sink, args: argparse.Namespace) -> dict[str, Any]:
    total = int(args.rate * args.seconds)
    with Workers(peer.workers(run).commands, run.to_env()) as workers:
        _warm_up(peer, sink, workers)
        _log(f"submitting {total} jobs at {args.rate}/s")
        first = time.time()
        submissions = _open_loop(peer, args.rate, total)
        submit_s = time.time() - first
        _log(f"submitted in {submit_s:.2f}s, at most {behind_ms_max(submissions)} ms behind")
        accepted = sum(not s.failed for s in submissions)
        _wait_for(sink, workers, accepted, args.wait, args.stall)
        cpu_s = workers.stop()
    return _figures(total, sink.records(), accepted / submit_s, cpu_s, first, submissions)


def _clean_up(peer: Peer, run: Run, sink: Sink) -> None:
    try:
        peer.cleanup(run, sink)
    finally:
        _log(f"deleted {sink.delete_run_keys()} Redis keys of run {run.id}")
        sink.close()


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through the `with Workers` and `finally` blocks, so a
    # harness that gives up on us still gets its workers stopped and keys deleted.
    raise SystemExit(128 + signum)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--peer", choices=PEERS, required=True)
    parser.add_argument("--scenario", choices=("drain", "steady"), required=True)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--wait", type=float, default=600.0, help="most seconds to wait for jobs")
    parser.add_argument("--stall", type=float, default=30.0, help="give up after this long idle")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    run = Run.new(args.redis_url, args.database_url, args.concurrency)
    # The peer module reads the run from the environment, as its worker processes do.
    os.environ.update(run.to_env())
    peer: Peer = importlib.import_module(f"bench.peers.peer_{args.peer}").PEER
    sink = Sink(run)
    _log(f"{peer.name} {peer.version}, run {run.id}")
    try:
        peer.prepare(run)
        scenario = _drain if args.scenario == "drain" else _steady
        figures = scenario(peer, run, sink, args)
    finally:
        _clean_up(peer, run, sink)
    result = {
        "peer": peer.name,
        "version": peer.version,
        "scenario": args.scenario,
        "config": peer.workers(run).config,
        "persists": peer.persists,
        **figures,
    }
    _log(describe(result))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
