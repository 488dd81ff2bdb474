"""The HTTP API on a real server process, real PostgreSQL and Redis."""

import json
import threading
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.support.http import ApiServer, Reply
from tests.support.procs import WorkerProcess, wait_until

pytestmark = pytest.mark.acceptance


def error(reply: Reply, status: int, code: str) -> dict[str, str]:
    assert reply.status == status, reply
    body = reply.json["error"]
    assert body["code"] == code and body["message"]
    return body  # type: ignore[no-any-return]


def jobs_in(api: ApiServer) -> int:
    return len(api.request("GET", "/jobs?limit=1000").json["jobs"])


def test_submit_get_and_request_id(api: ApiServer) -> None:
    created = api.request(
        "POST",
        "/jobs",
        {"payload": {"type": "echo", "x": 1}, "queue": "q1"},
        headers={"X-Request-Id": "req-123"},
    )
    assert created.status == 201
    assert created.headers["X-Request-Id"] == "req-123"
    job = created.json
    assert (job["status"], job["queue"], job["payload"]) == (
        "queued",
        "q1",
        {"type": "echo", "x": 1},
    )
    fetched = api.request("GET", f"/jobs/{job['id']}")
    assert fetched.status == 200 and fetched.json["id"] == job["id"]
    assert fetched.headers["X-Request-Id"]
    assert '"request_id":"req-123"' in api.logs().replace(" ", "")


@pytest.mark.parametrize(
    ("body", "raw", "code"),
    [
        (None, b"{nope", "bad_request"),
        ([1, 2], None, "bad_request"),
        ({"payload": [1]}, None, "bad_request"),
        ({"payload": {}}, None, "bad_request"),
        ({"payload": {"type": 5}}, None, "bad_request"),
        ({"payload": {"type": "x"}, "max_attempts": 0}, None, "bad_request"),
        ({"payload": {"type": "x"}, "delay_seconds": -1}, None, "bad_request"),
        ({"payload": {"type": "x"}, "extra": 1}, None, "bad_request"),
    ],
)
def test_bad_submits_are_400_and_write_nothing(
    api: ApiServer, body: object, raw: bytes | None, code: str
) -> None:
    error(api.request("POST", "/jobs", body, raw=raw), 400, code)
    assert jobs_in(api) == 0


def test_status_codes(api: ApiServer) -> None:
    error(api.request("GET", "/jobs/not-a-uuid"), 400, "bad_request")
    error(api.request("GET", "/jobs/00000000-0000-0000-0000-000000000001"), 404, "not_found")
    error(api.request("GET", "/nowhere"), 404, "not_found")
    wrong = api.request("DELETE", "/jobs")
    error(wrong, 405, "method_not_allowed")
    assert wrong.headers["Allow"] == "GET, POST"
    error(api.request("POST", "/jobs", raw=b"x" * 300_000), 413, "payload_too_large")
    error(
        api.request(
            "POST",
            "/jobs",
            raw=b'{"payload": {"type": "x"}}',
            headers={"Content-Type": "text/plain"},
        ),
        415,
        "unsupported_media_type",
    )
    error(api.request("GET", "/jobs?status=bogus"), 400, "bad_request")
    error(api.request("GET", "/jobs?cursor=garbage"), 400, "bad_request")
    error(api.request("GET", "/jobs?limit=0"), 400, "bad_request")
    assert jobs_in(api) == 0


