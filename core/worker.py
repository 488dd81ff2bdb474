"""The long-running worker: one process, a fetcher, executor threads and a committer.

- The fetcher (the main thread) claims as many jobs as there are free executor
  threads, in one Redis call and one UPDATE; with nothing ready it blocks on
  the queues' wake token. With an empty queue one free thread is enough to
  claim (lowest latency); with a backlog it waits for half the threads to be
  free, so that claims come in batches rather than one commit per job.
- Executor threads run handlers and hand outcomes to the committer.
- The committer records every outcome that is waiting in one transaction
  (group commit), then mirrors it into Redis.
- A heartbeat thread renews the leases of running jobs; a maintenance thread
  reaps expired claims and reconciles Redis with PostgreSQL.

SIGTERM or SIGINT: stop claiming, let running jobs finish within the grace
period, release the rest, exit 0. A second signal exits at once; leases
recover what it held.
"""

import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from uuid import UUID

from core.config import Settings
from core.dispatch import Dispatch, now_ms
from core.logs import get_logger
from core.metrics import WORKER_ACTIVE_JOBS
from core.model import Job
from core.processor import Processor, release_outcome
from core.reconcile import Reconciler
from core.registry import Registry
from core.store import Outcome, Store

__all__ = ["Worker", "WorkerOptions"]

log = get_logger()

_IDLE_WAIT_SECONDS = 0.5  # longest block on the wake token; bounds delayed-job lateness
_MAX_SETTLE_BATCH = 1000
_RELEASE_REASON = "released: the worker shut down before the attempt finished"


@dataclass(frozen=True)
class WorkerOptions:
    queues: tuple[str, ...]
    concurrency: int
    # Finished outcomes waiting for the committer, beyond which claiming pauses.
    max_unsettled: int = 2000
    name: str = field(default_factory=lambda: f"worker-{os.getpid()}")


