"""The README's curl examples work as printed against a real API and worker."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import ApiServer
from tests.support.procs import WorkerProcess, wait_until

pytestmark = pytest.mark.acceptance

README = Path(__file__).resolve().parents[2] / "README.md"


def curl_examples() -> list[str]:
    """The curl commands of the README's HTTP API section, continuation lines joined."""
    section = README.read_text().split("## HTTP API", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    return [
        line.split("   #")[0].strip()
        for line in block.splitlines()
        if line.strip().startswith("curl ")
    ]


def run(command: str, api: ApiServer, job_id: str) -> dict[str, Any]:
    command = command.replace("localhost:8080", f"127.0.0.1:{api.port}").replace("<id>", job_id)
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, (command, done.stderr)
    answer: dict[str, Any] = json.loads(done.stdout)
    assert "error" not in answer, (command, answer)
    return answer


def test_curl_examples_work_as_printed(
    api: ApiServer, worker_env: dict[str, str], tmp_path: Path
) -> None:
    examples = curl_examples()
    assert len(examples) >= 6
    retrying = run(examples[0], api, "")
    assert run(examples[1], api, retrying["id"])["id"] == retrying["id"]
    doomed = run(examples[2], api, "")
    worker = WorkerProcess(worker_env, tmp_path / "logs")
    try:
        wait_until(
            lambda: api.request("GET", f"/jobs/{doomed['id']}").json["status"] == "failed",
            30,
            "the failing job to reach the DLQ",
        )
        wait_until(
            lambda: api.request("GET", f"/jobs/{retrying['id']}").json["status"] == "completed",
            30,
            "the retrying job to complete",
        )
    finally:
        worker.close()
    assert [j["id"] for j in run(examples[3], api, "")["jobs"]] == [doomed["id"]]
    assert run(examples[4], api, "") == {"redriven": 1, "ids": [doomed["id"]], "dry_run": True}
    assert run(examples[5], api, "")["ids"] == [doomed["id"]]
