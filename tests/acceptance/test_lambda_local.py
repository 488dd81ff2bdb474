"""`taskengine lambda-local`: the functions as real execution environments (the
Runtime Interface Emulator running awslambdaric), behind the API Gateway front door
and the Invoke API, with real PostgreSQL and Redis."""

import concurrent.futures
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.lambda_local import LambdaLocal
from tests.support.lambdas import event, with_job_id
from tests.support.procs import wait_until


@pytest.fixture
def lambda_env(worker_env: dict[str, str]) -> dict[str, str]:
    return {**worker_env, "TASKENGINE_JOB_MODULES": "tests.support.jobs"}


@pytest.fixture
def runtime(lambda_env: dict[str, str], tmp_path: Path) -> Iterator[LambdaLocal]:
    # No schedule: what runs a job here is submit's nudge.
    server = LambdaLocal(lambda_env, tmp_path / "logs", "--schedule-seconds", "0")
    yield server
    server.close()


def _lambda_client(runtime: LambdaLocal) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=runtime.invoke_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}),
    )


def _wait_for_status(api: LambdaLocal, job_id: str, status: str, timeout: float = 20) -> Any:
    found: dict[str, Any] = {}

    def reached() -> bool:
        found.update(api.request("GET", f"/jobs/{job_id}").json)
        return found["status"] == status

    wait_until(reached, timeout, f"job {job_id} to be {status}", interval=0.1)
    return found


def test_the_front_door_serves_the_templates_routes(runtime: LambdaLocal) -> None:
    created = runtime.request("POST", "/jobs", {"payload": {"type": "echo", "n": 1}})
    assert created.status == 201
    assert created.headers["X-Request-Id"]
    job = _wait_for_status(runtime, created.json["id"], "completed")  # nudged, not scheduled
    assert job["result"] == {"type": "echo", "n": 1}
    assert runtime.request("GET", "/queues").status == 200
    assert runtime.request("GET", "/jobs/not-a-uuid").json["error"]["code"] == "bad_request"
    batch = runtime.request("POST", "/jobs/batch", {"jobs": [{"payload": {"type": "noop"}}] * 3})
    assert batch.status == 201
    assert runtime.request("POST", "/dlq/redrive", {"dry_run": True}).status == 200
    # Like API Gateway: what the template does not route is a 403, not the API's 404/405.
    for method, path in (("GET", "/nowhere"), ("DELETE", "/jobs"), ("GET", "/jobs/batch")):
        missing = runtime.request(method, path)
        assert missing.status == 403, (method, path)
        assert missing.json == {"message": "Missing Authentication Token"}


def test_boto3_invokes_functions_by_name(runtime: LambdaLocal) -> None:
    client = _lambda_client(runtime)
    answer = client.invoke(
        FunctionName="GetFunction", Payload=json.dumps(event("apigw_healthz")).encode()
    )
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read())["statusCode"] == 200

    failed = client.invoke(FunctionName="ProcessFunction", Payload=b'{"hello": "world"}')
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"

    arn = "arn:aws:lambda:us-east-1:123456789012:function:DlqRedriveFunction"
    direct = client.invoke(FunctionName=arn, Payload=json.dumps({"dry_run": True}).encode())
    assert json.loads(direct["Payload"].read())["dry_run"] is True

    queued = client.invoke(
        FunctionName="ProcessFunction",
        InvocationType="Event",
        Payload=json.dumps(event("scheduled")),
    )
    assert queued["StatusCode"] == 202
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


def test_cold_starts_are_recorded_and_warm_environments_reused(runtime: LambdaLocal) -> None:
    for _ in range(5):
        assert runtime.request("GET", "/healthz").status == 200
    stats = runtime.stats()["GetFunction"]
    assert stats["invocations"] == 5
    assert stats["cold_starts"] == 1
    assert stats["environments"] == 1
    assert 0 < stats["init_ms"]["p50"] < 5000
    assert stats["warm_duration_ms"]["p50"] > 0


