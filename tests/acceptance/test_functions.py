"""The Lambda handlers, fed the events under tests/events/, against real PostgreSQL and
Redis: the same answers as `taskengine api` for the same requests, and the whole job
lifecycle through the functions alone."""

import base64
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions import dlq_redrive, get, process, submit
from tests.support.http import ApiServer, Reply
from tests.support.lambdas import Context, bind_environment, event, with_job_id

_HTTP_FUNCTIONS = {"submit": submit.handler, "get": get.handler, "dlq_redrive": dlq_redrive.handler}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)")
_PER_RESPONSE = {"x-request-id", "content-length", "date", "server"}


@pytest.fixture
def functions_env(monkeypatch: pytest.MonkeyPatch, worker_env: dict[str, str]) -> None:
    bind_environment(monkeypatch, worker_env)


def _invoke(function: str, loaded: dict[str, Any]) -> dict[str, Any]:
    return _HTTP_FUNCTIONS[function](loaded, Context(function_name=function))  # type: ignore[no-any-return]


def _same_request(api: ApiServer, loaded: dict[str, Any]) -> Reply:
    """What the event describes, sent to the container API over HTTP."""
    query = urllib.parse.urlencode(loaded["queryStringParameters"] or {})
    body = loaded["body"]
    raw = None
    if body is not None:
        raw = base64.b64decode(body) if loaded["isBase64Encoded"] else body.encode()
    headers = {
        name: value
        for name, value in loaded["headers"].items()
        if name.lower() in ("content-type", "idempotency-key", "accept")
    }
    path = loaded["path"] + (f"?{query}" if query else "")
    return api.request(loaded["httpMethod"], path, raw=raw, headers=headers)


def _normal(body: str | bytes) -> str:
    """The body with what differs per job (ids, timestamps) masked."""
    text = body.decode() if isinstance(body, bytes) else body
    return _TIME.sub("<time>", _UUID.sub("<uuid>", text))


def _ageless(answer: dict[str, Any]) -> dict[str, Any]:
    """GET /queues reports the oldest job's age, which grows between two reads."""
    for queue in answer.get("queues", []):
        queue.pop("oldest_ready_age_seconds")
    return answer


def _assert_same(handled: dict[str, Any], served: Reply) -> None:
    assert handled["statusCode"] == served.status, (handled, served.body)
    assert handled["isBase64Encoded"] is False
    assert _normal(handled["body"]) == _normal(served.body)
    for name, value in handled["headers"].items():
        if name.lower() not in _PER_RESPONSE:
            assert served.headers[name] == value, name


@pytest.mark.parametrize(
    ("function", "name"),
    [
        ("submit", "apigw_submit_job"),
        ("submit", "apigw_submit_job_idempotent"),
        ("submit", "apigw_submit_job_base64"),
        ("submit", "apigw_submit_batch"),
        ("submit", "apigw_submit_job_bad_json"),
        ("submit", "apigw_submit_job_missing_type"),
        ("submit", "apigw_submit_job_text_plain"),
        ("get", "apigw_get_job"),
        ("get", "apigw_get_job_bad_id"),
        ("get", "apigw_list_jobs_bad_cursor"),
        ("get", "apigw_healthz"),
        ("get", "apigw_readyz"),
        ("get", "apigw_openapi"),
        ("dlq_redrive", "apigw_dlq_redrive"),
        ("dlq_redrive", "apigw_dlq_redrive_bad_field"),
    ],
)
def test_each_event_gets_the_container_apis_answer(
    functions_env: None, api: ApiServer, function: str, name: str
) -> None:
    loaded = event(name)
    # The API goes first and again after the handler, so a state-changing request
    # (an idempotent submit) is compared in the same state: both as replays.
    _same_request(api, loaded)
    handled = _invoke(function, loaded)
    _assert_same(handled, _same_request(api, loaded))


def test_reads_of_existing_jobs_match(functions_env: None, api: ApiServer) -> None:
    created = _invoke("submit", event("apigw_submit_job"))
    job_id = json.loads(created["body"])["id"]
    _invoke("submit", event("apigw_submit_batch"))
    for function, loaded in (
        ("get", with_job_id(event("apigw_get_job"), job_id)),
        ("get", event("apigw_list_jobs")),
        ("get", event("apigw_queues")),
        ("dlq_redrive", event("apigw_dlq")),
    ):
        handled = _invoke(function, loaded)
        served = _same_request(api, loaded)
        assert handled["statusCode"] == served.status == 200
        assert _ageless(json.loads(handled["body"])) == _ageless(served.json)


def test_metrics_are_prometheus_text(functions_env: None) -> None:
    handled = _invoke("get", event("apigw_metrics"))
    assert handled["statusCode"] == 200
    assert handled["headers"]["Content-Type"].startswith("text/plain")
    assert "http_requests_total" in handled["body"]


def test_request_id_comes_from_the_header_or_api_gateway(functions_env: None) -> None:
    loaded = event("apigw_healthz")
    given = loaded["requestContext"]["requestId"]
    assert _invoke("get", loaded)["headers"]["X-Request-Id"] == given
    loaded["headers"]["X-Request-Id"] = "trace-42"
    loaded["multiValueHeaders"]["X-Request-Id"] = ["trace-42"]
    assert _invoke("get", loaded)["headers"]["X-Request-Id"] == "trace-42"


def _job(job_id: str) -> dict[str, Any]:
    answer = _invoke("get", with_job_id(event("apigw_get_job"), job_id))
    assert answer["statusCode"] == 200
    return json.loads(answer["body"])  # type: ignore[no-any-return]


def _process(loaded: dict[str, Any], seconds: float = 60) -> dict[str, Any]:
    return process.handler(loaded, Context(function_name="process", seconds=seconds))  # type: ignore[no-any-return]


