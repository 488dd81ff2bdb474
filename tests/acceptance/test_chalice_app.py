"""The Chalice app (infra/chalice) answers as `taskengine api` does, through
Chalice's test client and through `chalice local`."""

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from chalice.test import Client

from tests.support.http import ApiServer
from tests.support.procs import free_port, wait_until

PROJECT = Path(__file__).resolve().parents[2] / "infra" / "chalice"


def _load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chalice_app_under_test", PROJECT / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def chalice_client(monkeypatch: pytest.MonkeyPatch, worker_env: dict[str, str]) -> Iterator[Any]:
    for name, value in worker_env.items():
        monkeypatch.setenv(name, value)
    with Client(_load_app().app) as client:
        yield client


JSON = {"Content-Type": "application/json"}
CASES: list[tuple[str, str, bytes | None, dict[str, str]]] = [
    ("POST", "/jobs", b'{"payload": {"type": "noop"}}', JSON),
    ("POST", "/jobs", b'{"payload": {"type": "noop"}, "idempotency_key": "k-1"}', JSON),
    ("POST", "/jobs", b'{"payload": {"type": "noop"', JSON),
    ("POST", "/jobs", b'{"payload": {"type": "noop"}}', {"Content-Type": "text/plain"}),
    ("POST", "/jobs", b'{"payload": {"hello": 1}}', JSON),
    ("POST", "/jobs/batch", b'{"jobs": [{"payload": {"type": "noop"}}]}', JSON),
    ("GET", "/jobs/batch", None, {}),
    ("DELETE", "/jobs", None, {}),
    ("GET", "/jobs/00000000-0000-4000-8000-000000000000", None, {}),
    ("GET", "/jobs/not-a-uuid", None, {}),
    ("GET", "/jobs?limit=0", None, {}),
    ("GET", "/dlq?queue=default", None, {}),
    ("POST", "/dlq/redrive", b'{"dry_run": true}', JSON),
    ("GET", "/healthz", None, {}),
    ("GET", "/openapi.json", None, {}),
]


def _mask(body: bytes) -> Any:
    value = json.loads(body)
    if isinstance(value, dict):
        for key in ("id", "created_at", "updated_at", "run_at"):
            value.pop(key, None)
        for job in value.get("jobs", []):
            for key in ("id", "created_at", "updated_at", "run_at"):
                job.pop(key, None)
    return value


@pytest.mark.parametrize(("method", "path", "body", "headers"), CASES)
def test_the_chalice_app_answers_as_the_container_api(
    chalice_client: Any,
    api: ApiServer,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> None:
    # The API answers before and after the app, so an idempotent submit is compared
    # as a replay on both sides.
    api.request(method, path, raw=body, headers=headers)
    answered = chalice_client.http.request(method, path, headers=headers, body=body or b"")
    served = api.request(method, path, raw=body, headers=headers)
    assert answered.status_code == served.status, answered.body
    assert _mask(answered.body) == _mask(served.body)
    for name in ("Allow", "Retry-After", "Content-Type"):
        assert answered.headers.get(name) == served.headers.get(name)


def test_chalice_local_serves_the_routes(worker_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    chalice = str(Path(sys.executable).parent / "chalice")
    log = (tmp_path / "chalice.log").open("wb")
    process = subprocess.Popen(
        [chalice, "--project-dir", str(PROJECT), "local", "--port", str(port), "--no-autoreload"],
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        server = ApiServer.__new__(ApiServer)
        server.url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert process.poll() is None, (tmp_path / "chalice.log").read_text()
            try:
                return server.request("GET", "/healthz").status == 200
            except OSError:
                return False

        wait_until(up, 30, "chalice local")
        created = server.request("POST", "/jobs", {"payload": {"type": "noop"}})
        assert created.status == 201
        assert server.request("GET", f"/jobs/{created.json['id']}").json["status"] == "queued"
        assert server.request("GET", "/nowhere").status == 403
    finally:
        process.terminate()
        process.wait(10)
        log.close()