class Worker:
    def __init__(
        self,
        settings: Settings,
        options: WorkerOptions,
        registry: Registry,
        make_store: Callable[[], Store],
        dispatch: Dispatch,
    ) -> None:
        self.settings = settings
        self.options = options
        self._dispatch = dispatch
        self._fetcher = Processor(make_store(), dispatch, registry, settings)
        self._committer = Processor(make_store(), dispatch, registry, settings)
        self._beater = Processor(make_store(), dispatch, registry, settings)
        self._reconciler = Reconciler(make_store(), dispatch)
        self._lock = threading.Condition()
        self._executing: dict[UUID, Job] = {}
        self._waiting = 0  # claimed, not yet picked up by an executor thread
        # With a backlog, claims wait for this many free threads (bigger batches,
        # fewer commits); with none, one free thread is enough (lowest latency).
        self._want = 1
        self._unsettled = 0
        self._work: queue.Queue[Job | None] = queue.Queue()
        self._outcomes: queue.Queue[tuple[Outcome, Job]] = queue.Queue()
        self._stopping = threading.Event()
        self._committer_done = threading.Event()
        self._beat_now = threading.Event()
        self.last_loop = time.monotonic()
        self.processed = 0

    # -- lifecycle ------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping.is_set():
            log.warning("second signal: exiting now; leases will recover held jobs")
            os._exit(128 + signum)
        log.info("signal received: draining", extra={"signal": signal.Signals(signum).name})
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()

    def run(self) -> int:
        """Process jobs until stop(); returns the exit code."""
        threads = [
            threading.Thread(target=self._execute_loop, name=f"exec-{i}", daemon=True)
            for i in range(self.options.concurrency)
        ]
        threads.append(threading.Thread(target=self._commit_loop, name="commit", daemon=True))
        threads.append(threading.Thread(target=self._heartbeat_loop, name="beat", daemon=True))
        threads.append(threading.Thread(target=self._maintain_loop, name="maint", daemon=True))
        for thread in threads:
            thread.start()
        log.info(
            "worker started",
            extra={"queues": list(self.options.queues), "concurrency": self.options.concurrency},
        )
        self._fetch_loop()
        return self._drain()

    # -- fetching -------------------------------------------------------------

    def _fetch_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self.last_loop = time.monotonic()
            slots = self._wait_for_threads()
            if slots <= 0:
                continue
            try:
                batch = self._fetcher.claim(self.options.queues, slots)
                failures = 0
            except Exception as exc:
                failures += 1
                log.error("claim failed", extra={"error": repr(exc), "failures": failures})
                self._fetcher.store.close()
                self._stopping.wait(min(0.1 * 2**failures, 5.0))
                continue
            self._admit(batch.jobs, batch.exhausted, backlog=batch.ready_left > 0)
            if not batch.jobs and not batch.exhausted:
                self._idle(batch.next_due_ms)

    def _wait_for_threads(self) -> int:
        """Wait for free executor threads; returns how many jobs the next claim may take."""
        with self._lock:
            free = self._free()
            if free < self._want:
                self._lock.wait(_IDLE_WAIT_SECONDS)
                free = self._free()
            return max(0, min(free, self.settings.claim_batch))

    def _admit(self, jobs: list[Job], unrun: list[tuple[Outcome, Job]], backlog: bool) -> None:
        """Hand claimed jobs to the executors (and unrunnable ones to the committer)."""
        with self._lock:
            self._waiting += len(jobs)
            self._unsettled += len(jobs) + len(unrun)
            self._want = max(1, min(self.settings.claim_batch, self.options.concurrency // 2))
            if not backlog:
                self._want = 1
            self._lock.notify_all()
        for job in jobs:
            self._work.put(job)
        for outcome, job in unrun:
            self._outcomes.put((outcome, job))

    def _free(self) -> int:
        if self._unsettled >= self.options.max_unsettled:
            return 0
        return self.options.concurrency - len(self._executing) - self._waiting

    def _idle(self, next_due_ms: int | None) -> None:
        timeout = _IDLE_WAIT_SECONDS
        if next_due_ms is not None:
            timeout = max(0.0, min(timeout, (next_due_ms - now_ms()) / 1000))
        try:
            self._dispatch.wait_for_work(self.options.queues, timeout)
        except Exception as exc:
            log.error("waiting on redis failed", extra={"error": repr(exc)})
            self._stopping.wait(1.0)

    # -- executing ------------------------------------------------------------

    def _execute_loop(self) -> None:
        while True:
            job = self._work.get()
            if job is None:
                return
            with self._lock:
                self._waiting -= 1
                self._executing[job.id] = job
            WORKER_ACTIVE_JOBS.inc()
            try:
                outcome = self._fetcher.execute(job, heartbeat=self._beat_now.set)
            finally:
                WORKER_ACTIVE_JOBS.dec()
            with self._lock:
                still_ours = self._executing.pop(job.id, None) is not None
                if self._free() >= self._want:  # wake the fetcher only when a claim is due
                    self._lock.notify_all()
            if still_ours:  # not released by a shutdown that gave up waiting
                self._outcomes.put((outcome, job))

    # -- committing -----------------------------------------------------------

    def _commit_loop(self) -> None:
        while not self._committer_done.is_set() or not self._outcomes.empty():
            try:
                first = self._outcomes.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < _MAX_SETTLE_BATCH:
                try:
                    batch.append(self._outcomes.get_nowait())
                except queue.Empty:
                    break
            self._settle(batch)

    def _settle(self, batch: list[tuple[Outcome, Job]]) -> None:
        outcomes = [o for o, _ in batch]
        jobs = {job.id: job for _, job in batch}
        failures = 0
        while True:
            try:
                self._committer.settle(outcomes, jobs)
                break
            except Exception as exc:
                failures += 1
                log.error("recording outcomes failed; retrying", extra={"error": repr(exc)})
                self._committer.store.close()
                time.sleep(min(0.1 * 2**failures, 5.0))
        with self._lock:
            self._unsettled -= len(batch)
            self.processed += len(batch)
            self._lock.notify_all()

    # -- leases and maintenance -----------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self._committer_done.is_set():
            self._beat_now.wait(self.settings.heartbeat_seconds)
            self._beat_now.clear()
            with self._lock:
                running = list(self._executing.values())
            try:
                lost = self._beater.heartbeat(running)
            except Exception as exc:
                log.error("heartbeat failed", extra={"error": repr(exc)})
                self._beater.store.close()
                continue
            for job_id in lost:
                log.warning("lease lost: the outcome will not count", extra={"job_id": str(job_id)})

    def _maintain_loop(self) -> None:
        interval = self.settings.reconcile_interval_seconds
        while not self._stopping.is_set():
            try:
                self._reconciler.reap()
                self._reconciler.run()
            except Exception as exc:
                log.error("reconcile failed", extra={"error": repr(exc)})
                self._reconciler.store.close()
            self._stopping.wait(interval)

    # -- shutdown -------------------------------------------------------------

    def _drain(self) -> int:
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        with self._lock:
            while (self._executing or self._waiting) and time.monotonic() < deadline:
                self._lock.wait(min(0.1, max(deadline - time.monotonic(), 0.0)))
            leftover = list(self._executing.values())
            self._executing.clear()
        leftover.extend(self._unstarted())
        if leftover:
            log.warning("releasing unfinished jobs", extra={"count": len(leftover)})
        for job in leftover:
            # Already counted as unsettled when claimed; the committer settles them.
            self._outcomes.put((release_outcome(job, _RELEASE_REASON), job))
        self._committer_done.set()
        self._beat_now.set()
        self._wait_for_commits()
        for _ in range(self.options.concurrency):
            self._work.put(None)
        log.info("worker stopped", extra={"processed": self.processed})
        return 0

    def _unstarted(self) -> list[Job]:
        jobs: list[Job] = []
        while True:
            try:
                job = self._work.get_nowait()
            except queue.Empty:
                return jobs
            if job is not None:
                jobs.append(job)

    def _wait_for_commits(self) -> None:
        deadline = time.monotonic() + 30
        with self._lock:
            while self._unsettled > 0 and time.monotonic() < deadline:
                self._lock.wait(0.1)
