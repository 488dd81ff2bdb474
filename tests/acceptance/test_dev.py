"""`taskengine dev` gives a working system on a machine with no services."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.procs import TASKENGINE, free_port, wait_until

pytestmark = pytest.mark.acceptance


def _get(url: str) -> dict[str, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except OSError:
        return None


def test_dev_starts_embedded_services_and_runs_jobs() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="te-dev-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(TASKENGINE_DATA_DIR=str(data_dir), TASKENGINE_REDIS_PREFIX="dev")
    port, api_port = free_port(), free_port()
    log = data_dir / "dev.log"
    with log.open("wb") as out:
        dev = subprocess.Popen(
            [TASKENGINE, "dev", "--metrics-port", str(port), "--api-port", str(api_port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: "task-engine is running" in log.read_text(), 90, "dev banner")
            text = log.read_text()
            urls = dict(re.findall(r"export (DATABASE_URL|REDIS_URL)='([^']+)'", text))
            assert set(urls) == {"DATABASE_URL", "REDIS_URL"}
            client_env = {**env, **urls}
            submitted = subprocess.run(
                [TASKENGINE, "submit", '{"type": "echo", "hello": "dev"}'],
                env=client_env,
                capture_output=True,
                text=True,
                check=True,
            )
            job_id = json.loads(submitted.stdout)["id"]

            def completed() -> bool:
                shown = subprocess.run(
                    [TASKENGINE, "get", job_id], env=client_env, capture_output=True, text=True
                )
                return shown.returncode == 0 and json.loads(shown.stdout)["status"] == "completed"

            wait_until(completed, 30, "the job to complete", interval=0.3)

            api = f"http://127.0.0.1:{api_port}"
            wait_until(lambda: _get(f"{api}/healthz") is not None, 30, "the dev API")
            request = urllib.request.Request(
                f"{api}/jobs",
                method="POST",
                headers={"Content-Type": "application/json"},
                data=json.dumps({"payload": {"type": "echo", "via": "http"}}).encode(),
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                http_job = json.loads(response.read())
            wait_until(
                lambda: (_get(f"{api}/jobs/{http_job['id']}") or {}).get("status") == "completed",
                30,
                "the HTTP job to complete",
                interval=0.3,
            )
            started = time.monotonic()
            dev.send_signal(signal.SIGTERM)
            assert dev.wait(30) == 0
            assert time.monotonic() - started < 30
        finally:
            if dev.poll() is None:
                dev.kill()
                dev.wait()
            shutil.rmtree(data_dir, ignore_errors=True)
