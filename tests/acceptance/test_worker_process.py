"""Real worker processes, real signals, real PostgreSQL and Redis."""

import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from core.config import Settings
from core.dispatch import Dispatch
from core.pgstore import PgStore
from core.service import JobService
from core.status import JobStatus
from core.store import ListFilter
from core.validation import parse_new_job
from tests.support.env import make_settings
from tests.support.jobs import executions_key
from tests.support.procs import WorkerProcess, free_port, wait_until

pytestmark = pytest.mark.acceptance


class Harness:
    def __init__(self, settings: Settings, env: dict[str, str], log_dir: Path) -> None:
        assert settings.database_url and settings.redis_url
        self.settings = settings
        self.env = {**env, "TASKENGINE_JOB_MODULES": "tests.support.jobs"}
        self.log_dir = log_dir
        self.store = PgStore(settings.database_url)
        self.service = JobService(
            self.store, Dispatch(settings.redis_url, settings.redis_prefix), settings
        )
        self.workers: list[WorkerProcess] = []

    def submit(self, payloads: list[dict[str, Any]], **fields: Any) -> list[Any]:
        ids = []
        for start in range(0, len(payloads), 1000):
            chunk = payloads[start : start + 1000]
            jobs = [parse_new_job({"payload": p, **fields}, self.settings) for p in chunk]
            ids.extend(job.id for job in self.service.submit_batch(jobs))
        return ids

    def worker(self, *args: str, **env: str) -> WorkerProcess:
        process = WorkerProcess({**self.env, **env}, self.log_dir, *args)
        self.workers.append(process)
        return process

    def count(self, status: JobStatus) -> int:
        rows = self.store.conn.run("SELECT count(*) FROM jobs WHERE status = :s", s=status.value)
        return int(rows[0][0])

    def jobs(self) -> list[Any]:
        return self.service.list_jobs(ListFilter(limit=100_000)).jobs

    def close(self) -> None:
        for process in self.workers:
            process.close()
        self.store.close()


@pytest.fixture
def harness(settings: Settings, worker_env: dict[str, str], tmp_path: Path) -> Iterator[Harness]:
    h = Harness(settings, worker_env, tmp_path / "logs")
    yield h
    h.close()


def test_sigkill_while_holding_jobs_loses_nothing(harness: Harness) -> None:
    ids = harness.submit([{"type": "count", "sleep_ms": 300} for _ in range(40)])
    victim = harness.worker("--concurrency", "8")
    wait_until(lambda: harness.count(JobStatus.COMPLETED) >= 8, 20, "first completions")
    wait_until(lambda: harness.count(JobStatus.RUNNING) > 0, 5, "jobs in flight")
    victim.signal(signal.SIGKILL)
    assert victim.wait(5) == -signal.SIGKILL

    harness.worker("--concurrency", "8")
    wait_until(lambda: harness.count(JobStatus.COMPLETED) == len(ids), 40, "every job completed")
    jobs = harness.jobs()
    lost = [j for j in jobs if j.attempts == 2]
    # Some jobs were in flight at the kill (at most its 8 threads' worth; the exact
    # number moves while the kill lands), and each shows its lost attempt...
    assert 1 <= len(lost) <= 8
    for job in lost:  # ...and the error history says why
        assert [e["attempt"] for e in job.errors] == [1]
        assert "lease expired" in job.errors[0]["error"]
    assert all(j.attempts == 1 and not j.errors for j in jobs if j not in lost)
    assert all(j.result["runs"] in (1, 2) for j in jobs)


def test_sigterm_finishes_in_flight_and_leaves_the_rest_queued(harness: Harness) -> None:
    harness.submit([{"type": "demo", "duration_ms": 1500} for _ in range(12)])
    worker = harness.worker("--concurrency", "3")
    wait_until(lambda: harness.count(JobStatus.RUNNING) == 3, 10, "three jobs running")
    started = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.wait(15) == 0
    assert time.monotonic() - started < 10  # within the grace period
    assert harness.count(JobStatus.COMPLETED) == 3
    assert harness.count(JobStatus.RUNNING) == 0
    queued = [j for j in harness.jobs() if j.status is JobStatus.QUEUED]
    assert len(queued) == 9
    assert all(j.attempts == 0 for j in queued)
    assert "worker stopped" in worker.logs()


def test_sigterm_releases_jobs_that_outlast_the_grace_period(harness: Harness) -> None:
    harness.submit([{"type": "demo", "duration_ms": 20_000} for _ in range(2)])
    worker = harness.worker("--concurrency", "2", TASKENGINE_SHUTDOWN_GRACE_SECONDS="1")
    wait_until(lambda: harness.count(JobStatus.RUNNING) == 2, 10, "two jobs running")
    worker.signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    jobs = harness.jobs()
    assert all(j.status is JobStatus.QUEUED for j in jobs)
    assert all(j.attempts == 1 and "released" in (j.last_error or "") for j in jobs)
    ready = harness.service.queue_depths()[0]
    assert (ready.ready, ready.running) == (2, 0)


def test_second_signal_exits_at_once(harness: Harness) -> None:
    harness.submit([{"type": "demo", "duration_ms": 20_000}])
    worker = harness.worker("--concurrency", "1")
    wait_until(lambda: harness.count(JobStatus.RUNNING) == 1, 10, "a job running")
    worker.signal(signal.SIGTERM)
    time.sleep(0.3)
    started = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.wait(5) != 0
    assert time.monotonic() - started < 2


