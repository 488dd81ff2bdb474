"""The Python client and the CLI's --url mode against a real API server."""

import json
from pathlib import Path

import pytest

from core.client import ApiError, Client
from core.errors import ConflictError, NotFoundError, ValidationError
from tests.support.cli import run_cli
from tests.support.http import ApiServer
from tests.support.procs import WorkerProcess

pytestmark = pytest.mark.acceptance


def test_client_runs_the_lifecycle(
    api: ApiServer, worker_env: dict[str, str], tmp_path: Path
) -> None:
    client = Client(api.url)
    job = client.submit({"type": "echo", "n": 1}, queue="default", idempotency_key="c1")
    assert (
        client.submit({"type": "echo", "n": 1}, queue="default", idempotency_key="c1")["id"]
        == job["id"]
    )
    with pytest.raises(ConflictError):
        client.submit({"type": "other"}, idempotency_key="c1")
    with pytest.raises(ValidationError, match=r"payload\.type"):
        client.submit({})
    with pytest.raises(NotFoundError):
        client.get("00000000-0000-0000-0000-000000000001")
    batch = client.submit_batch([{"payload": {"type": "demo", "fail": True}, "max_attempts": 1}])
    with pytest.raises(TimeoutError):
        client.wait(job["id"], timeout=0.3, interval=0.1)  # no worker yet
    worker = WorkerProcess(worker_env, tmp_path / "logs")
    try:
        assert client.wait(job["id"], timeout=20)["result"] == {"type": "echo", "n": 1}
        assert client.wait(batch[0]["id"], timeout=20)["status"] == "failed"
    finally:
        worker.close()
    assert [j["id"] for j in client.dlq()["jobs"]] == [batch[0]["id"]]
    assert client.list_jobs(status="completed")["jobs"][0]["id"] == job["id"]
    assert client.redrive(dry_run=True)["redriven"] == 1
    assert client.queues()["queues"][0]["failed"] == 1
    client.close()


def test_client_reports_auth_failures(worker_env: dict[str, str], tmp_path: Path) -> None:
    server = ApiServer({**worker_env, "TASKENGINE_API_KEYS": "secret"}, tmp_path / "logs")
    try:
        with pytest.raises(ApiError) as refused:
            Client(server.url).queues()
        assert refused.value.status == 401
        assert Client(server.url, api_key="secret").queues() == {"queues": []}
    finally:
        server.close()


def test_cli_through_the_api(api: ApiServer, worker_env: dict[str, str]) -> None:
    env = {k: v for k, v in worker_env.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["TASKENGINE_URL"] = api.url
    job = run_cli(env, "submit", "--queue", "remote", '{"type": "noop"}').json
    assert job["queue"] == "remote"
    assert run_cli(env, "get", job["id"]).json["id"] == job["id"]
    assert run_cli(env, "jobs", "--queue", "remote").json["jobs"][0]["id"] == job["id"]
    assert run_cli(env, "queues").json["queues"][0]["ready"] == 1
    assert run_cli(env, "dlq", "redrive", "--all", "--dry-run").json["redriven"] == 0
    bad = run_cli(env, "submit", "{}")
    assert bad.code == 2 and "payload.type" in bad.stderr
    missing = run_cli(env, "get", "00000000-0000-0000-0000-000000000001")
    assert missing.code == 3
    via_flag = run_cli({**env, "TASKENGINE_URL": ""}, "--url", api.url, "get", job["id"])
    assert json.loads(via_flag.stdout)["id"] == job["id"]


def test_iter_jobs_follows_every_page(api: ApiServer) -> None:
    client = Client(api.url)
    ids = [j["id"] for j in client.submit_batch([{"payload": {"type": "noop"}}] * 7)]
    seen = [job["id"] for job in client.iter_jobs(page_size=3)]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == 7
    assert [j["id"] for j in client.iter_jobs(page_size=3, type="echo")] == []
    client.close()