def test_lifecycle_through_the_functions_only(functions_env: None) -> None:
    good = json.loads(_invoke("submit", event("apigw_submit_job"))["body"])
    failing = event(
        "apigw_submit_job",
        body=json.dumps({"payload": {"type": "demo", "fail_until_attempt": 1}, "max_attempts": 1}),
    )
    bad = json.loads(_invoke("submit", failing)["body"])

    summary = _process(event("scheduled"))
    assert summary | {"batches": 0} == {
        "processed": 2,
        "succeeded": 1,
        "retried": 0,
        "dead_lettered": 1,
        "batches": 0,
        "reaped": 0,
        "stopped_by": "empty",
    }
    assert _job(good["id"])["status"] == "completed"
    assert _job(good["id"])["result"] == {"type": "echo", "hello": "world"}
    dlq = json.loads(_invoke("dlq_redrive", event("apigw_dlq"))["body"])
    assert [job["id"] for job in dlq["jobs"]] == [bad["id"]]

    redriven = dlq_redrive.handler(event("dlq_redrive_direct"), Context(function_name="dlq"))
    assert redriven["redriven"] == 1
    summary = _process({"job_ids": [bad["id"]]})
    assert (summary["processed"], summary["succeeded"], summary["stopped_by"]) == (1, 1, "ids")
    assert _job(bad["id"])["status"] == "completed"


def test_retries_run_on_later_scheduled_drains(functions_env: None) -> None:
    flaky = event(
        "apigw_submit_job",
        body=json.dumps({"payload": {"type": "demo", "fail_until_attempt": 2}, "max_attempts": 5}),
    )
    job_id = json.loads(_invoke("submit", flaky)["body"])["id"]
    retried = 0
    deadline = time.monotonic() + 10
    while _job(job_id)["status"] != "completed":
        assert time.monotonic() < deadline
        retried += _process(event("scheduled"))["retried"]
        time.sleep(0.05)
    assert retried == 2
    assert _job(job_id)["attempts"] == 3


def test_a_drain_claims_nothing_once_time_is_short(functions_env: None) -> None:
    job_id = json.loads(_invoke("submit", event("apigw_submit_job"))["body"])["id"]
    summary = _process(event("scheduled"), seconds=5)  # margin: 10 s
    assert (summary["processed"], summary["stopped_by"]) == (0, "deadline")
    assert _job(job_id)["status"] == "queued"


def test_a_batch_cut_off_by_a_timeout_runs_again(
    monkeypatch: pytest.MonkeyPatch, worker_env: dict[str, str]
) -> None:
    # An invocation killed at its timeout leaves its claimed jobs running with a
    # lease; the next scheduled drain reaps them and runs them.
    bind_environment(monkeypatch, {**worker_env, "TASKENGINE_LEASE_SECONDS": "1"})
    job_id = json.loads(_invoke("submit", event("apigw_submit_job"))["body"])["id"]
    from functions.environment import drainer

    claimed = drainer().processor.claim(["default"], 10)  # ... and the process dies here
    assert [str(job.id) for job in claimed.jobs] == [job_id]
    time.sleep(1.3)
    summary = _process(event("scheduled"))
    assert (summary["reaped"], summary["succeeded"]) == (1, 1)
    assert _job(job_id)["attempts"] == 2
    assert _job(job_id)["status"] == "completed"


def test_submit_nudges_process_with_the_ids_it_created(
    monkeypatch: pytest.MonkeyPatch, worker_env: dict[str, str]
) -> None:
    invocations: list[tuple[str, str | None, bytes]] = []

    class InvokeApi(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            invocations.append((self.path, self.headers["X-Amz-Invocation-Type"], body))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), InvokeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bind_environment(
        monkeypatch,
        {
            **worker_env,
            "TASKENGINE_PROCESS_FUNCTION": "task-engine-process",
            "TASKENGINE_LAMBDA_ENDPOINT_URL": f"http://127.0.0.1:{server.server_port}",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "eu-west-1",
        },
    )
    submit._lambda_client.cache_clear()
    try:
        created = json.loads(_invoke("submit", event("apigw_submit_batch"))["body"])["jobs"]
        _invoke("submit", event("apigw_submit_job_bad_json"))  # nothing created: no nudge
    finally:
        server.shutdown()
        submit._lambda_client.cache_clear()
    assert len(invocations) == 1
    path, kind, payload = invocations[0]
    assert (path, kind) == ("/2015-03-31/functions/task-engine-process/invocations", "Event")
    nudge = json.loads(payload)
    assert nudge == {**event("process_nudge"), "job_ids": [job["id"] for job in created]}
    summary = _process(nudge)
    assert (summary["processed"], summary["succeeded"], summary["dead_lettered"]) == (4, 3, 1)


def test_an_explicit_batch_skips_jobs_that_are_not_due(functions_env: None) -> None:
    later = event(
        "apigw_submit_job", body=json.dumps({"payload": {"type": "noop"}, "delay_seconds": 60})
    )
    job_id = json.loads(_invoke("submit", later)["body"])["id"]
    summary = _process({**event("process_job_ids"), "job_ids": [job_id]})
    assert summary["processed"] == 0
    assert _job(job_id)["status"] == "queued"


def test_process_rejects_an_unknown_event(functions_env: None) -> None:
    with pytest.raises(ValueError, match="unrecognised event"):
        _process({"hello": "world"})
    with pytest.raises(ValueError, match="UUID"):
        _process({"job_ids": ["nope"]})


def test_direct_redrive_with_a_bad_body_fails_the_invocation(functions_env: None) -> None:
    with pytest.raises(dlq_redrive.RedriveRejected, match="bad_request"):
        dlq_redrive.handler({"queues": "x"}, Context(function_name="dlq"))