def test_concurrent_requests_scale_out_up_to_the_limit(
    lambda_env: dict[str, str], tmp_path: Path
) -> None:
    server = LambdaLocal(lambda_env, tmp_path, "--schedule-seconds", "0", "--concurrency", "2")
    try:
        job_id = server.request("POST", "/jobs", {"payload": {"type": "noop"}}).json["id"]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: server.request("GET", f"/jobs/{job_id}"), range(24)))
        assert {reply.status for reply in replies} == {200}
        stats = server.stats()["GetFunction"]
        assert stats["invocations"] == 24
        assert 1 <= stats["cold_starts"] <= 2
        assert stats["environments"] <= 2
    finally:
        server.close()


def test_idle_environments_are_stopped(lambda_env: dict[str, str], tmp_path: Path) -> None:
    server = LambdaLocal(lambda_env, tmp_path, "--schedule-seconds", "0", "--idle-seconds", "1")
    try:
        assert server.request("GET", "/healthz").status == 200
        assert server.stats()["GetFunction"]["environments"] == 1
        wait_until(lambda: server.stats()["GetFunction"]["environments"] == 0, 15, "a reap")
        assert server.request("GET", "/healthz").status == 200  # a new cold start
        assert server.stats()["GetFunction"]["cold_starts"] == 2
    finally:
        server.close()


def test_the_schedule_drains_what_no_nudge_announced(
    lambda_env: dict[str, str], tmp_path: Path
) -> None:
    server = LambdaLocal(
        lambda_env, tmp_path, "--schedule-seconds", "1", "--parameter", "NudgeProcess=false"
    )
    try:
        job_id = server.request("POST", "/jobs", {"payload": {"type": "noop"}}).json["id"]
        _wait_for_status(server, job_id, "completed")
        assert server.stats()["SubmitFunction"]["invocations"] == 1
        assert server.stats()["ProcessFunction"]["invocations"] >= 1
    finally:
        server.close()


def test_a_job_cut_off_by_the_function_timeout_is_not_lost(
    lambda_env: dict[str, str], tmp_path: Path
) -> None:
    # process times out after 3 s in the middle of the job's first attempt; the
    # emulator kills it. The job's lease (2 s) runs out, a scheduled drain reaps it
    # and runs it again in a new (cold) environment.
    env = {**lambda_env, "TASKENGINE_LEASE_SECONDS": "2", "TASKENGINE_DRAIN_MARGIN_SECONDS": "0"}
    server = LambdaLocal(
        env, tmp_path, "--schedule-seconds", "1", "--parameter", "ProcessTimeout=3"
    )
    try:
        job_id = server.request(
            "POST", "/jobs", {"payload": {"type": "slow_first", "sleep_ms": 6000}}
        ).json["id"]
        job = _wait_for_status(server, job_id, "completed", timeout=40)
        assert job["attempts"] == 2
        assert job["result"] == {"attempt": 2}
        stats = server.stats()["ProcessFunction"]
        assert stats["errors"] >= 1  # the timed-out invocation
        assert stats["cold_starts"] >= 2  # the runtime was initialised again after it
        assert "Duration: 3000.00 ms" in server.logs()  # the emulator's REPORT of the timeout
    finally:
        server.close()


def test_get_through_the_front_door_matches_the_events(runtime: LambdaLocal) -> None:
    job_id = runtime.request("POST", "/jobs", {"payload": {"type": "noop"}}).json["id"]
    _wait_for_status(runtime, job_id, "completed")
    client = _lambda_client(runtime)
    direct = client.invoke(
        FunctionName="GetFunction",
        Payload=json.dumps(with_job_id(event("apigw_get_job"), job_id)).encode(),
    )
    through_event = json.loads(json.loads(direct["Payload"].read())["body"])
    assert through_event == runtime.request("GET", f"/jobs/{job_id}").json


def test_a_missing_template_fails_clearly(lambda_env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"configuration: template .*none.yaml not found"):
        LambdaLocal(lambda_env, tmp_path, "--template", str(tmp_path / "none.yaml"))
