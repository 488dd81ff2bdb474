"""SubmitCoalescer: concurrent single submits share batches, and each request
gets its own job or its own failure."""

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from core.coalesce import SubmitCoalescer
from core.config import load_settings
from core.model import Job, NewJob
from core.service import JobService
from core.validation import parse_new_job

SETTINGS = load_settings({})
SETTINGS_NOW = datetime(2026, 1, 1, tzinfo=UTC)


class _SlowService:
    """Records each batch; the first one waits until every request has queued up."""

    def __init__(self, release: threading.Event, fail: bool = False) -> None:
        self.settings = SETTINGS
        self.batches: list[list[NewJob]] = []
        self.singles: list[NewJob] = []
        self._release = release
        self._fail = fail

    def submit_batch(self, jobs: Sequence[NewJob]) -> list[Job]:
        self._release.wait(5)
        self.batches.append(list(jobs))
        if self._fail:
            raise ConnectionError("database down")
        return [job.to_job(SETTINGS_NOW, SETTINGS_NOW) for job in jobs]

    def submit(self, job: NewJob) -> Job:
        self.singles.append(job)
        return job.to_job(SETTINGS_NOW, SETTINGS_NOW)


def _job(i: int, key: str | None = None) -> NewJob:
    return parse_new_job({"payload": {"type": "noop", "i": i}}, SETTINGS, key)


def _submit_concurrently(coalescer: SubmitCoalescer, jobs: list[NewJob]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        try:
            results[i] = coalescer.submit(jobs[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_submits_share_a_batch_and_each_gets_its_own_job() -> None:
    release = threading.Event()
    service = _SlowService(release)
    coalescer = SubmitCoalescer(cast(JobService, service))
    jobs = [_job(i) for i in range(20)]
    threading.Timer(0.3, release.set).start()
    results = _submit_concurrently(coalescer, jobs)
    assert [r.id for r in results] == [j.id for j in jobs]
    assert sum(len(b) for b in service.batches) == 20
    # The first flush took what had queued at once; all that queued while it ran
    # (held up by the slow service) went in a single second batch.
    assert len(service.batches) == 2


def test_a_failed_flush_fails_every_request_in_it() -> None:
    release = threading.Event()
    release.set()
    coalescer = SubmitCoalescer(cast(JobService, _SlowService(release, fail=True)))
    results = _submit_concurrently(coalescer, [_job(i) for i in range(5)])
    assert all(isinstance(r, ConnectionError) for r in results)


def test_keyed_submits_bypass_the_batch() -> None:
    service = _SlowService(threading.Event())
    coalescer = SubmitCoalescer(cast(JobService, service))
    job = _job(1, key="k-1")
    assert coalescer.submit(job).id == job.id
    assert service.singles == [job] and service.batches == []


@pytest.mark.parametrize("count", [1, 3])
def test_an_idle_coalescer_flushes_at_once(count: int) -> None:
    release = threading.Event()
    release.set()
    service = _SlowService(release)
    coalescer = SubmitCoalescer(cast(JobService, service))
    for i in range(count):
        assert coalescer.submit(_job(i)).payload["i"] == i
    assert [len(b) for b in service.batches] == [1] * count
