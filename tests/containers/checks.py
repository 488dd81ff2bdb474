"""What the container tests ask of a running stack: through its API (which reads
PostgreSQL), Prometheus' HTTP API and the containers themselves."""

import json
import time
import urllib.parse
import urllib.request
from typing import Any

from docker.models.containers import Container

from core.client import Client
from infra.stack import Stack

TERMINAL = {"completed", "failed"}


def submit_all(api: Client, items: list[dict[str, Any]], batch: int = 500) -> list[str]:
    """POST /jobs/batch in slices; the ids in submission order."""
    ids: list[str] = []
    for start in range(0, len(items), batch):
        ids += [job["id"] for job in api.submit_batch(items[start : start + batch])]
    return ids


def wait_settled(api: Client, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Every job of `ids` once all are completed or failed; a job that PostgreSQL no
    longer knows, or that never settles, fails the wait."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = {job["id"]: job for job in api.iter_jobs()}
        pending = [i for i in ids if jobs.get(i, {}).get("status") not in TERMINAL]
        if not pending:
            return {i: jobs[i] for i in ids}
        if time.monotonic() > deadline:
            sample = jobs.get(pending[0], "unknown to PostgreSQL")
            raise AssertionError(
                f"{len(pending)} of {len(ids)} jobs unsettled after {timeout:.0f} s: {sample}"
            )
        time.sleep(1)


def by_status(jobs: dict[str, dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in jobs.values():
        counts[job["status"]] = counts.get(job["status"], 0) + 1
    return counts


def active_jobs(worker: Container) -> int:
    """worker_active_jobs from the worker's own /metrics (its port is not published)."""
    code, out = worker.exec_run(
        [
            "python3",
            "-c",
            "import urllib.request; print(urllib.request.urlopen("
            "'http://127.0.0.1:9091/metrics', timeout=5).read().decode())",
        ]
    )
    assert code == 0, out.decode(errors="replace")
    for line in out.decode().splitlines():
        if line.startswith("worker_active_jobs"):
            return int(float(line.split()[-1]))
    raise AssertionError("worker_active_jobs is missing from the worker's /metrics")


def wait_holding(worker: Container, timeout: float = 30) -> int:
    """How many jobs `worker` runs, once it runs at least one."""
    deadline = time.monotonic() + timeout
    while (held := active_jobs(worker)) == 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"{worker.name} ran no job within {timeout:.0f} s")
        time.sleep(0.1)
    return held


def prometheus(stack: Stack, path: str, **params: str) -> Any:
    url = f"{stack.prometheus_url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    return answer["data"]


def scraped_up(stack: Stack, job: str) -> set[str]:
    """Addresses of the targets of a scrape job whose last scrape succeeded."""
    targets = prometheus(stack, "targets", state="active")["activeTargets"]
    return {
        t["labels"]["instance"]
        for t in targets
        if t["labels"]["job"] == job and t["health"] == "up"
    }


def query_value(stack: Stack, expression: str) -> float | None:
    result = prometheus(stack, "query", query=expression)["result"]
    return float(result[0]["value"][1]) if result else None


def worker_addresses(stack: Stack) -> set[str]:
    return {
        f"{c.attrs['NetworkSettings']['Networks'][stack.network]['IPAddress']}:9091"
        for c in stack.containers("worker")
    }