def test_idempotency_replay_conflict_and_concurrency(api: ApiServer) -> None:
    body = {"payload": {"type": "noop", "n": 1}}
    replies: list[Reply] = []

    def send() -> None:
        replies.append(api.request("POST", "/jobs", body, headers={"Idempotency-Key": "same"}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in replies) == [200] * 7 + [201]
    assert len({r.json["id"] for r in replies}) == 1
    error(
        api.request(
            "POST", "/jobs", {"payload": {"type": "other"}}, headers={"Idempotency-Key": "same"}
        ),
        409,
        "conflict",
    )
    field = api.request("POST", "/jobs", {**body, "idempotency_key": "same"})
    assert field.status == 200 and field.json["id"] == replies[0].json["id"]
    assert jobs_in(api) == 1


def test_batch_submit(api: ApiServer) -> None:
    items = [{"payload": {"type": "noop", "i": i}} for i in range(5)]
    created = api.request("POST", "/jobs/batch", {"jobs": items})
    assert created.status == 201
    assert [j["payload"]["i"] for j in created.json["jobs"]] == list(range(5))
    bad = error(
        api.request("POST", "/jobs/batch", {"jobs": [*items, {"payload": {}}]}), 400, "bad_request"
    )
    assert bad["message"].startswith("jobs[5]")
    error(api.request("POST", "/jobs/batch", {"jobs": []}), 400, "bad_request")
    assert jobs_in(api) == 5


def test_list_pages_with_concurrent_inserts(api: ApiServer) -> None:
    api.request("POST", "/jobs/batch", {"jobs": [{"payload": {"type": "noop"}}] * 7})
    before = {j["id"] for j in api.request("GET", "/jobs?limit=100").json["jobs"]}
    seen: list[str] = []
    path = "/jobs?limit=3"
    while True:
        page = api.request("GET", path).json
        seen.extend(j["id"] for j in page["jobs"])
        api.request("POST", "/jobs", {"payload": {"type": "noop"}})  # arrives mid-listing
        if page["next_cursor"] is None:
            break
        path = f"/jobs?limit=3&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen))  # no job twice
    assert before <= set(seen)  # none of those present at the start skipped


def test_auth(worker_env: dict[str, str], tmp_path: Path) -> None:
    env = {**worker_env, "TASKENGINE_API_KEYS": "k1,k2"}
    server = ApiServer(env, tmp_path / "logs", "--workers", "1")
    try:
        error(server.request("GET", "/jobs"), 401, "unauthorized")
        error(server.request("GET", "/jobs", headers={"X-API-Key": "wrong"}), 401, "unauthorized")
        assert server.request("GET", "/jobs", headers={"X-API-Key": "k2"}).status == 200
        bearer = server.request("GET", "/queues", headers={"Authorization": "Bearer k1"})
        assert bearer.status == 200
        for open_path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            assert server.request("GET", open_path).status == 200, open_path
        error(server.request("POST", "/jobs", {"payload": {"type": "noop"}}), 401, "unauthorized")
    finally:
        server.close()
    assert "TASKENGINE_API_KEYS is not set" not in server.logs()


def test_open_api_warns(api: ApiServer) -> None:
    assert "TASKENGINE_API_KEYS is not set" in api.logs()


def test_backpressure(worker_env: dict[str, str], tmp_path: Path) -> None:
    env = {**worker_env, "TASKENGINE_MAX_QUEUE_DEPTH": "5"}
    server = ApiServer(env, tmp_path / "logs", "--workers", "1")
    try:
        for _ in range(5):
            assert server.request("POST", "/jobs", {"payload": {"type": "noop"}}).status == 201
        full = server.request("POST", "/jobs", {"payload": {"type": "noop"}})
        error(full, 429, "too_many_requests")
        assert full.headers["Retry-After"] == "1"
        worker = WorkerProcess(worker_env, tmp_path / "logs")
        try:
            wait_until(
                lambda: server.request("GET", "/queues").json["queues"][0]["ready"] == 0,
                20,
                "the queue to drain",
            )
        finally:
            worker.close()
        assert server.request("POST", "/jobs", {"payload": {"type": "noop"}}).status == 201
    finally:
        server.close()


def test_full_lifecycle_over_http(
    api: ApiServer, worker_env: dict[str, str], tmp_path: Path
) -> None:
    ok = api.request("POST", "/jobs", {"payload": {"type": "echo", "v": 1}}).json
    flaky = api.request(
        "POST", "/jobs", {"payload": {"type": "demo", "fail_until_attempt": 2}}
    ).json
    doomed = api.request(
        "POST",
        "/jobs",
        {"payload": {"type": "demo", "fail": True, "error": "nope"}, "max_attempts": 2},
    ).json
    worker = WorkerProcess(worker_env, tmp_path / "logs")
    try:

        def status(job: dict[str, str]) -> str:
            return str(api.request("GET", f"/jobs/{job['id']}").json["status"])

        wait_until(
            lambda: status(ok) == status(flaky) == "completed" and status(doomed) == "failed",
            30,
            "the three jobs to finish",
        )
        assert api.request("GET", f"/jobs/{ok['id']}").json["result"] == {"type": "echo", "v": 1}
        assert api.request("GET", f"/jobs/{flaky['id']}").json["attempts"] == 3
        dlq = api.request("GET", "/dlq").json["jobs"]
        assert [j["id"] for j in dlq] == [doomed["id"]]
        assert [e["attempt"] for e in dlq[0]["errors"]] == [1, 2]
        dry = api.request("POST", "/dlq/redrive", {"ids": [doomed["id"]], "dry_run": True}).json
        assert dry == {"redriven": 1, "ids": [doomed["id"]], "dry_run": True}
        done = api.request("POST", "/dlq/redrive", {"queue": "default"}).json
        assert done["ids"] == [doomed["id"]]
        assert api.request("POST", "/dlq/redrive", raw=b"").json["redriven"] == 0
        wait_until(
            lambda: (
                status(doomed) == "failed"
                and api.request("GET", f"/jobs/{doomed['id']}").json["attempts"] == 4
            ),
            30,
            "the redriven job to fail again",
        )
    finally:
        worker.close()
    queues = api.request("GET", "/queues").json["queues"]
    assert queues[0]["failed"] == 1
    metrics = api.request("GET", "/metrics").body.decode()
    assert 'jobs_redriven_total{queue="default"} 1.0' in metrics
    assert "http_request_duration_seconds_bucket" in metrics


def test_openapi_document_is_valid(api: ApiServer) -> None:
    document = api.request("GET", "/openapi.json").json
    validate(document)
    assert set(document["paths"]) == {
        "/jobs",
        "/jobs/batch",
        "/jobs/{id}",
        "/dlq",
        "/dlq/redrive",
        "/queues",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    }
    assert json.dumps(document)


def test_request_id_reaches_the_workers_job_logs(
    api: ApiServer, worker_env: dict[str, str], tmp_path: Path
) -> None:
    flaky = api.request(
        "POST",
        "/jobs",
        {"payload": {"type": "demo", "fail_until_attempt": 2}},
        headers={"X-Request-Id": "trace-me-42"},
    ).json
    worker = WorkerProcess(worker_env, tmp_path / "logs")
    try:
        wait_until(
            lambda: api.request("GET", f"/jobs/{flaky['id']}").json["status"] == "completed",
            30,
            "the flaky job to complete",
        )
        worker_logs = worker.logs()
    finally:
        worker.close()
    retried = [
        json.loads(line)
        for line in worker_logs.splitlines()
        if line.startswith("{") and "job failed, will retry" in line
    ]
    # fail_until_attempt 2 fails attempts 1 and 2: two retries, each traced.
    assert [(r["job_id"], r["request_id"], r["attempt"]) for r in retried] == [
        (flaky["id"], "trace-me-42", 1),
        (flaky["id"], "trace-me-42", 2),
    ]
    access = [json.loads(line) for line in api.logs().splitlines() if "trace-me-42" in line]
    assert [(a["message"], a["job_id"], a["status"]) for a in access] == [
        ("request", flaky["id"], 201)
    ]
