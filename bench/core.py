"""Benchmark of the core engine: drain, batch submit and steady-rate latency.

    python -m bench.core                 # all three scenarios, 3 runs each
    python -m bench.core --scenario drain --runs 3 --jobs 20000

Uses DATABASE_URL and REDIS_URL when set (a fresh database is created next to
the one named, and dropped afterwards; keys live under a fresh prefix), else
embedded servers. Every figure comes from the job timestamps in PostgreSQL,
which every mode shares. Results are printed as JSON, one line per run, and
as a summary of medians.
"""

import argparse
import json
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.target import TASKENGINE, Target, fresh_target, machine
from core.dispatch import Dispatch
from core.pgstore import PgStore
from core.service import JobService
from core.validation import parse_new_job


def _service(target: Target) -> JobService:
    settings = target.settings()
    return JobService(
        PgStore(target.database_url), Dispatch(target.redis_url, target.prefix), settings
    )


def _submit_backlog(service: JobService, jobs: int, batch: int) -> float:
    """Batch-submit ``jobs`` noop jobs; returns jobs/s."""
    items = [
        [
            parse_new_job({"payload": {"type": "noop", "i": i}}, service.settings)
            for i in range(start, min(start + batch, jobs))
        ]
        for start in range(0, jobs, batch)
    ]
    started = time.perf_counter()
    for chunk in items:
        service.submit_batch(chunk)
    return jobs / (time.perf_counter() - started)


@contextmanager
def _worker(
    target: Target, processes: int, concurrency: int, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            TASKENGINE,
            "worker",
            "--processes",
            str(processes),
            "--concurrency",
            str(concurrency),
            "--metrics-port",
            "0",
        ],
        env=target.env(**env),
        stdin=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def _children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _count(service: JobService, status: str) -> int:
    store = service.store
    assert isinstance(store, PgStore)
    return int(store.conn.run("SELECT count(*) FROM jobs WHERE status = :s", s=status)[0][0])


def _wait_all_completed(service: JobService, jobs: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _count(service, "completed") < jobs:
        if time.monotonic() > deadline:
            raise TimeoutError("jobs did not complete in time")
        time.sleep(0.1)


def _timing(service: JobService) -> dict[str, Any]:
    store = service.store
    assert isinstance(store, PgStore)
    row = store.conn.run(
        """SELECT count(*),
                  extract(epoch FROM max(finished_at) - min(started_at)),
                  percentile_cont(ARRAY[0.5, 0.95, 0.99])
                      WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)),
                  max(extract(epoch FROM started_at - created_at)),
                  count(*) FILTER (WHERE attempts <> 1)
           FROM jobs WHERE status = 'completed'"""
    )[0]
    count, span, (p50, p95, p99), worst, retried = row
    return {
        "completed": count,
        "span_s": float(span),
        "jobs_per_s": round(count / float(span), 1),
        "start_latency_ms": {
            "p50": round(p50 * 1000, 2),
            "p95": round(p95 * 1000, 2),
            "p99": round(p99 * 1000, 2),
            "max": round(float(worst) * 1000, 2),
        },
        "not_first_attempt": retried,
    }


def run_drain(jobs: int, processes: int, concurrency: int, batch: int) -> dict[str, Any]:
    with fresh_target() as target:
        service = _service(target)
        submit_rate = _submit_backlog(service, jobs, batch)
        cpu_before = _children_cpu()
        with _worker(target, processes, concurrency):
            _wait_all_completed(service, jobs, timeout=600)
        worker_cpu = _children_cpu() - cpu_before
        timing = _timing(service)
        service.store.close()
    return {
        "scenario": "drain",
        "jobs": jobs,
        "processes": processes,
        "concurrency": concurrency,
        "batch_submit_jobs_per_s": round(submit_rate, 1),
        "drain_jobs_per_s": timing["jobs_per_s"],
        "completed": timing["completed"],
        "drain_wall_s": round(timing["span_s"], 2),
        "worker_cpu_s_per_1000_jobs": round(worker_cpu / jobs * 1000, 3),
    }


def run_steady(
    rate: float, seconds: float, processes: int, concurrency: int, submitters: int
) -> dict[str, Any]:
    """Open-loop arrivals: job k is due at k/rate whatever the latency of earlier ones."""
    with fresh_target() as target, _worker(target, processes, concurrency):
        total = int(rate * seconds)
        services = [_service(target) for _ in range(submitters)]
        for s in services:  # warm connections and prepared statements
            s.submit(parse_new_job({"payload": {"type": "noop", "warmup": True}}, s.settings))
        _wait_all_completed(services[0], submitters, timeout=30)
        store = services[0].store
        assert isinstance(store, PgStore)
        store.conn.run("DELETE FROM jobs")
        start = time.perf_counter() + 0.2
        lateness: list[float] = []

        def submitter(index: int) -> None:
            service = services[index]
            for k in range(index, total, submitters):
                due = start + k / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                lateness.append(time.perf_counter() - due)
                service.submit(
                    parse_new_job({"payload": {"type": "noop", "k": k}}, service.settings)
                )

        threads = [threading.Thread(target=submitter, args=(i,)) for i in range(submitters)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _wait_all_completed(services[0], total, timeout=120)
        timing = _timing(services[0])
        for s in services:
            s.store.close()
    return {
        "scenario": "steady",
        "rate": rate,
        "seconds": seconds,
        "jobs": total,
        "processes": processes,
        "concurrency": concurrency,
        "enqueue_to_start_ms": timing["start_latency_ms"],
        "submit_lateness_p99_ms": round(statistics.quantiles(lateness, n=100)[98] * 1000, 2),
        "completed": timing["completed"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=["drain", "steady", "all"], default="all")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median kept)")
    parser.add_argument("--jobs", type=int, default=20_000, help="drain: backlog size")
    parser.add_argument("--batch", type=int, default=1000, help="drain: jobs per batch submit")
    parser.add_argument("--processes", type=int, default=2, help="drain: worker processes")
    parser.add_argument("--steady-processes", type=int, default=1, help="steady: worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per process")
    parser.add_argument("--rate", type=float, default=500, help="steady: jobs/s")
    parser.add_argument("--seconds", type=float, default=20, help="steady: duration")
    parser.add_argument("--submitters", type=int, default=2, help="steady: submitting threads")
    args = parser.parse_args(argv)
    print(json.dumps({"machine": machine()}), flush=True)
    results: dict[str, list[dict[str, Any]]] = {"drain": [], "steady": []}
    for run in range(args.runs):
        if args.scenario in ("drain", "all"):
            results["drain"].append(
                run_drain(args.jobs, args.processes, args.concurrency, args.batch)
            )
            print(json.dumps({"run": run + 1, **results["drain"][-1]}), flush=True)
        if args.scenario in ("steady", "all"):
            results["steady"].append(
                run_steady(
                    args.rate,
                    args.seconds,
                    args.steady_processes,
                    args.concurrency,
                    args.submitters,
                )
            )
            print(json.dumps({"run": run + 1, **results["steady"][-1]}), flush=True)
    summary: dict[str, Any] = {}
    if results["drain"]:
        summary["drain_jobs_per_s_median"] = statistics.median(
            r["drain_jobs_per_s"] for r in results["drain"]
        )
        summary["batch_submit_jobs_per_s_median"] = statistics.median(
            r["batch_submit_jobs_per_s"] for r in results["drain"]
        )
    if results["steady"]:
        for q in ("p50", "p95", "p99", "max"):
            summary[f"steady_enqueue_to_start_{q}_ms_median"] = statistics.median(
                r["enqueue_to_start_ms"][q] for r in results["steady"]
            )
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