def test_redis_flushall_loses_nothing(
    database_url: str,
    redis_prefix: str,
    private_redis: Any,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    settings = make_settings(database_url, private_redis.url, redis_prefix)
    env = {**worker_env, "REDIS_URL": private_redis.url}
    h = Harness(settings, env, tmp_path / "logs")
    try:
        in_flight = h.submit([{"type": "count", "sleep_ms": 2500} for _ in range(2)])
        worker = h.worker("--concurrency", "2")
        wait_until(lambda: h.count(JobStatus.RUNNING) == 2, 10, "two jobs in flight")
        queued = h.submit([{"type": "count"} for _ in range(20)])
        delayed = h.submit([{"type": "count"} for _ in range(5)], delay_seconds=1.5)
        private_redis.client().flushall()

        expected = len(in_flight) + len(queued) + len(delayed)
        wait_until(lambda: h.count(JobStatus.COMPLETED) == expected, 30, "every job completed")
        runs = private_redis.client().hgetall(executions_key(redis_prefix))
        assert sorted(runs) == sorted(str(i) for i in in_flight + queued + delayed)
        assert set(runs.values()) == {"1"}  # and none ran twice
        assert "full resync" in worker.logs()
    finally:
        h.close()


def test_two_processes_many_threads_run_each_job_exactly_once(harness: Harness) -> None:
    total = 10_000
    ids = harness.submit([{"type": "count"} for _ in range(total)])
    harness.worker("--processes", "2", "--concurrency", "8")
    wait_until(lambda: harness.count(JobStatus.COMPLETED) == total, 120, "10,000 completions")
    client = redis.Redis.from_url(harness.settings.redis_url or "", decode_responses=True)
    runs = client.hgetall(executions_key(harness.settings.redis_prefix))
    assert len(runs) == total
    assert set(runs) == {str(i) for i in ids}
    assert set(runs.values()) == {"1"}
    assert all(j.attempts == 1 for j in harness.jobs())


def _scrape(port: int, path: str = "/metrics") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            head, value = line.rsplit(" ", 1)
            if head == name or head.startswith(name + "{"):
                total += float(value)
    return total


@pytest.mark.parametrize("processes", ["1", "2"])
def test_worker_metrics_and_health(harness: Harness, processes: str) -> None:
    harness.submit([{"type": "noop"} for _ in range(30)])
    harness.submit([{"type": "demo", "fail_until_attempt": 1} for _ in range(5)])
    harness.submit([{"type": "demo", "fail": True} for _ in range(3)], max_attempts=2)
    port = free_port()
    harness.worker("--processes", processes, "--metrics-port", str(port))
    wait_until(
        lambda: harness.count(JobStatus.COMPLETED) + harness.count(JobStatus.FAILED) == 38,
        30,
        "all terminal",
    )
    wait_until(lambda: _scrape(port, "/healthz")[0] == 200, 10, "healthz")
    status, text = _scrape(port)
    assert status == 200
    assert _sample(text, "jobs_processed_total", outcome="completed") == 35
    assert _sample(text, "jobs_processed_total", outcome="retried") == 5 + 3
    assert _sample(text, "jobs_processed_total", outcome="dead_lettered") == 3
    assert _sample(text, "job_failures_total") == 11
    assert _sample(text, "jobs_retried_total") == 8
    assert _sample(text, "jobs_dead_lettered_total") == 3
    assert _sample(text, "job_processing_duration_seconds_count") == 46
    assert _sample(text, "job_enqueue_to_start_seconds_count") == 46
    assert _sample(text, "job_submit_to_finish_seconds_count") == 38
    assert _sample(text, "worker_active_jobs") == 0
    assert _sample(text, "queue_depth", queue="default", state="failed") == 3
    assert _sample(text, "queue_depth", queue="default", state="ready") == 0
    ready_status, ready_body = _scrape(port, "/readyz")
    assert ready_status == 200, ready_body
    assert '"postgres": "ok"' in ready_body


def test_heartbeats_keep_a_job_longer_than_its_lease(harness: Harness) -> None:
    (job_id,) = harness.submit([{"type": "demo", "duration_ms": 3500}])
    harness.worker("--concurrency", "1", TASKENGINE_LEASE_SECONDS="1.5")
    harness.worker("--concurrency", "1", TASKENGINE_LEASE_SECONDS="1.5")  # would steal it
    wait_until(lambda: harness.count(JobStatus.COMPLETED) == 1, 20, "the long job")
    job = harness.service.get(job_id)
    assert job.attempts == 1
    assert job.errors == []


def test_worker_serves_several_queues_and_logs_json(harness: Harness) -> None:
    harness.submit([{"type": "noop"}], queue="high")
    harness.submit([{"type": "demo", "fail": True, "error": "bad"}], queue="low", max_attempts=1)
    worker = harness.worker("--queues", "high,low")
    wait_until(
        lambda: harness.count(JobStatus.COMPLETED) + harness.count(JobStatus.FAILED) == 2,
        15,
        "both queues drained",
    )
    worker.signal(signal.SIGTERM)
    assert worker.wait(15) == 0
    records = [json.loads(line) for line in worker.logs().splitlines() if line.startswith("{")]
    dead = [r for r in records if r.get("message") == "job dead-lettered"]
    assert len(dead) == 1
    assert dead[0]["queue"] == "low"
    assert dead[0]["type"] == "demo"
    assert dead[0]["attempt"] == 1
    assert dead[0]["error"] == "DemoFailure: bad"
    assert dead[0]["job_id"]
    assert dead[0]["level"] == "ERROR"
